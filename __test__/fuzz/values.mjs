// Building blocks of the boundary fuzz suite (__test__/fuzz.test.mjs): a seeded PRNG, the secret
// key every case embeds, and pools of malformed values. A value is `[name, factory]`: the name
// describes the input in reports (it never contains the key), the factory builds it for one case
// from a context `{ KEY, HEX, mockURL, refusedURL, userError(label) }`.

/** mulberry32: a tiny, fast, seedable 32-bit PRNG. */
export function mulberry32(seed) {
  let a = seed >>> 0
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A 32-bit hash of a seed and a case number, so any case is generated without the others. */
export function caseSeed(seed, i) {
  let h = (seed ^ 0x9e3779b9) >>> 0
  h = Math.imul(h ^ (i + 0x7f4a7c15), 0x85ebca6b) >>> 0
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}

export const DEFAULT_SEED = 0x5317c4ad

export function seedFromEnv() {
  const raw = process.env.SWITCHYARD_FUZZ_SEED
  if (raw === undefined || raw.trim() === '') return DEFAULT_SEED
  const n = Number(raw)
  if (!Number.isInteger(n)) throw new Error(`SWITCHYARD_FUZZ_SEED must be an integer, got ${raw}`)
  return n >>> 0
}

/** The secret every case hides somewhere: `sk-fuzz-` + 32 hex characters derived from the seed. */
export function secretFor(seed) {
  const rng = mulberry32(seed ^ 0x51c7e7)
  let hex = ''
  for (let i = 0; i < 32; i++) hex += Math.floor(rng() * 16).toString(16)
  return { KEY: `sk-fuzz-${hex}`, HEX: hex }
}

/** Every form in which the secret would count as leaked (full, halves, base64 of it and of basic auth). */
export function leakNeedles(KEY, HEX) {
  return [
    KEY,
    HEX,
    HEX.slice(0, 16),
    HEX.slice(16),
    Buffer.from(KEY).toString('base64'),
    Buffer.from(`user:${KEY}`).toString('base64'),
    Buffer.from(`:${KEY}`).toString('base64'),
    encodeURIComponent(KEY),
  ]
}

/** Replaces every leaked form of the key by `<KEY>`. */
export function redactor(KEY, HEX) {
  const needles = [...new Set(leakNeedles(KEY, HEX))].sort((a, b) => b.length - a.length)
  return (text) => {
    let out = String(text)
    for (const n of needles) out = out.split(n).join('<KEY>')
    return out
  }
}

// ---- factories --------------------------------------------------------------------------------

const MB = 1024 * 1024

function deepArray(depth) {
  let a = []
  for (let i = 0; i < depth; i++) a = [a]
  return a
}

function deepObject(depth, leafKey = 'x') {
  let o = {}
  for (let i = 0; i < depth; i++) o = { [leafKey]: o }
  return o
}

function cyclicObject() {
  const o = { a: 1 }
  o.self = o
  o.nested = { back: o }
  return o
}

function cyclicArray() {
  const a = [1]
  a.push(a)
  return a
}

/** A Proxy all of whose traps throw the case's marked user error. */
export function throwingProxy(ctx, label, target = {}) {
  const boom = () => ctx.userError(`${label} (proxy trap)`)
  return new Proxy(target, {
    get: boom,
    set: boom,
    has: boom,
    ownKeys: boom,
    getOwnPropertyDescriptor: boom,
    getPrototypeOf: boom,
    setPrototypeOf: boom,
    defineProperty: boom,
    deleteProperty: boom,
    isExtensible: boom,
    preventExtensions: boom,
    apply: boom,
    construct: boom,
  })
}

/** An object whose listed properties are getters that throw the case's marked user error. */
export function throwingGetters(ctx, label, names) {
  const o = {}
  for (const name of names) {
    Object.defineProperty(o, name, { enumerable: true, get: () => ctx.userError(`${label}.${name} getter`) })
  }
  return o
}

// The generic malformed values, usable wherever an argument or a field is read.
// `user: true` marks values that run user code which throws (proxies, getters, toString, ...).
export const GENERIC = [
  ['undefined', () => undefined],
  ['null', () => null],
  ['true', () => true],
  ['false', () => false],
  ['0', () => 0],
  ['-1', () => -1],
  ['NaN', () => NaN],
  ['Infinity', () => Infinity],
  ['-Infinity', () => -Infinity],
  ['2**53', () => 2 ** 53],
  ['-(2**53)', () => -(2 ** 53)],
  ['1e308', () => 1e308],
  ['0.5', () => 0.5],
  ['-0', () => -0],
  ['10n (bigint)', () => 10n],
  ['2n**70n (bigint)', () => 2n ** 70n],
  ['Symbol()', () => Symbol('fuzz')],
  ['Symbol(KEY)', (c) => Symbol(c.KEY)],
  ['function', () => function fuzz() {}],
  ['arrow fn returning KEY', (c) => () => c.KEY],
  ['class', () => class Fuzz {}],
  ['[]', () => []],
  ['[1, "a", null]', () => [1, 'a', null]],
  ["['sk', KEY]", (c) => ['sk', c.KEY]],
  ['{}', () => ({})],
  ['{ key: KEY }', (c) => ({ key: c.KEY })],
  ['Date', () => new Date(0)],
  ['invalid Date', () => new Date(NaN)],
  ['Map(KEY => KEY)', (c) => new Map([[c.KEY, c.KEY]])],
  ['Set', () => new Set([1, 2])],
  ['RegExp', () => /fuzz/g],
  ['Error object', () => new Error('not a value')],
  ['Buffer(KEY)', (c) => Buffer.from(c.KEY)],
  ['Uint8Array(3)', () => new Uint8Array(3)],
  ['Promise', () => Promise.resolve('x')],
  ['WeakMap', () => new WeakMap()],
  ['Object.create(null)', () => Object.create(null)],
  ['frozen {}', () => Object.freeze({})],
  ['frozen [1]', () => Object.freeze([1])],
  ['throwing Proxy', (c) => throwingProxy(c, 'value'), { user: true }],
  ['throwing Proxy (array target)', (c) => throwingProxy(c, 'value', []), { user: true }],
  ['object with toString that throws', (c) => ({ toString: () => c.userError('toString') }), { user: true }],
  ['object with valueOf that throws', (c) => ({ valueOf: () => c.userError('valueOf') }), { user: true }],
  ['object with toJSON that throws', (c) => ({ toJSON: () => c.userError('toJSON') }), { user: true }],
  ['object with Symbol.toPrimitive that throws', (c) => ({ [Symbol.toPrimitive]: () => c.userError('toPrimitive') }), { user: true }],
  ['object whose toString returns KEY', (c) => ({ toString: () => c.KEY })],
  ['cyclic object', () => cyclicObject()],
  ['cyclic array', () => cyclicArray()],
  ['array nested 10,000 deep', () => deepArray(10_000)],
  ['object nested 10,000 deep', () => deepObject(10_000)],
  ['1 MB string', () => 'a'.repeat(MB)],
  ['1 MB string ending in KEY', (c) => 'a'.repeat(MB) + c.KEY],
  ['string with CR/LF', () => 'line1\r\nX-Injected: yes'],
  ['string with NUL', () => 'a\u0000b'],
  ['empty string', () => ''],
  ['whitespace string', () => ' \t\n '],
  ['lone surrogate string', () => 'x\uD800y'],
  ['KEY', (c) => c.KEY],
  ['KEY + CRLF', (c) => `${c.KEY}\r\nX-Injected: 1`],
  ['new String(KEY)', (c) => new String(c.KEY)],
  ['number-ish KEY (Number(0x<hex>))', (c) => Number(`0x${c.HEX}`)],
  ['new Number(1)', () => new Number(1)],
]

// Values for a field that is read as a number (timeouts, retries, tokens, temperature).
export const NUMBERS = [
  ['-1', () => -1],
  ['NaN', () => NaN],
  ['Infinity', () => Infinity],
  ['-Infinity', () => -Infinity],
  ['2**53', () => 2 ** 53],
  ['2**32', () => 2 ** 32],
  ['2**31', () => 2 ** 31],
  ['1.5', () => 1.5],
  ['-0', () => -0],
  ['0', () => 0],
  ['1e308', () => 1e308],
  ['"100" (string)', () => '100'],
  ['"abc" (string)', () => 'abc'],
  ['10n (bigint)', () => 10n],
  ['2n**64n (bigint)', () => 2n ** 64n],
  ['null', () => null],
  ['{}', () => ({})],
  ['[]', () => []],
  ['[5]', () => [5]],
  ['true', () => true],
  ['Symbol()', () => Symbol('n')],
  ['Date', () => new Date(0)],
  ['new Number(5)', () => new Number(5)],
  ['object with valueOf that throws', (c) => ({ valueOf: () => c.userError('valueOf') }), { user: true }],
  ['throwing Proxy', (c) => throwingProxy(c, 'number'), { user: true }],
  ['function', () => () => 1],
]

/** URL-ish values: every host is 127.0.0.1 (or unparsable), never another machine. */
export const URLS = [
  ['not a URL', () => 'not a url'],
  ['relative path', () => '/v1'],
  ['ftp:// URL', () => 'ftp://127.0.0.1/x'],
  ['file:// URL', () => 'file:///etc/hostname'],
  ['javascript: URL', () => 'javascript:alert(1)'],
  ['"http://" (no host)', () => 'http://'],
  ['unclosed IPv6 host', () => 'http://[::1'],
  ['port 99999', () => 'http://127.0.0.1:99999'],
  ['URL with CR/LF', (c) => `${c.mockURL}\r\nX-Injected: 1`],
  ['URL with NUL', (c) => `${c.mockURL}/\u0000`],
  ['URL with KEY in userinfo (mock)', (c) => c.mockURL.replace('http://', `http://user:${c.KEY}@`)],
  ['URL with KEY in userinfo (refused)', (c) => `http://user:${c.KEY}@127.0.0.1:1`],
  ['URL with KEY as username only', (c) => c.mockURL.replace('http://', `http://${c.KEY}@`)],
  ['URL with KEY in the query', (c) => `${c.mockURL}/?api_key=${c.KEY}`],
  ['unparsable URL containing KEY', (c) => `http://${c.KEY}:notaport@`],
  ['mock URL', (c) => c.mockURL],
  ['refused URL 127.0.0.1:1', (c) => c.refusedURL],
  ['URL object (mock)', (c) => new URL(c.mockURL)],
  ['1 MB URL', (c) => `${c.mockURL}/${'a'.repeat(MB)}`],
  ['empty string', () => ''],
]

/** apiKey in wrong (and some right) forms, all carrying the secret. */
export const API_KEYS = [
  ["['sk', KEY]", (c) => ['sk', c.KEY]],
  ['[KEY]', (c) => [c.KEY]],
  ['{ key: KEY }', (c) => ({ key: c.KEY })],
  ['{ apiKey: KEY, nested: { KEY } }', (c) => ({ apiKey: c.KEY, nested: { KEY: c.KEY } })],
  ['Map(KEY => KEY)', (c) => new Map([[c.KEY, c.KEY]])],
  ['Buffer(KEY)', (c) => Buffer.from(c.KEY)],
  ['new String(KEY)', (c) => new String(c.KEY)],
  ['Symbol(KEY)', (c) => Symbol(c.KEY)],
  ['number-ish KEY (Number(0x<hex>))', (c) => Number(`0x${c.HEX}`)],
  ['bigint of the hex', (c) => BigInt(`0x${c.HEX}`)],
  ['function returning KEY', (c) => () => c.KEY],
  ['object whose toString returns KEY', (c) => ({ toString: () => c.KEY })],
  ['Date with KEY prop', (c) => Object.assign(new Date(0), { key: c.KEY })],
  ['Error whose message is KEY', (c) => new Error(c.KEY)],
  ['KEY + CRLF', (c) => `${c.KEY}\r\nX-Injected: 1`],
  ['KEY + NUL', (c) => `${c.KEY}\u0000`],
  ['KEY with non-ASCII', (c) => `${c.KEY}\u00e9\u4e2d`],
  ['1 MB string ending in KEY', (c) => 'a'.repeat(MB) + c.KEY],
  ['KEY (valid)', (c) => c.KEY],
  ['empty string', () => ''],
  ['null', () => null],
  ['NaN', () => NaN],
  ['frozen { KEY }', (c) => Object.freeze({ KEY: c.KEY })],
  ['throwing Proxy', (c) => throwingProxy(c, 'apiKey'), { user: true }],
  ['object with toString that throws', (c) => ({ toString: () => c.userError('apiKey.toString') }), { user: true }],
  ['cyclic object holding KEY', (c) => Object.assign(cyclicObject(), { k: c.KEY })],
]

/** Header maps (and things that are not header maps). */
export const HEADERS = [
  ['1 MB string (used to SIGABRT)', () => 'h'.repeat(MB)],
  ['short string', () => 'x-a: b'],
  ['string containing KEY', (c) => `Authorization: Bearer ${c.KEY}`],
  ['{ "x-k": KEY }', (c) => ({ 'x-k': c.KEY })],
  ['{ Authorization: "Bearer " + KEY }', (c) => ({ Authorization: `Bearer ${c.KEY}` })],
  ['header name with CR/LF', () => ({ 'x-a\r\nX-Injected': 'v' })],
  ['header value with CR/LF + KEY', (c) => ({ 'x-a': `v\r\nX-Injected: ${c.KEY}` })],
  ['header value with NUL', () => ({ 'x-a': 'a\u0000b' })],
  ['header value with NUL + KEY', (c) => ({ 'x-a': `${c.KEY}\u0000` })],
  ['header name with NUL', () => ({ 'x\u0000a': 'v' })],
  ['header name with space', () => ({ 'x a': 'v' })],
  ['header name = KEY + ":"', (c) => ({ [`${c.KEY}:`]: 'v' })],
  ['header name = KEY + CRLF', (c) => ({ [`${c.KEY}\r\n`]: 'v' })],
  ['empty header name', () => ({ '': 'v' })],
  ['1 MB header value', () => ({ 'x-big': 'v'.repeat(MB) })],
  ['1 MB header name', () => ({ ['n'.repeat(MB)]: 'v' })],
  ['10,000 headers', () => Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`x-h${i}`, 'v']))],
  ['100,000 headers', () => Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`x-h${i}`, 'v']))],
  ['header value: object holding KEY', (c) => ({ 'x-a': { k: c.KEY } })],
  ["header value: ['sk', KEY]", (c) => ({ 'x-a': ['sk', c.KEY] })],
  ['header value: Symbol(KEY)', (c) => ({ 'x-a': Symbol(c.KEY) })],
  ['header value: bigint', () => ({ 'x-a': 10n })],
  ['header value: NaN', () => ({ 'x-a': NaN })],
  ['header value: function', () => ({ 'x-a': () => 1 })],
  ['header value: null (removes)', () => ({ authorization: null })],
  ['header value: toString throws', (c) => ({ 'x-a': { toString: () => c.userError('header toString') } }), { user: true }],
  ['header value: throwing getter', (c) => throwingGetters(c, 'headers', ['x-a']), { user: true }],
  ['throwing Proxy', (c) => throwingProxy(c, 'headers'), { user: true }],
  ['Map of headers with KEY', (c) => new Map([['x-k', c.KEY]])],
  ['array of pairs with KEY', (c) => [['x-k', c.KEY]]],
  ['array of 1 MB strings', () => ['a'.repeat(MB)]],
  ['frozen headers', (c) => Object.freeze({ 'x-k': c.KEY })],
  ['Object.create(null) headers', (c) => Object.assign(Object.create(null), { 'x-k': c.KEY })],
  ['number', () => 42],
  ['true', () => true],
  ['Symbol-keyed header', () => ({ [Symbol('h')]: 'v' })],
  ['cyclic header object', () => cyclicObject()],
]

/** Proxy configs: every proxy is 127.0.0.1:1 (refused) or unparsable. */
export const PROXIES = [
  ['{ httpProxy: user:KEY@127.0.0.1:1 }', (c) => ({ httpProxy: `http://user:${c.KEY}@127.0.0.1:1` })],
  ['{ httpsProxy: user:KEY@127.0.0.1:1 }', (c) => ({ httpsProxy: `http://user:${c.KEY}@127.0.0.1:1` })],
  ['{ httpProxy: socks5://KEY@127.0.0.1:1 }', (c) => ({ httpProxy: `socks5://${c.KEY}@127.0.0.1:1` })],
  ['{ httpProxy: unparsable string with KEY }', (c) => ({ httpProxy: `not a url ${c.KEY}` })],
  ['{ httpProxy: "http://user:KEY@[bad" }', (c) => ({ httpProxy: `http://user:${c.KEY}@[bad` })],
  ['{ httpProxy: URL with CR/LF }', () => ({ httpProxy: 'http://127.0.0.1:1\r\nX: y' })],
  ['{ httpProxy: 123 }', () => ({ httpProxy: 123 })],
  ['{ httpProxy: { url: KEY } }', (c) => ({ httpProxy: { url: c.KEY } })],
  ["{ httpProxy: ['http://127.0.0.1:1', KEY] }", (c) => ({ httpProxy: ['http://127.0.0.1:1', c.KEY] })],
  ['{ noProxy: ["a", "b"] }', () => ({ noProxy: ['a', 'b'] })],
  ['{ noProxy: 5 }', () => ({ noProxy: 5 })],
  ['{ noProxy: "*" }', () => ({ noProxy: '*' })],
  ['{ httpProxy: 1 MB string }', () => ({ httpProxy: 'p'.repeat(MB) })],
  ['{ httpProxy: "" }', () => ({ httpProxy: '' })],
  ['{ httpsProxy: null, httpProxy: undefined }', () => ({ httpsProxy: null, httpProxy: undefined })],
  ['proxy config as string URL with KEY', (c) => `http://user:${c.KEY}@127.0.0.1:1`],
  ['proxy config with throwing getters', (c) => throwingGetters(c, 'proxyConfig', ['httpProxy', 'httpsProxy', 'noProxy']), { user: true }],
  ['throwing Proxy', (c) => throwingProxy(c, 'proxyConfig'), { user: true }],
  ['array', () => ['http://127.0.0.1:1']],
  ['number', () => 7],
  ['Symbol', () => Symbol('p')],
]

/** AbortSignal-shaped and not. */
export const SIGNALS = [
  ['{} (not a signal)', () => ({})],
  ['{ aborted: true }', () => ({ aborted: true })],
  ['{ aborted: false } without addEventListener', () => ({ aborted: false })],
  ['signal whose addEventListener throws', (c) => ({ aborted: false, addEventListener: () => c.userError('addEventListener'), removeEventListener() {} }), { user: true }],
  ['signal with throwing "aborted" getter', (c) => throwingGetters(c, 'signal', ['aborted']), { user: true }],
  ['already-aborted AbortSignal', () => AbortSignal.abort()],
  ['AbortSignal.abort(reason holding KEY)', (c) => AbortSignal.abort(new Error(`reason ${c.KEY}`))],
  ['AbortSignal.timeout(1)', () => AbortSignal.timeout(1)],
  ['live AbortSignal', () => new AbortController().signal],
  ['EventTarget', () => new EventTarget()],
  ['string', () => 'abort'],
  ['number', () => 1],
  ['throwing Proxy', (c) => throwingProxy(c, 'signal'), { user: true }],
  ['function', () => () => {}],
]

export const MB_SIZE = MB
export { deepArray, deepObject, cyclicObject, cyclicArray }

// One fuzz child: runs cases [start, end) of a seed, one at a time, and reports each case's start
// and result to the parent over IPC. Every network-bound call goes to a mock upstream on
// 127.0.0.1 started here (or to 127.0.0.1:1, refused): every provider's base-URL variable points
// at the mock, proxy variables are removed, and every key variable holds the fuzz secret so
// env-derived keys are checked for leaks too.
//
// usage (from fuzz.test.mjs): fork(child.mjs, [seed, start, end])

import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import util from 'node:util'
import crypto from 'node:crypto'
import { caseAt } from './cases.mjs'
import { secretFor, leakNeedles, redactor } from './values.mjs'

const CASE_TIMEOUT_MS = Number(process.env.SWITCHYARD_FUZZ_CASE_TIMEOUT_MS) || 5000
const ALLOW_INTERNAL = process.env.SWITCHYARD_FUZZ_ALLOW_INTERNAL === '1'
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const require = createRequire(join(root, 'package.json'))

const [seedArg, startArg, endArg] = process.argv.slice(2)
const seed = Number(seedArg) >>> 0
const start = Number(startArg)
const end = Number(endArg)
const { KEY, HEX } = secretFor(seed)
const NEEDLES = leakNeedles(KEY, HEX)
const redact = redactor(KEY, HEX)
const hasLeak = (s) => typeof s === 'string' && NEEDLES.some((n) => s.includes(n))
const short = (s, n = 240) => {
  const r = redact(s).replace(/\s+/g, ' ')
  return r.length > n ? `${r.slice(0, n)}…` : r
}

function send(message) {
  return new Promise((resolve) => {
    if (!process.connected) return resolve()
    process.send(message, (err) => resolve(err))
  })
}

// ---- the case being run, and what happens outside the calls ------------------------------------

let current = null // { i, failures, fired: Error[], phase, cause }
const stray = []

function fail(cat, detail) {
  const entry = { cat, detail: short(detail ?? '') }
  if (current) current.failures.push(entry)
  else stray.push(entry)
}

// Output: anything the library prints (warnings included) is scanned for the key.
for (const name of ['stdout', 'stderr']) {
  const stream = process[name]
  const write = stream.write.bind(stream)
  stream.write = (chunk, ...rest) => {
    try {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1')
      if (hasLeak(text)) fail(`leak:${name}`, `${name} got: ${text}`)
    } catch {
      // never let the scan break a write
    }
    return write(chunk, ...rest)
  }
}

process.on('unhandledRejection', (reason) => {
  fail('unhandled-rejection', `unhandled rejection: ${describeThrown(reason)}`)
})
process.on('uncaughtException', (err) => {
  fail('uncaught-exception', `uncaught exception: ${describeThrown(err)}`)
})

// JS-side network guard (document attachments, Vertex token exchange): 127.0.0.1 only.
const realFetch = globalThis.fetch
globalThis.fetch = function guardedFetch(input, init) {
  let host
  try {
    host = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input?.url).hostname
  } catch {
    host = undefined // unparsable: fetch itself rejects it
  }
  if (host !== undefined && host !== '127.0.0.1') {
    fail('network-escape', `fetch to a non-local host ${host}`)
    return Promise.reject(new TypeError('fuzz harness: blocked a non-local fetch'))
  }
  return realFetch(input, init)
}

// ---- environment ------------------------------------------------------------------------------

const testing = require('./lib/testing.js')
const mock = await testing.startMockUpstream({
  handler(req) {
    const path = req.path.split('?')[0]
    if (req.method === 'POST' && /chat\/completions$/.test(path)) {
      if (req.json?.stream === true) return { sse: testing.streamChunks({ content: 'ok there', model: 'fuzz-model', includeUsage: true }) }
      return { json: testing.completion({ content: 'ok', model: 'fuzz-model' }) }
    }
    if (/\/models$/.test(path)) return { json: { object: 'list', data: [{ id: 'fuzz-model', object: 'model', owned_by: 'fuzz' }] } }
    if (/embeddings$/.test(path)) {
      return { json: { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model: 'fuzz-model', usage: { prompt_tokens: 1, total_tokens: 1 } } }
    }
    if (/\/health$/.test(path)) return { json: { status: 'ok' } }
    // A fixed body: the mock never echoes the request, so a leak is the library's own.
    return { error: { status: 404, body: { error: { message: 'fuzz mock: no such route', type: 'invalid_request_error' } } } }
  },
})
const mockURL = mock.url
const refusedURL = 'http://127.0.0.1:1'

for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) delete process.env[name]
process.env.NO_PROXY = '127.0.0.1,localhost'
process.env.no_proxy = '127.0.0.1,localhost'
for (const name of ['GOOGLE_APPLICATION_CREDENTIALS', 'VERTEXAI_CREDENTIALS', 'VERTEX_CREDENTIALS', 'USE_LITELLM', 'NEXT_PUBLIC_USE_LITELLM', 'NEXT_PUBLIC_LITELLM_URL']) delete process.env[name]

const api = require('./lib/index.js')
for (const profile of api.listProviders()) {
  for (const name of profile.baseUrlEnv) process.env[name] = mockURL
  for (const name of profile.apiKeyEnv) process.env[name] = KEY
}
process.env.LITELLM_URL = mockURL
process.env.LITELLM_API_KEY = KEY
process.env.AWS_ACCESS_KEY_ID = 'AKIAFUZZFUZZFUZZFUZZ'
process.env.AWS_SECRET_ACCESS_KEY = KEY
process.env.AWS_SESSION_TOKEN = KEY
process.env.AWS_REGION = 'us-east-1'
process.env.VERTEXAI_PROJECT = 'fuzz-project'
process.env.VERTEXAI_LOCATION = 'us-central1'
process.env.AZURE_API_VERSION = '2024-06-01'

const { SwitchyardError, ERROR_KINDS } = api
const zod = require('zod')

// ---- checks -----------------------------------------------------------------------------------

const BUILTIN_PROTOS = new Set([Object.prototype, Error.prototype, Function.prototype, Array.prototype, Map.prototype, Set.prototype, Promise.prototype, Date.prototype, RegExp.prototype, String.prototype, Number.prototype, Boolean.prototype, Symbol.prototype])
for (const E of [TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError]) BUILTIN_PROTOS.add(E.prototype)
BUILTIN_PROTOS.add(Object.getPrototypeOf(Uint8Array.prototype))
BUILTIN_PROTOS.add(Uint8Array.prototype)
BUILTIN_PROTOS.add(Buffer.prototype)

const isProxy = (v) => util.types.isProxy(v)

/** Every path under `value` (own and inherited, enumerable or not, getters called) holding the key. */
function findLeaks(value, path, hits, state = { seen: new Set(), budget: 60_000 }, depth = 0) {
  if (hits.length > 20) return hits
  const t = typeof value
  if (t === 'string') {
    if (hasLeak(value)) hits.push(path)
    return hits
  }
  if (t === 'symbol') {
    if (hasLeak(value.description)) hits.push(`${path} (symbol)`)
    return hits
  }
  if (t === 'number' || t === 'bigint') {
    if (hasLeak(String(value))) hits.push(path)
    return hits
  }
  if (value === null || (t !== 'object' && t !== 'function')) return hits
  if (t === 'function' || isProxy(value) || state.seen.has(value) || depth > 40 || --state.budget < 0) return hits
  state.seen.add(value)
  if (ArrayBuffer.isView(value)) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, Math.min(value.byteLength, 8 * 1024 * 1024))
    if (hasLeak(bytes.toString('latin1'))) hits.push(`${path} (bytes)`)
    return hits
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      findLeaks(k, `${path}<map key>`, hits, state, depth + 1)
      findLeaks(v, `${path}<map value>`, hits, state, depth + 1)
    }
  } else if (value instanceof Set) {
    for (const v of value) findLeaks(v, `${path}<set>`, hits, state, depth + 1)
  }
  for (let o = value; o !== null && o !== undefined && !BUILTIN_PROTOS.has(o); ) {
    let keys
    try {
      keys = Reflect.ownKeys(o)
    } catch {
      break
    }
    for (const key of keys) {
      const name = typeof key === 'symbol' ? `[${String(key.description)}]` : key
      if (typeof key === 'string' && hasLeak(key)) hits.push(`${path}[key ${short(key, 40)}]`)
      let desc
      try {
        desc = Object.getOwnPropertyDescriptor(o, key)
      } catch {
        continue
      }
      if (!desc) continue
      let v
      if ('value' in desc) v = desc.value
      else if (desc.get) {
        try {
          v = desc.get.call(value)
        } catch {
          continue
        }
      }
      const sub = /^[A-Za-z_$][\w$]*$/.test(name) ? `${path}.${name}` : `${path}[${short(String(name), 40)}]`
      findLeaks(v, o === value ? sub : `${sub} (inherited)`, hits, state, depth + 1)
    }
    try {
      o = Object.getPrototypeOf(o)
    } catch {
      break
    }
  }
  return hits
}

function leaksOfError(err) {
  const hits = findLeaks(err, 'error', [])
  try {
    const text = util.inspect(err, { depth: 10, showHidden: true, maxStringLength: Infinity, maxArrayLength: 1000 })
    if (hasLeak(text) && hits.length === 0) hits.push('util.inspect(error)')
  } catch (e) {
    hits.push(`(util.inspect(error) threw ${e?.name})`)
  }
  try {
    if (hasLeak(String(err))) hits.push('String(error)')
  } catch {
    // an object without a usable toString: the property walk covered it
  }
  return [...new Set(hits)]
}

/** A short printable description of something thrown: class, kind and message. */
function describeThrown(e) {
  try {
    if (isProxy(e)) return 'a Proxy object (the user input itself)'
    if (e === null || (typeof e !== 'object' && typeof e !== 'function')) return `${typeof e} ${short(String(typeof e === 'symbol' ? e.description : e), 120)}`
    const ctor = e.constructor?.name ?? 'Object'
    const kind = e.kind !== undefined ? ` kind=${String(e.kind)}` : ''
    return `${ctor}${kind}: ${short(String(e.message), 200)}`
  } catch (err) {
    return `(could not describe the thrown value: ${err?.message})`
  }
}

function classify(e) {
  if (isProxy(e)) return 'not-switchyard:user-proxy'
  if (e !== null && typeof e === 'object' && Object.hasOwn(e, '__fuzzMarker')) return 'not-switchyard:user-error-unwrapped'
  if (!(e instanceof Error)) return `not-switchyard:non-error-${e === null ? 'null' : typeof e}`
  const msg = String(e.message)
  if (/Failed to convert (JavaScript|napi) value/.test(msg)) return 'not-switchyard:napi-conversion'
  if (e instanceof RangeError && /call stack/.test(msg)) return 'not-switchyard:stack-overflow'
  if (msg.startsWith('SWITCHYARD_ERROR:')) return 'not-switchyard:unparsed-native-payload'
  return `not-switchyard:${e.constructor?.name ?? 'Error'}`
}

function checkThrown(e, cur) {
  let ok = false
  try {
    ok = !isProxy(e) && e instanceof SwitchyardError
  } catch {
    ok = false
  }
  if (!ok) {
    fail(classify(e), describeThrown(e))
  } else {
    if (!ERROR_KINDS.includes(e.kind)) fail('bad-kind', `SwitchyardError with kind ${String(e.kind)}: ${e.message}`)
    // `internal` is a bug by definition (a panic, or a catch-all that typed an unexpected JS
    // error): a malformed input must be refused as invalid_input before it gets that far.
    if (e.kind === 'internal' && !ALLOW_INTERNAL) fail('kind-internal', `${describeThrown(e)}${e.cause !== undefined ? `; cause: ${describeThrown(e.cause)}` : '; no cause'}`)
    const msg = String(e.message)
    if (/Failed to convert (JavaScript|napi) value/.test(msg) || msg.startsWith('SWITCHYARD_ERROR:')) fail('raw-native-message', describeThrown(e))
  }
  // A user callback (or getter, trap, toString) threw during the call: the rejection must wrap it.
  // (A user error escaping unwrapped is already reported by classify() above.)
  if (cur.fired.length > 0 && cur.cause === 'strict' && ok) {
    const cause = e.cause
    if (!(e.kind === 'invalid_input' && cur.fired.includes(cause))) {
      const got = `SwitchyardError kind=${e.kind} "${short(String(e.message), 120)}", cause=${cause === undefined ? 'none' : describeThrown(cause)}`
      const cat = e.kind === 'invalid_input' ? 'user-error-swallowed' : 'user-error-wrong-kind'
      fail(cat, `the user's error (${cur.fired[0].message}) was thrown during the call; got ${got}`)
    }
  }
  if (!isProxy(e)) {
    const hits = leaksOfError(e)
    if (hits.length) {
      const places = hits.map(leakPlace)
      const rank = (p) => (p === 'message' ? 0 : p === 'cause' ? 1 : p.startsWith('prop.') ? 2 : p === 'stack' ? 3 : 4)
      const place = places.slice().sort((a, b) => rank(a) - rank(b))[0]
      fail(`leak:${place}`, `key in ${hits.slice(0, 4).join(', ')} — ${describeThrown(e)}`)
    }
  }
}

function leakPlace(path) {
  if (path.startsWith('util.inspect') || path.startsWith('String(')) return 'inspect'
  const m = /^error\.(cause)?\.?([\w$]+)?/.exec(path)
  if (!m) return 'error-prop'
  if (m[1]) return 'cause'
  return ['message', 'stack'].includes(m[2]) ? m[2] : `prop.${m[2] ?? '?'}`
}

function checkResolved(value, where) {
  const hits = findLeaks(value, where, [])
  if (hits.length) fail('leak:resolved', `key in ${hits.slice(0, 4).join(', ')}`)
}

// ---- the context cases run in -----------------------------------------------------------------

class HarnessApiError extends Error {}

let rsa
const ctx = {
  KEY,
  HEX,
  mockURL,
  refusedURL,
  zod,
  api,
  testing,
  isProxy,
  rsaKey() {
    rsa ??= crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' })
    return rsa
  },
  /** Throws (and records) the case's marked user error; used by getters, traps, callbacks. */
  userError(label) {
    const err = new Error(`fuzz user error from ${label}`)
    Object.defineProperty(err, '__fuzzMarker', { value: `${current?.i}:${label}`, enumerable: false })
    if (current?.phase === 'call') current.fired.push(err)
    throw err
  },
  beginCall() {
    current.phase = 'call'
  },
  /** `obj[name]` as a function, or a harness error naming what the library returned. */
  method(obj, name) {
    if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function') || typeof obj[name] !== 'function') {
      throw new HarnessApiError(`the library returned ${obj === null ? 'null' : typeof obj} without a ${name}() method`)
    }
    return obj[name]
  },
  async settle(out) {
    const value = await out
    checkResolved(value, 'resolved')
    return value
  },
  /** Iterates a stream to its end (or `stopAfter` chunks, then return()), scanning every chunk. */
  async drain(out, { stopAfter } = {}) {
    const iterable = await out
    if (iterable === null || typeof iterable !== 'object' || typeof iterable[Symbol.asyncIterator] !== 'function') {
      throw new HarnessApiError(`a stream method returned ${iterable === null ? 'null' : typeof iterable}, not an async iterable`)
    }
    const it = iterable[Symbol.asyncIterator]()
    let chunks = 0
    for (;;) {
      const step = await it.next()
      if (step.done) break
      checkResolved(step.value, `chunk ${chunks}`)
      chunks++
      if (stopAfter !== undefined && chunks >= stopAfter) {
        await it.return?.()
        break
      }
      if (chunks > 200_000) throw new HarnessApiError('a stream yielded more than 200,000 chunks')
    }
    return { chunks }
  },
}

const TIMEOUT = Symbol('timeout')
function withTimeout(promise, ms) {
  let timer
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), ms)
  })
  return Promise.race([promise.then((v) => ({ v }), (e) => ({ e, rejected: true })), timeout]).finally(() => clearTimeout(timer))
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

await send({ t: 'ready' })

for (let i = start; i < end; i++) {
  const c = caseAt(seed, i)
  const cur = { i, failures: [], fired: [], phase: 'setup', cause: c.meta.mutations.some((m) => m.cause === 'none') ? 'none' : 'strict' }
  current = cur
  await send({ t: 'start', i })
  const began = performance.now()
  let outcome
  let promise
  try {
    promise = c.run(ctx)
  } catch (e) {
    promise = Promise.reject(e)
  }
  const settled = await withTimeout(promise, CASE_TIMEOUT_MS)
  // Let warnings and late rejections of this case surface while it is still current.
  await tick()
  await tick()
  const setupFailed = cur.phase === 'setup'
  cur.phase = 'check'
  try {
    if (settled === TIMEOUT) {
      outcome = 'hang'
      fail('hang', `no result within ${CASE_TIMEOUT_MS} ms`)
    } else if (settled.rejected) {
      outcome = 'threw'
      if (settled.e instanceof HarnessApiError) fail('api-shape', settled.e.message)
      else if (setupFailed) fail('harness', `the case's setup threw: ${describeThrown(settled.e)}`)
      else checkThrown(settled.e, cur)
    } else {
      outcome = 'resolved'
    }
  } catch (e) {
    fail('harness', `the checks threw: ${e?.stack ?? e}`)
  }
  current = null
  const thrown = outcome === 'threw' ? describeThrown(settled.e) : undefined
  await send({ t: 'end', i, outcome, thrown, failures: cur.failures, ms: Math.round(performance.now() - began) })
}

await send({ t: 'done', stray })
await Promise.race([mock.close(), new Promise((resolve) => setTimeout(resolve, 1000))])
process.exit(0)

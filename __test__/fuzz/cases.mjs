// The fuzz cases: for case number i, `caseAt(seed, i)` names the entry point, the mutated
// field(s) and the malformed value(s) (`meta`, safe to print: the key never appears in it), and
// `run(ctx)` builds the inputs and makes the calls. The parent process only reads `meta`; the
// child runner (child.mjs) runs `run`.

import {
  mulberry32,
  caseSeed,
  GENERIC,
  NUMBERS,
  URLS,
  API_KEYS,
  HEADERS,
  PROXIES,
  SIGNALS,
  MB_SIZE as MB,
  deepArray,
  deepObject,
  cyclicObject,
  throwingProxy,
  throwingGetters,
} from './values.mjs'

const FAST = () => ({ maxRetries: 0, timeoutMs: 3000, connectTimeoutMs: 1000 })

/** [provider id, a model name that routes to it]. */
export const ROUTES = [
  ['openai', 'gpt-4o-mini'],
  ['anthropic', 'anthropic/claude-3-5-sonnet-20241022'],
  ['gemini', 'gemini/gemini-1.5-flash'],
  ['vertex_ai', 'vertex_ai/gemini-1.5-pro'],
  ['bedrock', 'bedrock/anthropic.claude-3-haiku-20240307-v1:0'],
  ['azure', 'azure/my-deployment'],
  ['ollama', 'ollama/llama3.1'],
  ['cohere', 'cohere/command-r'],
  ['replicate', 'replicate/meta/meta-llama-3-8b-instruct'],
  ['groq', 'groq/llama3-8b-8192'],
  ['mistral', 'mistral/mistral-small-latest'],
  ['openrouter', 'openrouter/openai/gpt-4o'],
  ['llamacpp', 'llamacpp/local-model'],
  ['huggingface', 'huggingface/meta-llama/Llama-3.1-8B-Instruct'],
  ['together_ai', 'together_ai/meta-llama/Llama-3-8b-chat-hf'],
  ['deepseek', 'deepseek/deepseek-chat'],
  ['xai', 'xai/grok-2'],
  ['fireworks_ai', 'fireworks_ai/accounts/fireworks/models/llama-v3-8b-instruct'],
  ['perplexity', 'perplexity/sonar'],
]

// ---- domain pools -----------------------------------------------------------------------------

const MODEL_NAMES = [
  ['KEY as the model', (c) => c.KEY],
  ['"openai/" + KEY', (c) => `openai/${c.KEY}`],
  ['KEY + "/x" (KEY as provider prefix)', (c) => `${c.KEY}/x`],
  ['"anthropic/" + KEY', (c) => `anthropic/${c.KEY}`],
  ['"gemini/" + KEY', (c) => `gemini/${c.KEY}`],
  ['unknown provider prefix', () => 'nosuchprovider/model'],
  ['"/"', () => '/'],
  ['"anthropic/" (empty model)', () => 'anthropic/'],
  ['model with CR/LF', () => 'gpt-4o\r\nX-Injected: 1'],
  ['model with NUL', () => 'gpt\u00004o'],
  ['1 MB model', () => 'm'.repeat(MB)],
  ['model with path traversal', () => 'gemini/../../../etc/passwd'],
  ['model with ?#', () => 'gemini/x?key=1#frag'],
  ['model with "@host"', () => 'gemini/@127.0.0.1:1'],
  ['valid gpt-4o', () => 'gpt-4o'],
  ['valid anthropic model', () => 'anthropic/claude-3-5-sonnet-20241022'],
  ['valid bedrock model', () => 'bedrock/anthropic.claude-3-haiku-20240307-v1:0'],
  ['valid ollama model', () => 'ollama/llama3.1'],
  ['lone surrogate model', () => 'gpt-\uD800'],
]

const ROLES = [
  ['"system"', () => 'system'],
  ['"developer"', () => 'developer'],
  ['"function"', () => 'function'],
  ['"USER"', () => 'USER'],
  ['KEY as role', (c) => c.KEY],
  ['Symbol role', () => Symbol('role')],
  ['role object with toString that throws', (c) => ({ toString: () => c.userError('role.toString') }), { user: true }],
  ['1 MB role', () => 'r'.repeat(MB)],
]

const z = (c) => c.zod

const CONTENTS = [
  ['[{ type: "image_url" }] (no image_url)', () => [{ type: 'image_url' }]],
  ['[{ type: "image_url", image_url: "str" }]', () => [{ type: 'image_url', image_url: 'http://127.0.0.1:1/x.png' }]],
  ['[{ type: "image_url", image_url: { url: 5 } }]', () => [{ type: 'image_url', image_url: { url: 5 } }]],
  ['[{ type: "file" }] (no file)', () => [{ type: 'file' }]],
  ['[{ type: "file", file: null }]', () => [{ type: 'file', file: null }]],
  ['[{ type: "text", text: 10n }]', () => [{ type: 'text', text: 10n }]],
  ['[{ type: "text", text: Symbol() }]', () => [{ type: 'text', text: Symbol('t') }]],
  ['[{ type: "text", text: cyclic }]', () => [{ type: 'text', text: cyclicObject() }]],
  ['[{ type: "text", text: 10,000-deep object }]', () => [{ type: 'text', text: deepObject(10_000) }]],
  ['[null]', () => [null]],
  ['[5]', () => [5]],
  ['["str"]', () => ['str']],
  ['[{ type: "unknown" }]', () => [{ type: 'unknown' }]],
  ['[{ type: Symbol() }]', () => [{ type: Symbol('t') }]],
  ['[{ type: KEY }]', (c) => [{ type: c.KEY }]],
  ['[{ type: toString-throws }]', (c) => [{ type: { toString: () => c.userError('part.type.toString') } }], { user: true }],
  ['[part with throwing getters]', (c) => [throwingGetters(c, 'part', ['type', 'text'])], { user: true }],
  ['[throwing Proxy part]', (c) => [throwingProxy(c, 'part')], { user: true }],
  ['{ text: 10,000-deep object }', () => deepObject(10_000, 'text')],
  ['{ text: cyclic }', () => { const o = {}; o.text = o; return o }],
  ['{ content: { content: ... } } cyclic', () => { const o = {}; o.content = o; return o }],
  ['{ text: 10n }', () => ({ text: 10n })],
  ['array nested 10,000 deep', () => deepArray(10_000)],
  ['100,000 text parts', () => Array.from({ length: 100_000 }, () => ({ type: 'text', text: 'x' }))],
  ['1 MB content', () => 'c'.repeat(MB)],
  ['content containing KEY', (c) => `my key is ${c.KEY}`],
  ['[{ type: "text", text: KEY }]', (c) => [{ type: 'text', text: c.KEY }]],
  ['frozen parts', () => Object.freeze([Object.freeze({ type: 'text', text: 'x' })])],
]

const MESSAGES = [
  ['{ role: "system" }', () => ({ role: 'system', content: 'x' })],
  ['{ role: "user" } without content', () => ({ role: 'user' })],
  ['{ role: "assistant", tool_calls: "x" }', () => ({ role: 'assistant', content: '', tool_calls: 'x' })],
  ['{ role: "assistant", tool_calls: [bad] }', () => ({ role: 'assistant', content: '', tool_calls: [{ id: 5, function: 'f' }] })],
  ['{ role: "assistant", tool_calls: [10n] }', () => ({ role: 'assistant', content: '', tool_calls: [10n] })],
  ['{ role: "assistant", tool_calls: cyclic }', () => ({ role: 'assistant', content: '', tool_calls: [cyclicObject()] })],
  ['{ role: "tool", tool_call_id: 5 }', () => ({ role: 'tool', content: 'r', tool_call_id: 5 })],
  ['{ role: "tool", tool_call_id: {} }', () => ({ role: 'tool', content: 'r', tool_call_id: {} })],
  ['{ role: Symbol() }', () => ({ role: Symbol('r'), content: 'x' })],
  ['{ role: KEY }', (c) => ({ role: c.KEY, content: 'x' })],
  ['message with throwing getters', (c) => throwingGetters(c, 'message', ['role', 'content', 'attachments']), { user: true }],
  ['message: throwing Proxy', (c) => throwingProxy(c, 'message'), { user: true }],
  ['frozen message', () => Object.freeze({ role: 'user', content: 'x' })],
  ['Object.create(null) message', () => Object.assign(Object.create(null), { role: 'user', content: 'x' })],
  ['message with 10n extra field', () => ({ role: 'user', content: 'x', extra: 10n })],
]

const MESSAGE_LISTS = [
  ['100,000 messages', () => Array.from({ length: 100_000 }, () => ({ role: 'user', content: 'x' }))],
  ['sparse array [ , , ]', () => [, ,]], // eslint-disable-line no-sparse-arrays
  ['[null]', () => [null]],
  ['[undefined]', () => [undefined]],
  ['[5]', () => [5]],
  ['Set of one message', () => new Set([{ role: 'user', content: 'x' }])],
  ['string "hello"', () => 'hello'],
  ['array-like { length: 1, 0: msg }', () => ({ length: 1, 0: { role: 'user', content: 'x' } })],
  ['generator of messages', () => (function* () { yield { role: 'user', content: 'x' } })()],
  ['iterable whose Symbol.iterator throws', (c) => ({ [Symbol.iterator]: () => c.userError('messages[Symbol.iterator]') }), { user: true }],
  ['array whose [0] getter throws', (c) => { const a = [1]; Object.defineProperty(a, 0, { get: () => c.userError('messages[0] getter') }); return a }, { user: true }],
  ['array with a throwing length Proxy', (c) => throwingProxy(c, 'messages', []), { user: true }],
  ['empty array', () => []],
  ['frozen array', () => Object.freeze([{ role: 'user', content: 'x' }])],
]

const ATTACHMENT_LISTS = [
  ['"str"', () => 'str'],
  ['[null]', () => [null]],
  ['[5]', () => [5]],
  ['[{ kind: "image" }]', () => [{ kind: 'image' }]],
  ['[{ kind: "image", url: 5 }]', () => [{ kind: 'image', url: 5 }]],
  ['[{ kind: "image", data: 5, mimeType: {} }]', () => [{ kind: 'image', data: 5, mimeType: {} }]],
  ['[{ kind: "image", url: KEY }]', (c) => [{ kind: 'image', url: c.KEY }]],
  ['[{ kind: "document", mimeType: "text/plain", data: 5 }]', () => [{ kind: 'document', mimeType: 'text/plain', data: 5 }]],
  ['[{ kind: "document", mimeType: "text/csv", data: Buffer }]', () => [{ kind: 'document', mimeType: 'text/csv', data: Buffer.from('a,b') }]],
  ['[{ kind: "document", mimeType: "application/json", url: mock }]', (c) => [{ kind: 'document', mimeType: 'application/json', url: `${c.mockURL}/doc.json` }]],
  ['[{ kind: "document", mimeType: "text/plain", url: refused }]', (c) => [{ kind: 'document', mimeType: 'text/plain', url: `${c.refusedURL}/doc` }]],
  ['[{ kind: "document", url: user:KEY@refused }]', (c) => [{ kind: 'document', mimeType: 'text/plain', url: `http://user:${c.KEY}@127.0.0.1:1/doc` }]],
  ['[{ kind: "document", mimeType: "text/plain", url: "not a url" }]', () => [{ kind: 'document', mimeType: 'text/plain', url: 'not a url' }]],
  ['[{ kind: "file", mimeType: 5 }]', () => [{ kind: 'file', mimeType: 5, data: 'eA==' }]],
  ['[{ kind: "document", mimeType: Symbol() }]', () => [{ kind: 'document', mimeType: Symbol('m'), data: 'eA==' }]],
  ['[{ kind: "document", mimeType: "application/pdf", data: garbage }]', () => [{ kind: 'document', mimeType: 'application/pdf', data: 'bm90IGEgcGRm' }]],
  ['[{ kind: "document", name: KEY, mimeType: "x/y" }]', (c) => [{ kind: 'document', name: c.KEY, mimeType: 'x/y' }]],
  ['[{ kind: Symbol() }]', () => [{ kind: Symbol('k') }]],
  ['[{ kind: "document", data: 1 MB, mimeType: "application/json" }]', () => [{ kind: 'document', mimeType: 'application/json', data: 'e'.repeat(MB) }]],
  ['[attachment with throwing getters]', (c) => [throwingGetters(c, 'attachment', ['kind', 'url', 'data', 'mimeType'])], { user: true }],
  ['[throwing Proxy attachment]', (c) => [throwingProxy(c, 'attachment')], { user: true }],
  ['{ length: 1 } object', () => ({ length: 1 })],
]

const INSTRUCTIONS = [
  ['instructions throws a marked Error', (c) => () => c.userError('instructions'), { user: true }],
  ['instructions throws a string', () => () => { throw 'nope' }], // eslint-disable-line no-throw-literal
  ['instructions throws null', () => () => { throw null }], // eslint-disable-line no-throw-literal
  ['instructions returns 5', () => () => 5],
  ['instructions returns {}', () => () => ({})],
  ['instructions returns Symbol', () => () => Symbol('i')],
  ['instructions returns 10n', () => () => 10n],
  ['instructions returns a cyclic object', () => () => cyclicObject()],
  ['instructions returns a Promise', () => async () => 'be brief'],
  ['instructions returns 1 MB', () => () => 'i'.repeat(MB)],
  ['instructions returns a 10,000-deep object', () => () => deepObject(10_000)],
  ['instructions returns undefined', () => () => undefined],
  ['instructions returns null', () => () => null],
  ['instructions returns KEY', (c) => () => c.KEY],
  ['instructions returns an object with toJSON that throws', (c) => () => ({ toJSON: () => c.userError('instructions result toJSON') }), { user: true }],
  ['instructions returns a throwing Proxy', (c) => () => throwingProxy(c, 'instructions result'), { user: true }],
  ['instructions is a string', () => 'be brief'],
  ['instructions is an async function that rejects', (c) => async () => c.userError('async instructions'), { user: true }],
  ['instructions is a class', () => class Instructions {}],
]

function zodObject(c) {
  return z(c).object({ city: z(c).string(), days: z(c).number().optional() })
}

const TOOLS = [
  ['"str"', () => 'search'],
  ['{} (object)', () => ({})],
  ['{ length: 1 }', () => ({ length: 1 })],
  ['Map', () => new Map([['t', {}]])],
  ['Set of one valid tool', (c) => new Set([{ schema: { name: 't', description: 'd', parameters: zodObject(c) } }])],
  ['5', () => 5],
  ['[null]', () => [null]],
  ['[5]', () => [5]],
  ['[{}] (no schema)', () => [{}]],
  ['[{ schema: null }]', () => [{ schema: null }]],
  ['[{ schema: "s" }]', () => [{ schema: 's' }]],
  ['[parameters: plain {}]', () => [{ schema: { name: 't', description: 'd', parameters: {} } }]],
  ['[parameters: 5]', () => [{ schema: { name: 't', description: 'd', parameters: 5 } }]],
  ['[parameters: JSON Schema object]', () => [{ schema: { name: 't', description: 'd', parameters: { type: 'object', properties: {} } } }]],
  ['[parameters: cyclic]', () => [{ schema: { name: 't', description: 'd', parameters: cyclicObject() } }]],
  ['[parameters: { _def: null }]', () => [{ schema: { name: 't', description: 'd', parameters: { _def: null } } }]],
  ['[parameters: { _def: { typeName: "ZodObject", shape: 5 } }]', () => [{ schema: { name: 't', description: 'd', parameters: { _def: { typeName: 'ZodObject', shape: 5 } } } }]],
  ['[parameters: { _def: { typeName: "ZodObject", shape: () => cyclic } }]', () => [{ schema: { name: 't', description: 'd', parameters: { _def: { typeName: 'ZodObject', shape: () => cyclicObject() } } } }]],
  ['[parameters: throwing Proxy]', (c) => [{ schema: { name: 't', description: 'd', parameters: throwingProxy(c, 'parameters') } }], { user: true }],
  ['[parameters: recursive z.lazy]', (c) => {
    const Z = z(c)
    const node = Z.lazy(() => Z.object({ child: node.optional() }))
    return [{ schema: { name: 't', description: 'd', parameters: Z.object({ root: node }) } }]
  }],
  ['[parameters: z.string() (not an object)]', (c) => [{ schema: { name: 't', description: 'd', parameters: z(c).string() } }]],
  ['[name: Symbol()]', (c) => [{ schema: { name: Symbol('n'), description: 'd', parameters: zodObject(c) } }]],
  ['[name: 5]', (c) => [{ schema: { name: 5, description: 'd', parameters: zodObject(c) } }]],
  ['[name: KEY]', (c) => [{ schema: { name: c.KEY, description: 'd', parameters: zodObject(c) } }]],
  ['[name with CR/LF]', (c) => [{ schema: { name: 'a\r\nb', description: 'd', parameters: zodObject(c) } }]],
  ['[description: 10n]', (c) => [{ schema: { name: 't', description: 10n, parameters: zodObject(c) } }]],
  ['[schema with throwing getters]', (c) => [{ schema: throwingGetters(c, 'schema', ['name', 'description', 'parameters']) }], { user: true }],
  ['[tool with throwing schema getter]', (c) => [throwingGetters(c, 'tool', ['schema'])], { user: true }],
  ['tools: throwing Proxy (array target)', (c) => throwingProxy(c, 'tools', []), { user: true }],
  ['10,000 valid tools', (c) => {
    const p = zodObject(c)
    return Array.from({ length: 10_000 }, (_, i) => ({ schema: { name: `t${i}`, description: 'd', parameters: p } }))
  }],
  ['frozen valid tools', (c) => Object.freeze([Object.freeze({ schema: Object.freeze({ name: 't', description: 'd', parameters: zodObject(c) }) })])],
]

const REASONING = [
  ['{ effort: 5 }', () => ({ effort: 5 })],
  ['{ effort: "extreme" }', () => ({ effort: 'extreme' })],
  ['{ effort: Symbol() }', () => ({ effort: Symbol('e') })],
  ['{ effort: {} }', () => ({ effort: {} })],
  ['{ effort: 10n }', () => ({ effort: 10n })],
  ['{ effort: KEY }', (c) => ({ effort: c.KEY })],
  ['"high" (string)', () => 'high'],
  ['reasoning with throwing getter', (c) => throwingGetters(c, 'reasoning', ['effort']), { user: true }],
]

const CODECS = [
  ['plain {}', () => ({})],
  ['5', () => 5],
  ['"json"', () => 'json'],
  ['valid zod object', (c) => zodObject(c)],
  ['zod string', (c) => z(c).string()],
  ['{ _def: null }', () => ({ _def: null })],
  ['{ _def: { typeName: "ZodObject", shape: 5 } }', () => ({ _def: { typeName: 'ZodObject', shape: 5 } })],
  ['{ safeParse() {} }', () => ({ safeParse() {} })],
  ['recursive z.lazy', (c) => {
    const Z = z(c)
    const node = Z.lazy(() => Z.object({ child: node.optional() }))
    return node
  }],
  ['cyclic object', () => cyclicObject()],
  ['throwing Proxy', (c) => throwingProxy(c, 'outputCodec'), { user: true }],
]

const ONUSAGE = [
  ['onUsage throws a marked Error', (c) => () => c.userError('onUsage'), { user: true, cause: 'none' }],
  ['onUsage throws a string', () => () => { throw 'usage' }], // eslint-disable-line no-throw-literal
  ['onUsage throws an Error whose message getter throws', () => () => {
    const e = new Error('x')
    Object.defineProperty(e, 'message', { get() { throw new Error('message getter') } })
    throw e
  }],
  ['onUsage is async and rejects', () => async () => { throw new Error('async onUsage') }],
  ['onUsage returns KEY', (c) => () => c.KEY],
  ['onUsage: 5', () => 5],
  ['onUsage: "fn"', () => 'fn'],
  ['onUsage: {}', () => ({})],
  ['onUsage: throwing Proxy (function target)', (c) => throwingProxy(c, 'onUsage', function () {}), { user: true, cause: 'none' }],
]

const PRICING = [
  ['{ model: { input: "x" } }', () => ({ 'gpt-4o-mini': { input: 'x', output: 'y' }, 'fuzz-model': { input: 'x', output: 'y' } })],
  ['{ model: 5 }', () => ({ 'gpt-4o-mini': 5, 'fuzz-model': 5 })],
  ['{ model: { input: 10n } }', () => ({ 'gpt-4o-mini': { input: 10n, output: 1n }, 'fuzz-model': { input: 10n, output: 1n } })],
  ['{ model: throwing getters }', (c) => ({ 'gpt-4o-mini': throwingGetters(c, 'price', ['input', 'output']) }), { user: true }],
  ['pricing: throwing Proxy', (c) => throwingProxy(c, 'pricing'), { user: true }],
  ['pricing: Map', () => new Map()],
  ['pricing: "cheap"', () => 'cheap'],
]

const PROVIDER_NAMES = [
  ['alias "gpt"', () => 'gpt'],
  ['alias "claude"', () => 'claude'],
  ['alias "llama.cpp"', () => 'llama.cpp'],
  ['"OPENAI " (case, space)', () => 'OPENAI '],
  ['unknown "nosuch"', () => 'nosuch'],
  ['KEY as the provider name', (c) => c.KEY],
  ['"__proto__"', () => '__proto__'],
  ['"constructor"', () => 'constructor'],
  ['"toString"', () => 'toString'],
  ['"hasOwnProperty"', () => 'hasOwnProperty'],
  ['name with CR/LF', () => 'openai\r\n'],
  ['1 MB name', () => 'n'.repeat(MB)],
  ['String object "openai"', () => new String('openai')],
]

const PROVIDER_MAPS = [
  ['{ [KEY]: {} }', (c) => ({ [c.KEY]: {} })],
  ['{ nosuch: {} }', () => ({ nosuch: {} })],
  ['{ "open\\r\\nai": {} }', () => ({ 'open\r\nai': {} })],
  ['{ openai: 5 }', () => ({ openai: 5 })],
  ['{ openai: "str" }', () => ({ openai: 'str' })],
  ['{ openai: null }', () => ({ openai: null })],
  ['{ openai: [] }', () => ({ openai: [] })],
  ['{ openai: throwing Proxy }', (c) => ({ openai: throwingProxy(c, 'providers.openai') }), { user: true }],
  ['{ claude: { apiKey: KEY } } (alias)', (c) => ({ claude: { apiKey: c.KEY } })],
  ['{ openai: {}, gpt: {} } (same id twice)', () => ({ openai: {}, gpt: {} })],
  ['Map', () => new Map([['openai', {}]])],
  ['array of pairs', () => [['openai', {}]]],
  ['Object.create(null)', (c) => Object.assign(Object.create(null), { openai: { apiKey: c.KEY } })],
  ['JSON "__proto__" key', () => JSON.parse('{"__proto__": {"apiKey": 1}}')],
  ['{ constructor: {} }', () => ({ constructor: {} })],
  ['{ toString: {} }', () => ({ toString: {} })],
  ['providers with a throwing getter', (c) => throwingGetters(c, 'providers', ['openai']), { user: true }],
]

const CREDENTIALS = [
  ['service account, private_key = KEY, token_uri mock', (c) => ({ type: 'service_account', client_email: 'fuzz@example.iam', private_key: c.KEY, token_uri: `${c.mockURL}/token` })],
  ['service account JSON text with private_key = KEY', (c) => JSON.stringify({ type: 'service_account', client_email: 'fuzz@example.iam', private_key: c.KEY, token_uri: `${c.mockURL}/token` })],
  ['real RSA key, token_uri = mock (404)', (c) => ({ type: 'service_account', client_email: 'fuzz@example.iam', private_key: c.rsaKey(), token_uri: `${c.mockURL}/token`, project_id: 'p' })],
  ['real RSA key, token_uri = refused', (c) => ({ type: 'service_account', client_email: 'fuzz@example.iam', private_key: c.rsaKey(), token_uri: `${c.refusedURL}/token`, project_id: 'p' })],
  ['real RSA key, token_uri = user:KEY@refused', (c) => ({ type: 'service_account', client_email: 'fuzz@example.iam', private_key: c.rsaKey(), token_uri: `http://user:${c.KEY}@127.0.0.1:1/token`, project_id: 'p' })],
  ['real RSA key, token_uri = "not a url"', (c) => ({ type: 'service_account', client_email: 'fuzz@example.iam', private_key: c.rsaKey(), token_uri: 'not a url', project_id: 'p' })],
  ['{ type: "authorized_user", refresh_token: KEY }', (c) => ({ type: 'authorized_user', refresh_token: c.KEY })],
  ['invalid JSON text containing KEY', (c) => `{"private_key": "${c.KEY}"`],
  ['nonexistent path', () => '/nonexistent/fuzz-credentials.json'],
  ['path containing KEY', (c) => `/nonexistent/${c.KEY}.json`],
  ['5', () => 5],
  ['[]', () => []],
  ['{ type: "service_account" } (no email)', () => ({ type: 'service_account' })],
  ['{ type: Symbol() }', () => ({ type: Symbol('t') })],
  ['credentials with throwing getters', (c) => throwingGetters(c, 'credentials', ['type', 'client_email', 'private_key']), { user: true }],
]

const PARAMETERS = [
  ['{ temp: "hot" }', () => ({ temp: 'hot' })],
  ['{ unknown: 1 }', () => ({ unknown: 1 })],
  ['{ [KEY]: 1 }', (c) => ({ [c.KEY]: 1 })],
  ['{ seed: 10n }', () => ({ seed: 10n })],
  ['{ stop: Symbol() }', () => ({ stop: Symbol('s') })],
  ['{ temp: 1, temperature: 1 }', () => ({ temp: 1, temperature: 1 })],
  ['{ ctx_size: 8192 }', () => ({ ctx_size: 8192 })],
  ['{ max_tokens: cyclic }', () => ({ max_tokens: cyclicObject() })],
  ['{ max_tokens: -1 }', () => ({ max_tokens: -1 })],
  ['parameters with throwing getters', (c) => throwingGetters(c, 'parameters', ['temp']), { user: true }],
  ['"str"', () => 'temperature=1'],
]

const REQUESTS = [
  ['{ model, messages: "str" }', () => ({ messages: 'hi' })],
  ['{ model, messages: [null] }', () => ({ messages: [null] })],
  ['{ model, messages: [{ role: 5 }] }', () => ({ messages: [{ role: 5, content: 'x' }] })],
  ['{ model, messages, extra: 10n }', () => ({ messages: [{ role: 'user', content: 'x' }], extra: 10n })],
  ['{ model, messages: cyclic }', () => ({ messages: [cyclicObject()] })],
  ['{ model, messages: 10,000-deep }', () => ({ messages: [{ role: 'user', content: deepArray(10_000) }] })],
  ['{ model, messages, temperature: "hot" }', () => ({ messages: [{ role: 'user', content: 'x' }], temperature: 'hot' })],
  ['{ model, messages, tools: 5 }', () => ({ messages: [{ role: 'user', content: 'x' }], tools: 5 })],
  ['{ model, messages, stream: "yes" }', () => ({ messages: [{ role: 'user', content: 'x' }], stream: 'yes' })],
  ['{ model, messages, KEY field }', (c) => ({ messages: [{ role: 'user', content: 'x' }], [c.KEY]: 1 })],
  ['{ model, messages: [{ content: KEY }] }', (c) => ({ messages: [{ role: 'user', content: c.KEY }] })],
  ['request with toJSON that throws', (c) => ({ messages: [], toJSON: () => c.userError('request.toJSON') }), { user: true }],
  ['request with throwing getter on messages', (c) => throwingGetters(c, 'request', ['messages']), { user: true }],
]

const METHODS = [
  ['"get" (lower case)', () => 'get'],
  ['"BAD METHOD"', () => 'BAD METHOD'],
  ['method with CR/LF', () => 'GE\r\nT'],
  ['method = KEY', (c) => c.KEY],
  ['method 5', () => 5],
  ['""', () => ''],
  ['"CONNECT"', () => 'CONNECT'],
]

const PATHS = [
  ['"" (empty)', () => ''],
  ['"no-slash"', () => 'models'],
  ['"//127.0.0.1:1/x"', () => '//127.0.0.1:1/x'],
  ['"http://127.0.0.1:1/x" (absolute)', () => 'http://127.0.0.1:1/x'],
  ['path with CR/LF', () => '/models\r\nX-Injected: 1'],
  ['path with NUL', () => '/models\u0000'],
  ['path with KEY', (c) => `/models/${c.KEY}`],
  ['path with space', () => '/a b'],
  ['1 MB path', () => `/${'p'.repeat(MB)}`],
  ['path "/../../etc/passwd"', () => '/../../etc/passwd'],
]

const FRAMINGS = [
  ['"xml"', () => 'xml'],
  ['"SSE" (upper)', () => 'SSE'],
  ['""', () => ''],
  ['KEY as framing', (c) => c.KEY],
]

const PORTS = [
  ['-1', () => -1],
  ['NaN', () => NaN],
  ['Infinity', () => Infinity],
  ['65536', () => 65536],
  ['2**53', () => 2 ** 53],
  ['1.5', () => 1.5],
  ['"-1"', () => '-1'],
  ['"abc" (a pipe name)', () => 'fuzz-pipe-name'],
  ['"" (empty)', () => ''],
  ['null', () => null],
  ['{}', () => ({})],
  ['[]', () => []],
  ['true', () => true],
  ['10n', () => 10n],
  ['Symbol()', () => Symbol('p')],
  ['"0"', () => '0'],
  ['0', () => 0],
  ['new Number(0)', () => new Number(0)],
  ['throwing Proxy', (c) => throwingProxy(c, 'port'), { user: true }],
]

const HANDLERS = [
  ['handler throws a marked Error', (c) => () => c.userError('handler'), { user: true, cause: 'none' }],
  ['handler returns 5', () => () => 5],
  ['handler returns "str"', () => () => 'str'],
  ['handler returns { bogus: 1 }', () => () => ({ bogus: 1 })],
  ['handler returns { json: 10n }', () => () => ({ json: 10n })],
  ['handler returns { sse: 5 }', () => () => ({ sse: 5 })],
  ['handler returns { error: "x" }', () => () => ({ error: 'x' })],
  ['handler returns { raw: 5 }', () => () => ({ raw: 5 })],
  ['handler returns { json: {}, status: 99 }', () => () => ({ json: {}, status: 99 })],
  ['handler returns { json: {}, headers: bad name }', () => () => ({ json: {}, headers: { 'x\r\n': 'v' } })],
  ['handler returns { json: {}, delayMs: 1e9 }', () => () => ({ json: {}, delayMs: 1e9 })],
  ['handler returns { hang: true }', () => () => ({ hang: true })],
  ['handler returns an error body containing KEY', (c) => () => ({ error: { status: 400, body: { error: { message: `bad key ${c.KEY}` } } } })],
  ['handler is async and rejects', () => async () => { throw new Error('async handler') }],
  ['handler: 5', () => 5],
  ['handler: "fn"', () => 'fn'],
  ['handler: throwing Proxy', (c) => throwingProxy(c, 'handler', function () {}), { user: true, cause: 'none' }],
]

const withGeneric = (pool) => [...GENERIC, ...pool]

// ---- families ---------------------------------------------------------------------------------

/** A field: its label, the arg it lives in (`root`), its pool and how to set it on the inputs. */
const fld = (label, root, pool, set, extra = {}) => ({ label, root, pool, set, ...extra })

function validState() {
  return { messages: [{ role: 'user', content: 'hi' }] }
}

function validAgent(model = 'gpt-4o-mini') {
  return { name: 'fuzz', instructions: () => 'be brief', modelConfig: { name: model } }
}

const JAF_FIELDS = [
  fld('state (arg 1)', 'state', GENERIC, (a, v) => { a.state = v }),
  fld('state.messages', 'state', withGeneric(MESSAGE_LISTS), (a, v) => { a.state.messages = v }),
  fld('state.messages[0]', 'state', withGeneric(MESSAGES), (a, v) => { a.state.messages[0] = v }),
  fld('state.messages[0].content', 'state', withGeneric(CONTENTS), (a, v) => { a.state.messages[0].content = v }),
  fld('state.messages[0].role', 'state', withGeneric(ROLES), (a, v) => { a.state.messages[0].role = v }),
  fld('state.messages[0].attachments', 'state', withGeneric(ATTACHMENT_LISTS), (a, v) => { a.state.messages[0].attachments = v }),
  fld('agent (arg 2)', 'agent', GENERIC, (a, v) => { a.agent = v }),
  fld('agent.name', 'agent', GENERIC, (a, v) => { a.agent.name = v; delete a.agent.modelConfig }),
  fld('agent.instructions', 'agent', withGeneric(INSTRUCTIONS), (a, v) => { a.agent.instructions = v }),
  fld('agent.tools', 'agent', withGeneric(TOOLS), (a, v) => { a.agent.tools = v }),
  fld('agent.modelConfig', 'agent', GENERIC, (a, v) => { a.agent.modelConfig = v }),
  fld('agent.modelConfig.name', 'agent', withGeneric(MODEL_NAMES), (a, v) => { a.agent.modelConfig.name = v }),
  fld('agent.modelConfig.temperature', 'agent', NUMBERS, (a, v) => { a.agent.modelConfig.temperature = v }),
  fld('agent.modelConfig.maxTokens', 'agent', NUMBERS, (a, v) => { a.agent.modelConfig.maxTokens = v }),
  fld('agent.modelConfig.reasoning', 'agent', withGeneric(REASONING), (a, v) => { a.agent.modelConfig.reasoning = v }),
  fld('agent.outputCodec', 'agent', withGeneric(CODECS), (a, v) => { a.agent.outputCodec = v }),
  fld('config (arg 3)', 'config', GENERIC, (a, v) => { a.config = v }),
  fld('config.modelOverride', 'config', withGeneric(MODEL_NAMES), (a, v) => { a.config.modelOverride = v; a.dropModel = true }),
  fld('config.signal', 'config', withGeneric(SIGNALS), (a, v) => { a.config.signal = v }),
]

// Options fields shared by makeLiteLLMProvider (arg 5) and makeModelProvider (arg 1).
const optionFields = (root, label) => [
  fld(`${label}.timeoutMs`, root, NUMBERS, (a, v) => { a.options.timeoutMs = v }),
  fld(`${label}.connectTimeoutMs`, root, NUMBERS, (a, v) => { a.options.connectTimeoutMs = v }),
  fld(`${label}.maxRetries`, root, NUMBERS, (a, v) => { a.options.maxRetries = v }),
  fld(`${label}.signal`, root, withGeneric(SIGNALS), (a, v) => { a.options.signal = v }),
  fld(`${label}.onUsage`, root, withGeneric(ONUSAGE), (a, v) => { a.options.onUsage = v }, { cause: 'none' }),
  fld(`${label}.pricing`, root, withGeneric(PRICING), (a, v) => { a.options.pricing = v }),
]

const LITELLM_FIELDS = [
  fld('baseURL (arg 1)', 'baseURL', withGeneric(URLS), (a, v) => { a.baseURL = v }),
  fld('apiKey (arg 2)', 'apiKey', withGeneric(API_KEYS), (a, v) => { a.apiKey = v }),
  fld('proxyConfig (arg 3)', 'proxyConfig', withGeneric(PROXIES), (a, v) => { a.proxyConfig = v }),
  fld('defaultHeaders (arg 4)', 'defaultHeaders', withGeneric(HEADERS), (a, v) => { a.defaultHeaders = v }),
  fld('options (arg 5)', 'options', GENERIC, (a, v) => { a.options = v }),
  ...optionFields('options', 'options'),
]

// Per-provider settings fields, for makeModelProvider's options.providers[id] and createProvider's settings.
const settingsFields = (root, label, target) => [
  fld(`${label}.apiKey`, root, withGeneric(API_KEYS), (a, v) => { target(a).apiKey = v }),
  fld(`${label}.baseURL`, root, withGeneric(URLS), (a, v) => { target(a).baseURL = v }),
  fld(`${label}.headers`, root, withGeneric(HEADERS), (a, v) => { target(a).headers = v }),
  fld(`${label}.apiVersion`, root, GENERIC, (a, v) => { target(a).apiVersion = v }),
  fld(`${label}.region`, root, GENERIC, (a, v) => { target(a).region = v }),
  fld(`${label}.project`, root, GENERIC, (a, v) => { target(a).project = v }),
  fld(`${label}.awsAccessKeyId`, root, withGeneric(API_KEYS), (a, v) => { target(a).awsAccessKeyId = v }),
  fld(`${label}.awsSecretAccessKey`, root, withGeneric(API_KEYS), (a, v) => { target(a).awsSecretAccessKey = v }),
  fld(`${label}.awsSessionToken`, root, API_KEYS, (a, v) => { target(a).awsSessionToken = v }),
  fld(`${label}.credentials`, root, withGeneric(CREDENTIALS), (a, v) => { delete target(a).apiKey; target(a).credentials = v }, { route: 'vertex_ai' }),
]

const transportFields = (root, label) => [
  fld(`${label}.timeoutMs`, root, NUMBERS, (a, v) => { a.options.timeoutMs = v }),
  fld(`${label}.connectTimeoutMs`, root, NUMBERS, (a, v) => { a.options.connectTimeoutMs = v }),
  fld(`${label}.maxRetries`, root, NUMBERS, (a, v) => { a.options.maxRetries = v }),
  fld(`${label}.proxyConfig`, root, withGeneric(PROXIES), (a, v) => { a.options.proxyConfig = v }),
]

const MODEL_PROVIDER_FIELDS = [
  fld('options (arg 1)', 'options', GENERIC, (a, v) => { a.options = v }),
  fld('options.providers', 'options', withGeneric(PROVIDER_MAPS), (a, v) => { a.options.providers = v }),
  fld('options.providers[id]', 'options', GENERIC, (a, v) => { a.options.providers[a.id] = v }),
  ...settingsFields('options', 'options.providers[id]', (a) => a.options.providers[a.id]),
  ...transportFields('options', 'options'),
  ...optionFields('options', 'options').filter((f) => !/timeoutMs|maxRetries/i.test(f.label)),
  fld('agent.modelConfig.name (routing)', 'agent', withGeneric(MODEL_NAMES), (a, v) => { a.agent.modelConfig.name = v }),
]

// createProvider's method calls and their argument fields.
const DIRECT_CALLS = ['execute', 'streamExecute', 'chat', 'stream', 'embed', 'listModels', 'searchModels', 'validateConfig', 'getInfo', 'request', 'requestStream']

const DIRECT_FIELDS = [
  fld('name (arg 1)', 'name', withGeneric(PROVIDER_NAMES), (a, v) => { a.name = v }),
  fld('settings (arg 2)', 'settings', GENERIC, (a, v) => { a.settings = v }),
  ...settingsFields('settings', 'settings', (a) => a.settings),
  fld('settings.appName', 'settings', GENERIC, (a, v) => { a.settings.appName = v }, { route: 'openrouter' }),
  fld('settings.appUrl', 'settings', withGeneric(URLS), (a, v) => { a.settings.appUrl = v }, { route: 'openrouter' }),
  fld('options (arg 3)', 'options', GENERIC, (a, v) => { a.options = v }),
  ...transportFields('options', 'options'),
  fld('execute(model)', 'call', withGeneric(MODEL_NAMES), (a, v) => { a.model = v }, { call: 'execute' }),
  fld('execute(prompt)', 'call', withGeneric(CONTENTS), (a, v) => { a.prompt = v }, { call: 'execute' }),
  fld('execute(opts)', 'call', GENERIC, (a, v) => { a.opts = v }, { call: 'execute' }),
  fld('execute(opts.systemPrompt)', 'call', withGeneric(CONTENTS), (a, v) => { a.opts.systemPrompt = v }, { call: 'execute' }),
  fld('execute(opts.parameters)', 'call', withGeneric(PARAMETERS), (a, v) => { a.opts.parameters = v }, { call: 'execute' }),
  fld('execute(opts.signal)', 'call', SIGNALS, (a, v) => { a.opts.signal = v }, { call: 'execute' }),
  fld('streamExecute(model)', 'call', withGeneric(MODEL_NAMES), (a, v) => { a.model = v }, { call: 'streamExecute' }),
  fld('streamExecute(prompt)', 'call', GENERIC, (a, v) => { a.prompt = v }, { call: 'streamExecute' }),
  fld('streamExecute(opts.parameters)', 'call', withGeneric(PARAMETERS), (a, v) => { a.opts.parameters = v }, { call: 'streamExecute' }),
  fld('chat(request)', 'call', GENERIC, (a, v) => { a.request = v }, { call: 'chat' }),
  fld('chat(request.*)', 'call', REQUESTS, (a, v) => { if (!('model' in v)) v.model = a.modelName; a.request = v }, { call: 'chat' }),
  fld('chat(request.model)', 'call', withGeneric(MODEL_NAMES), (a, v) => { a.request.model = v }, { call: 'chat' }),
  fld('chat(opts)', 'call', GENERIC, (a, v) => { a.opts = v }, { call: 'chat' }),
  fld('stream(request)', 'call', GENERIC, (a, v) => { a.request = v }, { call: 'stream' }),
  fld('stream(request.messages)', 'call', withGeneric(MESSAGE_LISTS), (a, v) => { a.request.messages = v }, { call: 'stream' }),
  fld('stream(opts.signal)', 'call', SIGNALS, (a, v) => { a.opts.signal = v }, { call: 'stream' }),
  fld('embed(request)', 'call', GENERIC, (a, v) => { a.request = v }, { call: 'embed' }),
  fld('embed(request.input)', 'call', GENERIC, (a, v) => { a.request.input = v }, { call: 'embed' }),
  fld('searchModels(query)', 'call', GENERIC, (a, v) => { a.query = v }, { call: 'searchModels' }),
  fld('searchModels(query.query)', 'call', GENERIC, (a, v) => { a.query = { query: v } }, { call: 'searchModels' }),
  fld('searchModels(query.provider)', 'call', GENERIC, (a, v) => { a.query = { provider: v } }, { call: 'searchModels' }),
  fld('request(method)', 'call', withGeneric(METHODS), (a, v) => { a.method = v }, { call: 'request' }),
  fld('request(path)', 'call', withGeneric(PATHS), (a, v) => { a.path = v }, { call: 'request' }),
  fld('request(payload)', 'call', GENERIC, (a, v) => { a.payload = v }, { call: 'request' }),
  fld('requestStream(method)', 'call', withGeneric(METHODS), (a, v) => { a.method = v }, { call: 'requestStream' }),
  fld('requestStream(path)', 'call', PATHS, (a, v) => { a.path = v }, { call: 'requestStream' }),
  fld('requestStream(payload)', 'call', GENERIC, (a, v) => { a.payload = v }, { call: 'requestStream' }),
  fld('requestStream(framing)', 'call', withGeneric(FRAMINGS), (a, v) => { a.framing = v }, { call: 'requestStream' }),
  fld('ollama pullModel(model)', 'call', GENERIC, (a, v) => { a.model = v }, { call: 'pullModel', route: 'ollama' }),
  fld('ollama deleteModel(model)', 'call', GENERIC, (a, v) => { a.model = v }, { call: 'deleteModel', route: 'ollama' }),
  fld('llamacpp health() with settings.baseURL', 'settings', withGeneric(URLS), (a, v) => { a.settings.baseURL = v }, { call: 'health', route: 'llamacpp' }),
  fld('openrouter getCredits() with settings.headers', 'settings', HEADERS, (a, v) => { a.settings.headers = v }, { call: 'getCredits', route: 'openrouter' }),
]

const MANAGER_CALLS = ['getProvider', 'route', 'execute', 'autoExecute', 'autoStream', 'chat', 'listAllModels', 'getAllInfo']

const MANAGER_FIELDS = [
  fld('new ProviderManager(options)', 'options', GENERIC, (a, v) => { a.options = v }),
  ...transportFields('options', 'options'),
  fld('addProvider(name)', 'add', withGeneric(PROVIDER_NAMES), (a, v) => { a.addName = v }),
  fld('addProvider(settings)', 'add', GENERIC, (a, v) => { a.addSettings = v }),
  fld('addProvider(settings.apiKey)', 'add', API_KEYS, (a, v) => { a.addSettings.apiKey = v }),
  fld('addProvider(settings.headers)', 'add', HEADERS, (a, v) => { a.addSettings.headers = v }),
  fld('addProvider(settings.baseURL)', 'add', URLS, (a, v) => { a.addSettings.baseURL = v }),
  fld('getProvider(name)', 'call', withGeneric(PROVIDER_NAMES), (a, v) => { a.name = v }, { call: 'getProvider' }),
  fld('route(model)', 'call', withGeneric(MODEL_NAMES), (a, v) => { a.model = v }, { call: 'route' }),
  fld('execute(name)', 'call', withGeneric(PROVIDER_NAMES), (a, v) => { a.name = v }, { call: 'execute' }),
  fld('execute(model)', 'call', withGeneric(MODEL_NAMES), (a, v) => { a.model = v }, { call: 'execute' }),
  fld('autoExecute(model)', 'call', withGeneric(MODEL_NAMES), (a, v) => { a.model = v }, { call: 'autoExecute' }),
  fld('autoExecute(prompt)', 'call', withGeneric(CONTENTS), (a, v) => { a.prompt = v }, { call: 'autoExecute' }),
  fld('autoExecute(opts)', 'call', GENERIC, (a, v) => { a.opts = v }, { call: 'autoExecute' }),
  fld('autoExecute(opts.parameters)', 'call', PARAMETERS, (a, v) => { a.opts = { parameters: v } }, { call: 'autoExecute' }),
  fld('autoStream(model)', 'call', withGeneric(MODEL_NAMES), (a, v) => { a.model = v }, { call: 'autoStream' }),
  fld('autoStream(prompt)', 'call', GENERIC, (a, v) => { a.prompt = v }, { call: 'autoStream' }),
  fld('chat(request)', 'call', GENERIC, (a, v) => { a.request = v }, { call: 'chat' }),
  fld('chat(request.model)', 'call', withGeneric(MODEL_NAMES), (a, v) => { a.request.model = v }, { call: 'chat' }),
  fld('chat(opts)', 'call', GENERIC, (a, v) => { a.opts = v }, { call: 'chat' }),
  fld('listAllModels() after addProvider(settings.headers)', 'add', HEADERS, (a, v) => { a.addSettings.headers = v }, { call: 'listAllModels' }),
]

const MOCK_FIELDS = [
  fld('startMockUpstream(options)', 'options', GENERIC.filter(([n]) => !/^(0|-0|true|false)$/.test(n)), (a, v) => { a.options = v }),
  fld('startMockUpstream(options.port)', 'options', PORTS, (a, v) => { a.options.port = v }),
  fld('startMockUpstream(options.handler)', 'options', HANDLERS, (a, v) => { a.options.handler = v }, { cause: 'none' }),
  fld('startMockUpstream(options with throwing getters)', 'options', [['options with throwing port/handler getters', (c) => throwingGetters(c, 'mock options', ['port', 'handler']), { user: true }]], (a, v) => { a.options = v }),
]

// Cases pinned at the start of their family: the known crashers and leaks, run whatever the seed.
const PINNED = {
  makeLiteLLMProvider: [
    ['defaultHeaders (arg 4)', '1 MB string (used to SIGABRT)'],
    ['apiKey (arg 2)', "['sk', KEY]"],
    ['apiKey (arg 2)', '{ key: KEY }'],
    ['proxyConfig (arg 3)', '{ httpProxy: unparsable string with KEY }'],
  ],
  jaf: [
    ['agent.instructions', 'instructions is a string'],
    ['agent.tools', '{} (object)'],
    ['state.messages[0].content', '{ text: 10,000-deep object }'],
    ['agent.instructions', 'instructions throws a marked Error'],
  ],
  createProvider: [
    ['settings.apiKey', "['sk', KEY]"],
    ['settings.headers', '1 MB string (used to SIGABRT)'],
  ],
  makeModelProvider: [['options.providers[id].headers', '1 MB string (used to SIGABRT)']],
}

// ---- runners ----------------------------------------------------------------------------------

async function runJafCall(ctx, provider, a) {
  const method = a.stream ? 'getCompletionStream' : 'getCompletion'
  const fn = ctx.method(provider, method)
  const out = fn.call(provider, a.state, a.agent, a.config)
  if (a.stream) return ctx.drain(out, { stopAfter: a.stopAfter })
  return ctx.settle(out)
}

const FAMILIES = [
  {
    name: 'makeLiteLLMProvider',
    count: 520,
    fields: LITELLM_FIELDS,
    calls: ['getCompletion', 'getCompletionStream'],
    baseline: (c) => ({ baseURL: c.mockURL, apiKey: c.KEY, proxyConfig: undefined, defaultHeaders: undefined, options: FAST(), state: validState(), agent: validAgent(), config: {} }),
    async run(ctx, a, call) {
      const provider = ctx.api.makeLiteLLMProvider(a.baseURL, a.apiKey, a.proxyConfig, a.defaultHeaders, a.options)
      a.stream = call === 'getCompletionStream'
      return runJafCall(ctx, provider, a)
    },
  },
  {
    name: 'jaf',
    title: 'getCompletion / getCompletionStream inputs',
    count: 640,
    fields: JAF_FIELDS,
    calls: ['litellm.getCompletion', 'litellm.getCompletionStream', 'router.getCompletion', 'router.getCompletionStream'],
    baseline: (c) => ({ state: validState(), agent: validAgent(), config: {} }),
    async run(ctx, a, call) {
      const provider = call.startsWith('litellm')
        ? ctx.api.makeLiteLLMProvider(ctx.mockURL, ctx.KEY, undefined, undefined, FAST())
        : ctx.api.makeModelProvider({ ...FAST(), providers: { openai: { apiKey: ctx.KEY } } })
      a.stream = call.endsWith('Stream')
      return runJafCall(ctx, provider, a)
    },
  },
  {
    name: 'makeModelProvider',
    count: 420,
    fields: MODEL_PROVIDER_FIELDS,
    calls: ['getCompletion', 'getCompletionStream'],
    routed: true,
    baseline: (c, route) => ({ id: route[0], options: { ...FAST(), providers: { [route[0]]: { apiKey: c.KEY } } }, state: validState(), agent: validAgent(route[1]), config: {} }),
    async run(ctx, a, call) {
      const provider = ctx.api.makeModelProvider(a.options)
      a.stream = call === 'getCompletionStream'
      return runJafCall(ctx, provider, a)
    },
  },
  {
    name: 'createProvider',
    count: 560,
    fields: DIRECT_FIELDS,
    calls: DIRECT_CALLS,
    routed: true,
    baseline: (c, route) => ({
      name: route[0],
      settings: { apiKey: c.KEY },
      options: FAST(),
      model: route[1],
      modelName: route[1],
      prompt: 'hi',
      opts: {},
      request: { model: route[1], messages: [{ role: 'user', content: 'hi' }] },
      query: { query: 'fuzz' },
      method: 'GET',
      path: '/models',
      payload: undefined,
      framing: 'ndjson',
    }),
    async run(ctx, a, call) {
      const provider = ctx.api.createProvider(a.name, a.settings, a.options)
      const fn = ctx.method(provider, call)
      const args = {
        execute: [a.model, a.prompt, a.opts],
        streamExecute: [a.model, a.prompt, a.opts],
        chat: [a.request, a.opts],
        stream: [a.request, a.opts],
        embed: [a.request, a.opts],
        listModels: [],
        searchModels: [a.query],
        validateConfig: [],
        getInfo: [],
        request: [a.method, a.path, a.payload],
        requestStream: [a.method, a.path, a.payload, a.framing],
        pullModel: [a.model],
        deleteModel: [a.model],
        health: [],
        getCredits: [],
      }[call]
      const out = fn.apply(provider, args)
      if (['streamExecute', 'stream', 'requestStream', 'pullModel'].includes(call)) return ctx.drain(out, { stopAfter: a.stopAfter })
      return ctx.settle(out)
    },
  },
  {
    name: 'ProviderManager',
    count: 400,
    fields: MANAGER_FIELDS,
    calls: MANAGER_CALLS,
    routed: true,
    baseline: (c, route) => ({
      options: FAST(),
      addName: route[0],
      addSettings: { apiKey: c.KEY },
      name: route[0],
      model: route[1],
      prompt: 'hi',
      opts: {},
      request: { model: route[1], messages: [{ role: 'user', content: 'hi' }] },
    }),
    async run(ctx, a, call) {
      const manager = new ctx.api.ProviderManager(a.options)
      ctx.method(manager, 'addProvider').call(manager, a.addName, a.addSettings)
      const fn = ctx.method(manager, call)
      const args = {
        getProvider: [a.name],
        route: [a.model],
        execute: [a.name, a.model, a.prompt, a.opts],
        autoExecute: [a.model, a.prompt, a.opts],
        autoStream: [a.model, a.prompt, a.opts],
        chat: [a.request, a.opts],
        listAllModels: [],
        getAllInfo: [],
      }[call]
      const out = fn.apply(manager, args)
      if (call === 'autoStream') return ctx.drain(out, { stopAfter: a.stopAfter })
      return ctx.settle(out)
    },
  },
  {
    name: 'startMockUpstream',
    count: 90,
    fields: MOCK_FIELDS,
    calls: ['startMockUpstream+getCompletion'],
    baseline: () => ({ options: {} }),
    async run(ctx, a) {
      const mock = await ctx.settle(ctx.testing.startMockUpstream(a.options))
      try {
        const url = mock?.url
        const provider = ctx.api.makeLiteLLMProvider(url, ctx.KEY, undefined, undefined, { maxRetries: 0, timeoutMs: 1000, connectTimeoutMs: 500 })
        return await ctx.settle(provider.getCompletion(validState(), validAgent(), {}))
      } finally {
        await mock?.close?.()
      }
    },
  },
]

// ---- the plan ---------------------------------------------------------------------------------

function shuffled(list, rng) {
  const out = list.slice()
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

const planCache = new Map()

/** Each family's (field, value) pairs in a seeded order; pinned pairs first. */
function familyPairs(seed, family) {
  const key = `${seed}:${family.name}`
  if (planCache.has(key)) return planCache.get(key)
  const pairs = []
  family.fields.forEach((f, fi) => f.pool.forEach((_, vi) => pairs.push([fi, vi])))
  const rest = shuffled(pairs, mulberry32(seed ^ family.name.length * 7919))
  const pinned = (PINNED[family.name] ?? []).map(([label, valueName]) => {
    const fi = family.fields.findIndex((f) => f.label === label)
    const vi = fi < 0 ? -1 : family.fields[fi].pool.findIndex(([n]) => n === valueName)
    if (fi < 0 || vi < 0) throw new Error(`fuzz plan: pinned case ${label} = ${valueName} not found`)
    return [fi, vi]
  })
  const pinnedKeys = new Set(pinned.map((p) => p.join(',')))
  const ordered = [...pinned, ...rest.filter((p) => !pinnedKeys.has(p.join(',')))]
  planCache.set(key, ordered)
  return ordered
}

export const FAMILY_NAMES = FAMILIES.map((f) => f.name)
export const FAMILY_TITLES = Object.fromEntries(FAMILIES.map((f) => [f.name, f.title ?? f.name]))
export const TOTAL_CASES = FAMILIES.reduce((n, f) => n + f.count, 0)

/** Which family a case number falls in, and its index inside it. */
function locate(i) {
  let start = 0
  for (const family of FAMILIES) {
    if (i < start + family.count) return { family, j: i - start, start }
    start += family.count
  }
  throw new RangeError(`no fuzz case ${i}`)
}

export function familyRanges() {
  let start = 0
  return FAMILIES.map((f) => {
    const r = { name: f.name, start, end: start + f.count }
    start += f.count
    return r
  })
}

/**
 * Case i: `meta` (printable) and `run(ctx)`. One or two fields of a valid baseline are replaced
 * by malformed values; the call is then made and its outcome checked by the child runner.
 */
export function caseAt(seed, i) {
  const { family, j } = locate(i)
  const rng = mulberry32(caseSeed(seed, i))
  const pairs = familyPairs(seed, family)
  const [fi, vi] = pairs[j % pairs.length]
  const mutations = [[fi, vi]]
  const first = family.fields[fi]
  // One case in six also breaks a field of another argument.
  if (j >= (PINNED[family.name]?.length ?? 0) && rng() < 1 / 6) {
    const others = family.fields.map((f, k) => k).filter((k) => family.fields[k].root !== first.root && !family.fields[k].call && !family.fields[k].route)
    if (others.length) {
      const k = others[Math.floor(rng() * others.length)]
      mutations.push([k, Math.floor(rng() * family.fields[k].pool.length)])
    }
  }
  let call = first.call ?? family.calls[Math.floor(rng() * family.calls.length)]
  let route = null
  if (family.routed) {
    const wanted = mutations.map(([k]) => family.fields[k].route).find(Boolean)
    route = wanted ? ROUTES.find((r) => r[0] === wanted) : ROUTES[Math.floor(rng() * ROUTES.length)]
  }
  const streaming = /^(litellm\.|router\.)?getCompletionStream$|^(streamExecute|stream|requestStream|pullModel|autoStream)$/.test(call)
  const stopAfter = rng() < 0.2 && streaming ? 1 : undefined
  const parts = mutations.map(([k, v]) => {
    const f = family.fields[k]
    const [valueName, , flags = {}] = f.pool[v]
    return { field: f.label, value: valueName, user: !!flags.user, cause: flags.cause ?? f.cause ?? 'strict' }
  })
  const where = route ? ` [${route[0]}]` : ''
  const meta = {
    i,
    family: family.name,
    call,
    route: route?.[0],
    mutations: parts,
    desc: `${family.name}${where}: ${parts.map((p) => `${p.field} = <${p.value}>`).join(', ')} → ${call}${stopAfter ? ' (stop after 1 chunk)' : ''}`,
  }
  return {
    meta,
    async run(ctx) {
      const a = family.baseline(ctx, route)
      a.stopAfter = stopAfter
      for (const [k, v] of mutations) {
        const value = family.fields[k].pool[v][1](ctx)
        family.fields[k].set(a, value)
      }
      // config.modelOverride only counts when the agent names no model.
      if (a.dropModel && a.agent && typeof a.agent === 'object' && !ctx.isProxy(a.agent)) Reflect.deleteProperty(a.agent, 'modelConfig')
      if (call === 'embed' && a.request && typeof a.request === 'object' && !ctx.isProxy(a.request) && !('input' in a.request)) {
        // embed's request is { model, input }: the baseline has messages, give it an input too.
        Reflect.set(a.request, 'input', 'hi')
      }
      ctx.beginCall()
      return family.run(ctx, a, call)
    },
  }
}

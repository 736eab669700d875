// The JS boundary: the error kinds are defined once, bad input of the shapes users really pass is
// a typed error naming its path (never a TypeError, a napi conversion message or a key), user
// callbacks that throw are the cause, and usage and cost come from the core.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import util from 'node:util'
import { rejection, throwsSync, assertSwitchyard } from './support/assertions.mjs'

const require = createRequire(import.meta.url)
const sy = require('../lib/index.js')
const native = require('../index.js')
const { startMockUpstream, completion, streamChunks } = require('../lib/testing.js')
const { z } = require('zod')

const KEY = 'sk-boundary-5f0c3a9e1b7d44c2a8e6f1d0b3c5a7e9'
const state = (messages = [{ role: 'user', content: 'hi' }]) => ({ messages })
const agent = (extra = {}) => ({ name: 'A', instructions: () => 'sys', modelConfig: { name: 'gpt-4o-mini' }, ...extra })

/** The error is ours, typed, names `path`, and holds the key nowhere. */
function assertInvalid(err, path) {
  assertSwitchyard(err, 'invalid_input')
  if (path) assert.ok(err.message.includes(path) || err.path === path, `message names ${path}: ${err.message}`)
  assert.doesNotMatch(err.message, /Failed to convert|is not a function|Cannot read/)
  const everything = `${err.message}\n${err.stack}\n${util.inspect(err, { depth: 8, showHidden: true })}`
  assert.ok(!everything.includes(KEY), 'the key leaked')
}

describe('error kinds are defined once', () => {
  test('ERROR_KINDS is the core list, and the .d.ts ErrorKind union matches it', () => {
    assert.deepEqual([...sy.ERROR_KINDS], native.errorKinds())
    const dts = readFileSync(new URL('../lib/index.d.ts', import.meta.url), 'utf8')
    const union = /export type ErrorKind =([^]*?)\n\n/.exec(dts)[1]
    assert.deepEqual([...union.matchAll(/'(\w+)'/g)].map((m) => m[1]), native.errorKinds())
  })

  test('native failures resolve as data, never as thrown strings', async () => {
    const client = native.createClient('litellm', { baseUrl: 'http://127.0.0.1:1', apiKey: KEY, maxRetries: 0 })
    const failure = await client.complete('{"model":"m","messages":[]}', 'm', undefined)
    assert.equal(failure.kind, 'network')
    assert.equal(failure.provider, 'litellm')
    assert.ok(!JSON.stringify(failure).includes(KEY))
    assert.equal(native.createClient('nope', {}).kind, 'invalid_input')
  })

  test("a native router's per-call options that are not options resolve as invalid_input", async () => {
    const config = { model_list: [{ model_name: 'g', litellm_params: { model: 'openai/m', api_base: 'http://127.0.0.1:1/v1', api_key: KEY } }] }
    const router = native.createRouter(JSON.stringify(config), {})
    const body = '{"messages":[]}'
    for (const options of ['not json', '{"deadlineMs":-1}', '{"tags":"pii"}', '[]']) {
      const failure = await router.complete('g', body, options)
      assert.equal(failure.kind, 'invalid_input', options)
      assert.match(failure.message, /router call options/)
      assert.equal(router.completeCached('g', body, options), null, 'the cache probe leaves the error to the call')
    }
  })
})

describe('bad input is a typed error naming its path', () => {
  let mock
  before(async () => {
    mock = await startMockUpstream()
  })
  after(() => mock.close())
  const provider = (...args) => sy.makeLiteLLMProvider(mock.url, KEY, ...args)

  test('defaultHeaders as a 1 MB string is refused at once', () => {
    const started = performance.now()
    assertInvalid(throwsSync(() => provider(undefined, 'x'.repeat(1 << 20))), 'defaultHeaders')
    assert.ok(performance.now() - started < 1000, 'the event loop was not blocked')
  })

  test('apiKey of the wrong type is refused without echoing it', () => {
    assertInvalid(throwsSync(() => sy.makeLiteLLMProvider(mock.url, ['sk', KEY])), 'apiKey')
    assertInvalid(throwsSync(() => sy.makeLiteLLMProvider(mock.url, { key: KEY })), 'apiKey')
    assertInvalid(throwsSync(() => sy.makeLiteLLMProvider(`http://u:${KEY}@`, KEY)), 'baseURL')
    assertInvalid(throwsSync(() => sy.makeLiteLLMProvider(mock.url, `${KEY}\r\nx-evil: 1`)), 'apiKey')
  })

  test('headers, proxy and options of the wrong shape', () => {
    assertInvalid(throwsSync(() => provider(undefined, { 'bad name': 'x' })), 'defaultHeaders')
    assertInvalid(throwsSync(() => provider(undefined, { 'x-a': `${KEY}\nx-b: 1` })), 'defaultHeaders["x-a"]')
    assertInvalid(throwsSync(() => provider(undefined, { 'x-a': {} })), 'defaultHeaders["x-a"]')
    assertInvalid(throwsSync(() => provider(undefined, Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`h${i}`, 'v'])))), 'defaultHeaders')
    assertInvalid(throwsSync(() => provider({ httpProxy: 42 })), 'proxyConfig.httpProxy')
    assertInvalid(throwsSync(() => provider({ httpsProxy: `ftp://${KEY}@127.0.0.1` })), 'proxyConfig.httpsProxy')
    assertInvalid(throwsSync(() => provider(undefined, undefined, { timeoutMs: NaN })), 'options.timeoutMs')
    assertInvalid(throwsSync(() => provider(undefined, undefined, { maxRetries: -1 })), 'options.maxRetries')
    assertInvalid(throwsSync(() => provider(undefined, undefined, { onUsage: 'yes' })), 'options.onUsage')
    assertInvalid(throwsSync(() => provider(undefined, undefined, { signal: {} })), 'options.signal')
    assertInvalid(throwsSync(() => provider(undefined, undefined, { pricing: { m: { input: 'cheap' } } })), 'options.pricing["m"].input')
  })

  test('agent, state and config fields of the wrong type', async () => {
    const p = provider()
    const cases = [
      [state(), agent({ instructions: 'be nice' }), {}, 'agent.instructions'],
      [state(), agent({ instructions: () => 42 }), {}, 'agent.instructions(state)'],
      [state(), agent({ tools: {} }), {}, 'agent.tools'],
      [state(), agent({ tools: [{ schema: { name: 'f', parameters: { _def: { typeName: 'ZodObject', shape: 5 } } } }] }), {}, 'agent.tools[0].schema.parameters'],
      [state(), agent({ tools: [{ schema: { name: 'f', parameters: z.object({ f: z.function() }) } }] }), {}, 'tool "f"'],
      [state(), agent({ tools: [null] }), {}, 'agent.tools[0]'],
      [state(), agent({ modelConfig: { name: 'm', temperature: 'hot' } }), {}, 'agent.modelConfig.temperature'],
      [state(), agent({ modelConfig: { name: 'm', maxTokens: 1.5 } }), {}, 'agent.modelConfig.maxTokens'],
      [{ messages: 'hi' }, agent(), {}, 'state.messages'],
      [state([{ role: 'user', content: 42 }]), agent(), {}, 'state.messages[0].content'],
      [state([{ role: 'user', content: [{ type: 'text', text: 7 }] }]), agent(), {}, 'state.messages[0].content[0].text'],
      [state([{ role: 'user', content: 'x', attachments: [{ kind: 'video' }] }]), agent(), {}, 'state.messages[0].attachments[0].kind'],
      [state([{ role: 'assistant', content: '', tool_calls: [{ id: 'c', function: { name: 'f', arguments: {} } }] }]), agent(), {}, 'state.messages[0].tool_calls[0].function.arguments'],
      [state(), agent({ modelConfig: undefined }), { modelOverride: 5 }, 'config.modelOverride'],
      [state(), agent(), { signal: 'stop' }, 'config.signal'],
      [null, agent(), {}, 'state'],
      [state(), 'agent', {}, 'agent'],
    ]
    for (const [s, a, c, path] of cases) {
      assertInvalid(await rejection(p.getCompletion(s, a, c)), path)
      assertInvalid(await rejection((async () => { for await (const _ of p.getCompletionStream(s, a, c)); })()), path)
    }
    assert.equal(mock.requests.length, 0, 'nothing was sent')
  })

  test('deep nesting and cycles are refused, never a stack overflow', async () => {
    let deep = 'x'
    for (let i = 0; i < 10_000; i++) deep = [deep]
    const p = provider()
    assertInvalid(await rejection(p.getCompletion(state([{ role: 'user', content: [{ type: 'text', text: deep }] }]), agent(), {})), 'state.messages[0].content[0].text')
    const openai = sy.createProvider('openai', { baseURL: mock.url, apiKey: KEY })
    assertInvalid(await rejection(openai.chat({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], metadata: deep })), 'nests deeper')
    const cyclic = { model: 'gpt-4o', messages: [] }
    cyclic.messages.push({ role: 'user', content: 'x', self: cyclic })
    assertInvalid(await rejection(openai.chat(cyclic)), 'request.messages[0].self')
    assertInvalid(await rejection(openai.chat({ model: 'gpt-4o', messages: [], n: 10n })), 'request.n')
    assert.equal(mock.requests.length, 0)
  })

  test('a throwing callback or getter rejects the call with the user error as cause', async () => {
    const mine = Object.assign(new Error('from the user'), { marker: 'mine' })
    const p = provider()
    let err = await rejection(p.getCompletion(state(), agent({ instructions: () => { throw mine } }), {}))
    assertInvalid(err, 'agent.instructions(state)')
    assert.equal(err.cause, mine)
    const trap = new Proxy({}, { get() { throw mine } })
    err = await rejection(p.getCompletion(trap, agent(), {}))
    assertInvalid(err, 'state.messages')
    assert.equal(err.cause, mine)
    const getter = { get messages() { throw mine } }
    err = await rejection(p.getCompletion(getter, agent(), {}))
    assert.equal(err.cause, mine)
    const revoked = Proxy.revocable({}, {})
    revoked.revoke()
    assertInvalid(await rejection(p.getCompletion(state(), revoked.proxy, {})), 'agent')
  })

  test('onUsage that throws does not change the call outcome', async () => {
    mock.reply({ json: completion({ content: 'ok' }) })
    const warnings = []
    const onWarning = (w) => warnings.push(w)
    process.on('warning', onWarning)
    const p = provider(undefined, undefined, { onUsage: () => { throw new Error(`boom ${KEY}`) } })
    const res = await p.getCompletion(state(), agent(), {})
    await new Promise((r) => setImmediate(r))
    process.off('warning', onWarning)
    assert.equal(res.message.content, 'ok')
    assert.equal(warnings.length, 1)
    assert.ok(!warnings[0].message.includes(KEY), 'the warning never repeats what the callback threw')
  })

  test('createProvider, makeModelProvider and ProviderManager check their arguments', async () => {
    assertInvalid(throwsSync(() => sy.createProvider(42)), 'name')
    assertInvalid(throwsSync(() => sy.createProvider('openai', { apiKey: [KEY] })), 'settings.apiKey')
    assertInvalid(throwsSync(() => sy.createProvider('openai', {}, { timeoutMs: -5 })), 'options.timeoutMs')
    assertInvalid(throwsSync(() => sy.makeModelProvider({ providers: { openai: { baseURL: 7 } } })), 'options.providers["openai"].baseURL')
    assertInvalid(throwsSync(() => new sy.ProviderManager({ maxRetries: 'many' })), 'options.maxRetries')
    const openai = sy.createProvider('openai', { baseURL: mock.url, apiKey: KEY })
    assertInvalid(await rejection(openai.execute('gpt-4o', { text: 'hi' })), 'prompt')
    assertInvalid(await rejection(openai.execute('gpt-4o', 'hi', { parameters: { temp: 1, temperature: 1 } })), 'temperature')
    assertInvalid(await rejection(openai.chat(null)), 'request')
    assertInvalid(await rejection(openai.chat({ model: 5, messages: [] })), 'request.model')
    assertInvalid(await rejection(openai.request('GET', 'no-slash')), 'path')
    assertInvalid(await rejection(openai.request('GET\r\n', '/x')), 'method')
    assertInvalid(await rejection((async () => { for await (const _ of openai.stream({ model: 'gpt-4o', messages: [] }, { signal: 1 })); })()), 'opts.signal')
    const manager = new sy.ProviderManager()
    assertInvalid(throwsSync(() => manager.getProvider(Symbol('x'))), 'name')
    assertInvalid(await rejection(manager.chat(undefined)), 'request')
    assertInvalid(await rejection(manager.autoExecute(12, 'hi')), 'model')
    assertInvalid(throwsSync(() => sy.resolveModel(undefined)), 'model')
    assertInvalid(throwsSync(() => sy.getProviderFromModel(null)), 'model')
  })

  test('makeRouter checks its config and options, and never echoes a key', async () => {
    const base = { model_name: 'g', litellm_params: { model: 'openai/m', api_base: mock.url, api_key: KEY } }
    const bad = [
      [42, 'config'],
      [{ model_list: 'all' }, 'model_list'],
      [{ model_list: [] }, 'model_list'],
      [{ model_list: [{ model_name: 'g' }] }, 'model_list[0]'],
      [{ model_list: [{ ...base, litellm_params: { ...base.litellm_params, rpm: KEY } }] }, 'model_list[0].litellm_params.rpm'],
      [{ model_list: [{ ...base, litellm_params: { ...base.litellm_params, model: KEY } }] }, 'model_list[0].litellm_params.model'],
      [{ model_list: [base], router_settings: { retry_policy: { [KEY]: 1 } } }, 'retry_policy'],
      [{ model_list: [base], router_settings: { hedge: { delay_ms: 'soon' } } }, 'hedge'],
      [{ model_list: [base], litellm_settings: { cache: true, cache_params: { type: 'memcached' } } }, 'cache_params.type'],
      [{ model_list: [base], router_settings: { redis_host: '127.0.0.1', redis_port: 70000 } }, 'redis_port'],
      [{ model_list: [base], router_settings: { redis_url: `${KEY}://nowhere` } }, 'redis_url'],
      ['/no/such/config.yaml', 'config.yaml'],
    ]
    for (const [config, path] of bad) assertInvalid(throwsSync(() => sy.makeRouter(config)), path)
    assertInvalid(throwsSync(() => sy.makeRouter({ model_list: [base] }, { onEvent: 'log' })), 'options.onEvent')
    const router = sy.makeRouter({ model_list: [base] })
    assertInvalid(await rejection(router.complete(null)), 'request')
    assertInvalid(await rejection(router.complete({ model: 'g', messages: [], cache: { 'no-cache': 'yes' } })), 'request.cache.no-cache')
    assertInvalid(await rejection(router.getCompletion(state(), agent({ modelConfig: { name: 'g' }, tools: 3 }), {})), 'agent.tools')
    assert.ok(!JSON.stringify(router.stats()).includes(KEY))
  })

  test('the testing helper checks its options', async () => {
    assertInvalid(await rejection(startMockUpstream({ port: -1 })), 'options.port')
    assertInvalid(await rejection(startMockUpstream({ handler: 'reply' })), 'options.handler')
  })
})

describe('makeModelProvider shares the client construction', () => {
  test('OpenRouter app headers (appName / appUrl) reach the upstream', async () => {
    const mock = await startMockUpstream()
    after(() => mock.close())
    mock.reply({ json: completion({ content: 'ok' }) })
    const p = sy.makeModelProvider({ providers: { openrouter: { baseURL: mock.url, apiKey: KEY, appName: 'My App', appUrl: 'https://example.com' } } })
    await p.getCompletion(state(), agent({ modelConfig: { name: 'openrouter/openai/gpt-4o' } }), {})
    assert.equal(mock.requests[0].headers['x-title'], 'My App')
    assert.equal(mock.requests[0].headers['http-referer'], 'https://example.com')
  })
})

describe('usage and cost come from the core', () => {
  let mock
  before(async () => {
    mock = await startMockUpstream()
  })
  after(() => mock.close())

  test('cached prompt tokens are billed at the cached price', async () => {
    const reports = []
    const p = sy.makeLiteLLMProvider(mock.url, KEY, undefined, undefined, { onUsage: (r) => reports.push(r) })
    const usage = { prompt_tokens: 1_000_000, completion_tokens: 100_000, prompt_tokens_details: { cached_tokens: 600_000 } }
    mock.reply({ json: completion({ content: 'x', model: 'gpt-4o', usage }) })
    await p.getCompletion(state(), agent({ modelConfig: { name: 'gpt-4o' } }), {})
    // gpt-4o: $2.50 input, $1.25 cached input, $10 output per million.
    assert.ok(Math.abs(reports[0].cost - (0.4 * 2.5 + 0.6 * 1.25 + 0.1 * 10)) < 1e-9, `cost ${reports[0].cost}`)
    assert.deepEqual(reports[0].usage.prompt_tokens_details, { cached_tokens: 600_000 })
  })

  test('reasoning tokens are reported and billed at a custom reasoning price; streams too', async () => {
    const reports = []
    const pricing = { 'house-model': { input: 1, output: 2, reasoning: 10 } }
    const p = sy.makeLiteLLMProvider(mock.url, KEY, undefined, undefined, { onUsage: (r) => reports.push(r), pricing })
    const usage = { prompt_tokens: 1000, completion_tokens: 500, completion_tokens_details: { reasoning_tokens: 300 } }
    mock.reply({ sse: streamChunks({ content: 'a b', model: 'house-model', usage }) })
    for await (const _ of p.getCompletionStream(state(), agent({ modelConfig: { name: 'house-model' } }), {}));
    assert.equal(reports[0].outcome, 'ok')
    assert.deepEqual(reports[0].usage.completion_tokens_details, { reasoning_tokens: 300 })
    assert.ok(Math.abs(reports[0].cost - (1000 * 1 + 200 * 2 + 300 * 10) / 1e6) < 1e-12, `cost ${reports[0].cost}`)
  })

  test('an aborted stream still reports an estimated, costed usage', async () => {
    const reports = []
    const p = sy.makeLiteLLMProvider(mock.url, KEY, undefined, undefined, { onUsage: (r) => reports.push(r) })
    mock.reply({ sse: streamChunks({ content: 'one two three four', includeUsage: false }), chunkDelayMs: 20 })
    for await (const chunk of p.getCompletionStream(state(), agent({ modelConfig: { name: 'gpt-4o' } }), {})) if (chunk.delta) break
    assert.equal(reports[0].outcome, 'aborted')
    assert.equal(reports[0].estimated, true)
    assert.ok(reports[0].cost > 0)
  })
})

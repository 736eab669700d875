// OpenTelemetry spans (GenAI semantic conventions) through the app's own tracer provider: a span
// per call and per router attempt, against real loopback upstreams, and nothing at all when
// `@opentelemetry/api` is not installed or nothing records.
import { test, describe, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const { trace, context, SpanKind, SpanStatusCode } = require('@opentelemetry/api')
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, AlwaysOffSampler } = require('@opentelemetry/sdk-trace-base')
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks')
const { makeRouter, makeLiteLLMProvider, makeModelProvider } = require('../lib/index.js')
const { startMockUpstream, completion, streamChunks, errorBody } = require('../lib/testing.js')
const binding = require('../lib/binding.js')
const { platformTarget } = require('../lib/platform.js')

const KEY = 'sk-otel-test-7c1e9a2b4d6f80a1b2c3d4e5'
const state = { messages: [{ role: 'user', content: 'hi' }] }
const agentFor = (model) => ({ name: 'A', instructions: () => 'sys', modelConfig: { name: model } })
const messages = [{ role: 'user', content: 'hi' }]
const usage = { prompt_tokens: 7, completion_tokens: 3 }

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const tracer = () => trace.getTracer('app')
const everySpan = []

let mocks = []
before(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  trace.setGlobalTracerProvider(provider)
  mocks = await Promise.all(Array.from({ length: 2 }, () => startMockUpstream()))
})
after(async () => {
  await Promise.all(mocks.map((m) => m.close()))
  trace.disable()
  context.disable()
})
beforeEach(() => {
  everySpan.push(...exporter.getFinishedSpans())
  exporter.reset()
  mocks.forEach((m) => m.reset())
})

const dep = (group, i, extra = {}) => ({
  model_name: group,
  litellm_params: { model: `openai/model-${i}`, api_base: mocks[i].url, api_key: KEY, ...extra },
  model_info: { id: `${group}-${i}` },
})
const spans = () => exporter.getFinishedSpans()
const named = (name) => spans().filter((s) => s.name === name)
const callSpan = () => {
  const calls = spans().filter((s) => s.attributes['switchyard.attempt'] === undefined && s.instrumentationScope.name === 'switchyard-llm')
  assert.equal(calls.length, 1, `one call span, got ${calls.map((s) => s.name)}`)
  return calls[0]
}
const attemptsOf = (call) => spans().filter((s) => s.parentSpanContext?.spanId === call.spanContext().spanId)
const ms = ([s, ns]) => s * 1e3 + ns / 1e6

/** `fn` under an app span: returns what it returned and that span. */
async function underAppSpan(fn) {
  let parent
  const out = await tracer().startActiveSpan('app', async (span) => {
    parent = span
    try {
      return await fn()
    } finally {
      span.end()
    }
  })
  return { out, parent }
}

describe('routed calls', () => {
  test('a retry then success: a call span under the active one, two attempt spans, the first failed', async () => {
    const router = makeRouter({ model_list: [dep('g', 0, { order: 1 }), dep('g', 1, { order: 2 })] })
    mocks[0].reply({ error: { status: 500 } })
    mocks[1].reply({ json: completion({ content: 'ok', model: 'served-1', usage }) })
    const { out, parent } = await underAppSpan(() => router.getCompletion(state, agentFor('g'), {}))
    assert.equal(out.message.content, 'ok')

    const call = callSpan()
    assert.equal(call.name, 'chat g')
    assert.equal(call.kind, SpanKind.CLIENT)
    assert.equal(call.parentSpanContext?.spanId, parent.spanContext().spanId, 'the call joins the active context')
    assert.equal(call.spanContext().traceId, parent.spanContext().traceId)
    assert.deepEqual(call.attributes, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'g',
      'gen_ai.response.model': 'served-1',
      'gen_ai.response.id': call.attributes['gen_ai.response.id'],
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 7,
      'gen_ai.usage.output_tokens': 3,
      'gen_ai.provider.name': 'openai',
      'switchyard.deployment': 'g-1',
      'switchyard.retries': 1,
      'switchyard.fallbacks': 0,
      'switchyard.cache_hit': false,
    })
    assert.match(call.attributes['gen_ai.response.id'], /^chatcmpl-/)
    assert.equal(call.status.code, SpanStatusCode.UNSET)

    const [first, second] = attemptsOf(call)
    assert.equal(attemptsOf(call).length, 2)
    assert.deepEqual(
      [first, second].map((s) => [s.name, s.kind, s.attributes['switchyard.deployment'], s.attributes['switchyard.attempt'], s.attributes['gen_ai.provider.name']]),
      [
        ['chat model-0', SpanKind.CLIENT, 'g-0', 0, 'openai'],
        ['chat model-1', SpanKind.CLIENT, 'g-1', 1, 'openai'],
      ],
    )
    assert.equal(first.attributes['error.type'], 'upstream_error')
    assert.equal(first.status.code, SpanStatusCode.ERROR)
    assert.equal(second.attributes['error.type'], undefined)
    assert.equal(second.status.code, SpanStatusCode.UNSET)
    // The attempts sit in order on the call's timeline (the events' wall-clock times).
    const slack = 5
    assert.ok(ms(call.startTime) <= ms(first.startTime) + slack)
    assert.ok(ms(first.startTime) <= ms(first.endTime) && ms(first.endTime) <= ms(second.startTime))
    assert.ok(ms(second.endTime) <= ms(call.endTime) + slack)
  })

  test('a fallback: switchyard.fallbacks = 1, the attempt in the fallback group names it', async () => {
    const router = makeRouter({ model_list: [dep('g', 0), dep('h', 1)], router_settings: { num_retries: 0, fallbacks: [{ g: ['h'] }] } })
    mocks[0].reply({ error: { status: 503 } })
    const out = await router.complete({ model: 'g', messages })
    assert.equal(out.choices[0].message.content, 'ok')
    const call = callSpan()
    assert.equal(call.name, 'chat g')
    assert.equal(call.attributes['switchyard.fallbacks'], 1)
    assert.equal(call.attributes['switchyard.retries'], 0)
    assert.equal(call.attributes['switchyard.deployment'], 'h-1')
    const attempts = attemptsOf(call)
    assert.deepEqual(
      attempts.map((s) => [s.attributes['switchyard.group'], s.attributes['error.type']]),
      [
        ['g', 'upstream_error'],
        ['h', undefined],
      ],
    )
  })

  test('a failing call: status ERROR and error.type is the SwitchyardError kind, on the call and its attempt', async () => {
    const router = makeRouter({ model_list: [dep('g', 0)], router_settings: { num_retries: 0 } })
    // OpenAI's 401 quotes the key it was sent: the span must not.
    mocks[0].reply({ error: { status: 401, body: errorBody(`Incorrect API key provided: ${KEY}.`) } })
    const err = await router.complete({ model: 'g', messages }).catch((e) => e)
    assert.equal(err.kind, 'auth')
    const call = callSpan()
    assert.equal(call.status.code, SpanStatusCode.ERROR)
    assert.match(call.status.message, /Incorrect API key provided/)
    assert.equal(call.attributes['error.type'], 'auth')
    assert.equal(call.attributes['gen_ai.provider.name'], 'openai', 'named after the deployment tried')
    const [attempt] = attemptsOf(call)
    assert.equal(attempt.attributes['error.type'], 'auth')
    assert.equal(attempt.status.code, SpanStatusCode.ERROR)
  })

  test('a governance refusal: error.type policy, a switchyard.policy_denied event, no attempt span', async () => {
    const router = makeRouter({ model_list: [dep('g', 0)], governance: { tags: { free: { deny: ['g'] } } } })
    const err = await router.complete({ model: 'g', messages }, { tags: ['free'] }).catch((e) => e)
    assert.equal(err.kind, 'policy')
    const call = callSpan()
    assert.equal(call.attributes['error.type'], 'policy')
    assert.deepEqual(
      call.events.map((e) => [e.name, e.attributes['switchyard.rule']]),
      [['switchyard.policy_denied', 'governance.tags.free.deny']],
    )
    assert.deepEqual(attemptsOf(call), [])
  })

  test('a cache hit: switchyard.cache_hit, no attempt span', async () => {
    const router = makeRouter({ model_list: [dep('g', 0)], litellm_settings: { cache: true } })
    mocks[0].reply({ json: completion({ content: 'cached', model: 'served-0', usage }) })
    await router.complete({ model: 'g', messages })
    exporter.reset()
    const out = await router.complete({ model: 'g', messages })
    assert.equal(out.choices[0].message.content, 'cached')
    assert.equal(mocks[0].requests.length, 1)
    const call = callSpan()
    assert.equal(call.attributes['switchyard.cache_hit'], true)
    assert.equal(call.attributes['gen_ai.response.model'], 'served-0')
    assert.equal(call.attributes['gen_ai.usage.input_tokens'], 7)
    assert.deepEqual(attemptsOf(call), [])
  })

  test('Redis unreachable: a switchyard.state_unavailable event on the call span', async () => {
    const closed = await new Promise((resolve) => {
      const server = require('node:net').createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address()
        server.close(() => resolve(port))
      })
    })
    const router = makeRouter({ model_list: [dep('g', 0, { rpm: 10 })], router_settings: { redis_host: '127.0.0.1', redis_port: closed } })
    await router.complete({ model: 'g', messages })
    const event = callSpan().events.find((e) => e.name === 'switchyard.state_unavailable')
    assert.equal(event?.attributes['switchyard.backend'], 'redis')
  })

  test('embeddings: operation embeddings, input tokens', async () => {
    const router = makeRouter({ model_list: [dep('e', 0)] })
    mocks[0].reply({ json: { object: 'list', model: 'embed-0', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], usage: { prompt_tokens: 4, total_tokens: 4 } } })
    await router.embed({ model: 'e', input: 'hello' })
    const call = callSpan()
    assert.equal(call.name, 'embeddings e')
    assert.equal(call.attributes['gen_ai.operation.name'], 'embeddings')
    assert.equal(call.attributes['gen_ai.usage.input_tokens'], 4)
    assert.equal(call.attributes['gen_ai.usage.output_tokens'], undefined)
    assert.deepEqual(
      attemptsOf(call).map((s) => s.name),
      ['embeddings model-0'],
    )
  })
})

describe('streams', () => {
  test('the span ends with the stream, with its usage and model', async () => {
    const router = makeRouter({ model_list: [dep('g', 0)] })
    mocks[0].reply({ sse: streamChunks({ content: 'a b c', model: 'served-0', usage }), chunkDelayMs: 20 })
    const iterator = router.stream({ model: 'g', messages })[Symbol.asyncIterator]()
    await iterator.next()
    assert.equal(named('chat g').length, 0, 'no span ends while the stream is open')
    while (!(await iterator.next()).done);
    const call = callSpan()
    assert.equal(call.attributes['gen_ai.usage.input_tokens'], 7)
    assert.equal(call.attributes['gen_ai.usage.output_tokens'], 3)
    assert.equal(call.attributes['gen_ai.response.model'], 'served-0')
    assert.deepEqual(call.attributes['gen_ai.response.finish_reasons'], ['stop'])
    assert.equal(call.attributes['switchyard.deployment'], 'g-0')
    assert.equal(attemptsOf(call).length, 1)
    assert.ok(ms(attemptsOf(call)[0].endTime) <= ms(call.endTime) + 5)
  })

  test('a JAF stream broken out of ends its span, without an error', async () => {
    const router = makeRouter({ model_list: [dep('g', 0)] })
    mocks[0].reply({ sse: streamChunks({ content: 'one two three four' }), chunkDelayMs: 20 })
    for await (const event of router.getCompletionStream(state, agentFor('g'), {})) if (event.delta) break
    const call = callSpan()
    assert.equal(call.status.code, SpanStatusCode.UNSET)
    assert.equal(call.attributes['gen_ai.usage.input_tokens'], undefined, 'the usage had not arrived')
    assert.equal(attemptsOf(call).length, 1)
  })

  test('an aborted stream ends its span with error.type aborted', async () => {
    const provider = makeLiteLLMProvider(mocks[0].url, KEY)
    mocks[0].reply({ sse: streamChunks({ content: 'one two three four five' }), chunkDelayMs: 50 })
    const controller = new AbortController()
    const err = await (async () => {
      for await (const event of provider.getCompletionStream(state, agentFor('m'), { signal: controller.signal })) if (event.delta) controller.abort()
    })().catch((e) => e)
    assert.equal(err?.kind, 'aborted')
    const call = callSpan()
    assert.equal(call.status.code, SpanStatusCode.ERROR)
    assert.equal(call.attributes['error.type'], 'aborted')
  })
})

test('a makeLiteLLMProvider call: one call span, provider openai, no router attributes', async () => {
  const provider = makeLiteLLMProvider(mocks[0].url, KEY)
  mocks[0].reply({ json: completion({ content: 'hi', model: 'gpt-4o-mini', usage }) })
  await provider.getCompletion(state, agentFor('gpt-4o-mini'), {})
  assert.equal(spans().length, 1)
  const call = callSpan()
  assert.equal(call.name, 'chat gpt-4o-mini')
  assert.equal(call.kind, SpanKind.CLIENT)
  assert.equal(call.attributes['gen_ai.provider.name'], 'openai')
  assert.equal(call.attributes['gen_ai.response.model'], 'gpt-4o-mini')
  assert.equal(call.attributes['gen_ai.usage.output_tokens'], 3)
  assert.equal(call.parentSpanContext, undefined, 'a root span outside any active span')
  assert.deepEqual(
    Object.keys(call.attributes).filter((k) => k.startsWith('switchyard.')),
    [],
  )
})

test('a makeModelProvider call is named after the model and provider it reached', async () => {
  const provider = makeModelProvider({ providers: { mistral: { apiKey: KEY, baseURL: mocks[0].url } } })
  await provider.getCompletion(state, agentFor('mistral/mistral-small'), {})
  const call = callSpan()
  assert.equal(call.name, 'chat mistral-small')
  assert.equal(call.attributes['gen_ai.request.model'], 'mistral-small')
  assert.equal(call.attributes['gen_ai.provider.name'], 'mistral_ai')
})

test('a tracer that records nothing: no span and no events asked of the router', async () => {
  const proto = binding.NativeRouter.prototype
  const complete = proto.complete
  const asked = []
  proto.complete = function (group, body, options, abort) {
    asked.push(JSON.parse(options).events)
    return complete.call(this, group, body, options, abort)
  }
  const router = makeRouter({ model_list: [dep('g', 0)] })
  try {
    await router.complete({ model: 'g', messages })
    trace.disable()
    trace.setGlobalTracerProvider(new BasicTracerProvider({ sampler: new AlwaysOffSampler(), spanProcessors: [new SimpleSpanProcessor(exporter)] }))
    await router.complete({ model: 'g', messages })
    await router.getCompletion(state, agentFor('g'), {})
  } finally {
    proto.complete = complete
    trace.disable()
    trace.setGlobalTracerProvider(provider)
  }
  assert.deepEqual(asked, [true, false, false])
  assert.equal(spans().length, 2, 'only the recorded call: its span and its attempt')
})

test('no span attribute, event or status holds the API key', () => {
  everySpan.push(...spans())
  assert.ok(everySpan.length > 15, `${everySpan.length} spans seen`)
  for (const span of everySpan) {
    const text = JSON.stringify({ name: span.name, attributes: span.attributes, events: span.events, status: span.status })
    assert.ok(!text.includes(KEY) && !text.includes(KEY.slice(3, 20)), `${span.name} holds the key`)
  }
})

describe('loading', () => {
  const lib = fileURLToPath(new URL('../lib/', import.meta.url))
  const root = fileURLToPath(new URL('../', import.meta.url))
  const tmp = mkdtempSync(join(tmpdir(), 'switchyard-otel-'))
  after(() => rmSync(tmp, { recursive: true, force: true }))
  const run = (file) => JSON.parse(execFileSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } }))
  const probe = (libDir) => `const lib = ${JSON.stringify(libDir)}
    const otelLoaded = () => Object.keys(require.cache).some((k) => k.includes('@opentelemetry'))
    const sy = require(lib + 'index.js')
    const { startMockUpstream } = require(lib + 'testing.js')
    const atLoad = otelLoaded()
    startMockUpstream().then(async (mock) => {
      const router = sy.makeRouter({ model_list: [{ model_name: 'g', litellm_params: { model: 'openai/m', api_base: mock.url, api_key: 'k' } }] })
      const provider = sy.makeLiteLLMProvider(mock.url, 'k')
      const agent = { name: 'A', instructions: () => 's', modelConfig: { name: 'm' } }
      const answers = [
        (await provider.getCompletion({ messages: [{ role: 'user', content: 'hi' }] }, agent, {})).message.content,
        (await router.complete({ model: 'g', messages: [{ role: 'user', content: 'hi' }] })).choices[0].message.content,
      ]
      for await (const chunk of router.stream({ model: 'g', messages: [{ role: 'user', content: 'hi' }] })) answers.push(chunk.choices[0]?.delta?.content ?? '')
      await mock.close()
      console.log(JSON.stringify({ atLoad, afterCalls: otelLoaded(), answers: answers.join('') }))
    })`

  test('loading does not require @opentelemetry/api; the first call does', () => {
    const file = join(tmp, 'present.cjs')
    writeFileSync(file, probe(lib))
    assert.deepEqual(run(file), { atLoad: false, afterCalls: true, answers: 'okokok' })
  })

  test('without @opentelemetry/api installed every call works and nothing is loaded', () => {
    // The package laid out as an app installs it without the optional peer: lib/ and the addon,
    // and only its own dependencies beside it.
    const pkg = join(tmp, 'app', 'node_modules', 'switchyard-llm')
    cpSync(lib, join(pkg, 'lib'), { recursive: true })
    for (const file of ['index.js', 'package.json']) cpSync(join(root, file), join(pkg, file))
    const addon = `switchyard-llm.${platformTarget()}.node`
    symlinkSync(join(root, addon), join(pkg, addon))
    for (const dep of Object.keys(require('../package.json').dependencies)) {
      mkdirSync(join(pkg, 'node_modules'), { recursive: true })
      symlinkSync(join(root, 'node_modules', dep), join(pkg, 'node_modules', dep))
    }
    const file = join(tmp, 'app', 'absent.cjs')
    writeFileSync(
      file,
      `try { require.resolve('@opentelemetry/api', { paths: [${JSON.stringify(join(pkg, 'lib'))}] }); throw new Error('resolvable') } catch (e) { if (e.code !== 'MODULE_NOT_FOUND') throw e }\n` +
        probe(join(pkg, 'lib') + '/'),
    )
    assert.deepEqual(run(file), { atLoad: false, afterCalls: false, answers: 'okokok' })
  })
})

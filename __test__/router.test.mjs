// The Router against real loopback upstreams that inject the faults: strategies, retries,
// fallbacks, cooldowns, the deadline, stream failover, stats, events and config files.
import { test, describe, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rejection, throwsSync, assertSwitchyard } from './support/assertions.mjs'

const require = createRequire(import.meta.url)
const { makeRouter } = require('../lib/index.js')
const { startMockUpstream, completion, streamChunks, errorBody } = require('../lib/testing.js')

const KEY = 'sk-router-test-4b1d2c3e5f60718293a4b5c6'
const state = { messages: [{ role: 'user', content: 'hi' }] }
const agentFor = (model) => ({ name: 'A', instructions: () => 'sys', modelConfig: { name: model } })

let mocks = []
before(async () => {
  mocks = await Promise.all(Array.from({ length: 4 }, () => startMockUpstream()))
})
after(() => Promise.all(mocks.map((m) => m.close())))
beforeEach(() => mocks.forEach((m) => m.reset()))

/** A deployment of `group` on mock `i`; `extra` goes into litellm_params. */
const dep = (group, i, extra = {}, info = {}) => ({
  model_name: group,
  litellm_params: { model: `openai/model-${i}`, api_base: mocks[i].url, api_key: KEY, ...extra },
  model_info: { id: `${group}-${i}`, ...info },
})
const ok = (content = 'ok') => ({ json: completion({ content }) })
const served = (i) => mocks[i].requests.length
const complete = (router, group = 'g') => router.getCompletion(state, agentFor(group), {})

async function drain(iterable) {
  let text = ''
  for await (const chunk of iterable) if (chunk.delta) text += chunk.delta
  return text
}

describe('strategies', () => {
  test('simple-shuffle follows weight', async () => {
    const router = makeRouter({ model_list: [dep('g', 0, { weight: 1 }), dep('g', 1, { weight: 3 })] })
    for (let i = 0; i < 200; i++) await complete(router)
    const share = served(1) / 200
    assert.ok(share > 0.62 && share < 0.88, `weight 3 of 4 took ${share}`)
  })

  test('round-robin takes each deployment in turn', async () => {
    const router = makeRouter({ model_list: [dep('g', 0), dep('g', 1), dep('g', 2)], router_settings: { routing_strategy: 'round-robin' } })
    for (let i = 0; i < 9; i++) await complete(router)
    assert.deepEqual([served(0), served(1), served(2)], [3, 3, 3])
  })

  test('least-busy avoids the deployment with calls in flight', async () => {
    const router = makeRouter({ model_list: [dep('g', 0), dep('g', 1)], router_settings: { routing_strategy: 'least-busy' } })
    mocks[0].reply({ ...ok('slow'), delayMs: 300 })
    mocks[1].reply({ ...ok('slow'), delayMs: 300 })
    const first = [complete(router), complete(router)] // one each: then both are busy once
    await new Promise((r) => setTimeout(r, 50))
    assert.deepEqual([served(0), served(1)], [1, 1], 'two concurrent calls spread over both')
    await Promise.all(first)
  })

  test('latency-based-routing prefers the faster deployment once measured', async () => {
    const router = makeRouter({ model_list: [dep('g', 0), dep('g', 1)], router_settings: { routing_strategy: 'latency-based-routing' } })
    for (let i = 0; i < 30; i++) mocks[0].reply({ ...ok(), delayMs: 40 })
    for (let i = 0; i < 20; i++) await complete(router)
    assert.ok(served(1) >= 17, `the fast deployment took ${served(1)} of 20`)
  })

  test('cost-based-routing picks the cheapest healthy deployment', async () => {
    const price = (input) => ({ input_cost_per_token: input, output_cost_per_token: input * 2 })
    const router = makeRouter({
      model_list: [dep('g', 0, price(3e-6)), dep('g', 1, price(1e-6)), dep('g', 2, price(2e-6))],
      router_settings: { routing_strategy: 'cost-based-routing', allowed_fails: 0, num_retries: 1 },
    })
    for (let i = 0; i < 4; i++) await complete(router)
    assert.deepEqual([served(0), served(1), served(2)], [0, 4, 0])
    mocks[1].reply({ error: { status: 500 } })
    await complete(router) // fails on the cheapest, cools it, retries on the next cheapest
    await complete(router)
    assert.deepEqual([served(0), served(1), served(2)], [0, 5, 2])
  })

  test('usage-based-routing-v2 stops sending to a deployment at its rpm', async () => {
    const router = makeRouter({
      model_list: [dep('g', 0, { rpm: 3 }), dep('g', 1, { rpm: 1000 })],
      router_settings: { routing_strategy: 'usage-based-routing-v2' },
    })
    for (let i = 0; i < 40; i++) await complete(router)
    assert.ok(served(0) <= 3, `rpm 3 took ${served(0)}`)
    assert.equal(served(0) + served(1), 40)
  })

  test('order tiers fail over even with no retries left', async () => {
    const router = makeRouter({ model_list: [dep('g', 0, { order: 1 }), dep('g', 1, { order: 2 })], router_settings: { num_retries: 0 } })
    mocks[0].reply({ error: { status: 503 } })
    assert.equal((await complete(router)).message.content, 'ok')
    assert.deepEqual([served(0), served(1)], [1, 1])
  })

  test('enable_pre_call_checks skips deployments whose context window cannot hold the prompt', async () => {
    const router = makeRouter({
      model_list: [dep('g', 0, { order: 1 }, { max_input_tokens: 60 }), dep('g', 1, { order: 2 }, { max_input_tokens: 100000 })],
      router_settings: { enable_pre_call_checks: true },
    })
    await router.getCompletion({ messages: [{ role: 'user', content: 'x'.repeat(800) }] }, agentFor('g'), {})
    await complete(router) // a short prompt fits the first
    assert.deepEqual([served(0), served(1)], [1, 1])
  })

  test('an rpm limit holds under concurrent calls', async () => {
    const router = makeRouter({ model_list: [dep('g', 0, { rpm: 5 })], router_settings: { num_retries: 0 } })
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => complete(router)))
    assert.equal(served(0), 5)
    const refused = outcomes.filter((o) => o.status === 'rejected')
    assert.equal(refused.length, 15)
    assert.ok(refused.every((o) => o.reason.kind === 'rate_limited' && o.reason.retryAfter > 0))
  })

  test('order tiers: a failure at the best order moves to the next order within the call', async () => {
    const events = []
    const router = makeRouter(
      { model_list: [dep('g', 0, { order: 1 }), dep('g', 1, { order: 2 }), dep('g', 2, { order: 3 })], router_settings: { num_retries: 2 } },
      { onEvent: (e) => events.push(e) },
    )
    mocks[0].reply({ error: { status: 503 } })
    const res = await complete(router)
    assert.equal(res.message.content, 'ok')
    assert.deepEqual([served(0), served(1), served(2)], [1, 1, 0])
    assert.deepEqual(events.map((e) => e.type), ['request', 'retry', 'request'])
    await complete(router)
    assert.equal(served(0), 2, 'the best order is used again while it is healthy')
  })
})

describe('retries', () => {
  test('a single deployment is retried on 500 with backoff, never on 400', async () => {
    const router = makeRouter({ model_list: [dep('g', 0)], router_settings: { num_retries: 2, allowed_fails: 10 } })
    mocks[0].reply({ error: { status: 500 } }, { error: { status: 500 } }, ok('third time'))
    assert.equal((await complete(router)).message.content, 'third time')
    assert.equal(served(0), 3)
    mocks[0].reset()
    mocks[0].reply({ error: { status: 400, body: errorBody('bad request') } })
    const err = await rejection(complete(router))
    assertSwitchyard(err, 'invalid_request')
    assert.equal(err.status, 400)
    assert.equal(served(0), 1, '400s are not retried')
  })

  test('Retry-After is honoured before retrying the same deployment', async () => {
    const router = makeRouter({ model_list: [dep('g', 0)], router_settings: { num_retries: 1, cooldown_time: 0.001 } })
    mocks[0].reply({ error: { status: 429, headers: { 'retry-after-ms': '120' } } }, ok())
    await complete(router)
    const [first, second] = mocks[0].requests
    assert.ok(second.receivedAt - first.receivedAt >= 110, `waited ${second.receivedAt - first.receivedAt} ms`)
  })

  test('retry_policy sets retries per error class', async () => {
    const router = makeRouter({ model_list: [dep('g', 0)], router_settings: { num_retries: 0, retry_policy: { InternalServerErrorRetries: 2 }, allowed_fails: 10 } })
    mocks[0].reply({ error: { status: 500 } }, { error: { status: 502 } }, ok())
    await complete(router)
    assert.equal(served(0), 3)
  })
})

describe('fallbacks', () => {
  const config = (extra = {}) => ({
    model_list: [dep('a', 0), dep('b', 1), dep('c', 2)],
    router_settings: { num_retries: 1, allowed_fails: 10, fallbacks: [{ a: ['b'] }], context_window_fallbacks: [{ a: ['c'] }], ...extra },
  })

  test("a group's retries come before its fallbacks, and the fallback group retries too", async () => {
    const events = []
    const router = makeRouter(config(), { onEvent: (e) => events.push(e) })
    mocks[0].reply({ error: { status: 500 } }, { error: { status: 500 } })
    mocks[1].reply({ error: { status: 500 } }, ok('from b'))
    assert.equal((await complete(router, 'a')).message.content, 'from b')
    assert.deepEqual([served(0), served(1)], [2, 2])
    assert.ok(events.some((e) => e.type === 'fallback' && e.from === 'a' && e.to === 'b'))
  })

  test("when the whole chain fails, the original group's error is raised", async () => {
    const router = makeRouter(config())
    mocks[0].reply({ error: { status: 503, body: errorBody('a is down') } }, { error: { status: 503, body: errorBody('a is down') } })
    mocks[1].reply({ error: { status: 500, body: errorBody('b is down') } }, { error: { status: 500, body: errorBody('b is down') } })
    const err = await rejection(complete(router, 'a'))
    assert.equal(err.status, 503)
    assert.match(err.message, /a is down/)
    assert.ok(err.events.some((e) => e.type === 'fallback'), 'the error says what was tried')
  })

  test('context_length_exceeded goes to context_window_fallbacks, not the generic ones', async () => {
    const router = makeRouter(config())
    mocks[0].reply({ error: { status: 400, body: errorBody("This model's maximum context length is 8192 tokens", { code: 'context_length_exceeded' }) } })
    mocks[2].reply(ok('long context'))
    assert.equal((await complete(router, 'a')).message.content, 'long context')
    assert.deepEqual([served(0), served(1), served(2)], [1, 0, 1])
  })
})

describe('cooldowns', () => {
  test('more than allowed_fails failures cool a deployment for cooldown_time', async () => {
    const events = []
    const router = makeRouter(
      { model_list: [dep('g', 0), dep('g', 1)], router_settings: { routing_strategy: 'round-robin', allowed_fails: 1, cooldown_time: 60, num_retries: 0 } },
      { onEvent: (e) => events.push(e) },
    )
    mocks[0].reply({ error: { status: 500 } }, { error: { status: 500 } })
    for (let i = 0; i < 8; i++) await complete(router).catch(() => {})
    assert.equal(served(0), 2, 'the second failure cooled it: no more traffic')
    const cooled = events.filter((e) => e.type === 'cooldown')
    assert.equal(cooled.length, 1, JSON.stringify(events))
    assert.equal(cooled[0].deployment, 'g-0')
    assert.ok(router.stats().model_stats.g.deployments['g-0'].cooling_until_ms > Date.now())
  })

  test('a 429 cools at once; with every deployment cooling the call is rate_limited with retryAfter', async () => {
    const router = makeRouter({ model_list: [dep('g', 0)], router_settings: { cooldown_time: 30, num_retries: 0 } })
    mocks[0].reply({ error: { status: 429 } })
    await rejection(complete(router))
    const err = await rejection(complete(router))
    assertSwitchyard(err, 'rate_limited')
    assert.ok(err.retryAfter > 25 && err.retryAfter <= 30, `retryAfter ${err.retryAfter}`)
    assert.equal(served(0), 1, 'nothing was sent while cooling')
  })

  test('wait_for_cooldown waits for the first deployment back, within the deadline', async () => {
    const router = makeRouter({ model_list: [dep('g', 0)], router_settings: { cooldown_time: 0.2, num_retries: 0, wait_for_cooldown: true, deadline: 5 } })
    mocks[0].reply({ error: { status: 429 } })
    await rejection(complete(router))
    assert.equal((await complete(router)).message.content, 'ok')
  })
})

describe('deadline and timeouts', () => {
  test('one deadline covers every retry and fallback', async () => {
    const router = makeRouter({
      model_list: [dep('a', 0), dep('b', 1)],
      router_settings: { deadline: 0.3, num_retries: 5, fallbacks: [{ a: ['b'] }] },
    })
    mocks[0].reply({ hang: true })
    mocks[1].reply({ hang: true })
    const started = Date.now()
    const err = await rejection(complete(router, 'a'))
    assertSwitchyard(err, 'timeout')
    assert.ok(Date.now() - started < 3000, 'it did not wait for the hung upstreams')
  })

  test('stream_timeout fails over a deployment whose first chunk is late', async () => {
    const router = makeRouter({ model_list: [dep('g', 0, { order: 1 }), dep('g', 1, { order: 2 })], router_settings: { stream_timeout: 0.2 } })
    mocks[0].reply({ sse: streamChunks({ content: 'late' }), delayMs: 2000 })
    mocks[1].reply({ sse: streamChunks({ content: 'on time' }) })
    assert.equal(await drain(router.getCompletionStream(state, agentFor('g'), {})), 'on time')
  })

  test('an AbortSignal stops a routed call', async () => {
    const router = makeRouter({ model_list: [dep('g', 0)] })
    mocks[0].reply({ hang: true })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    assertSwitchyard(await rejection(router.getCompletion(state, agentFor('g'), { signal: controller.signal })), 'aborted')
  })
})

describe('hedged requests', () => {
  const hedged = (delay) =>
    makeRouter(
      { model_list: [dep('g', 0, { order: 1 }), dep('g', 1, { order: 2 })], router_settings: { hedge: { delay_ms: delay } } },
      { onEvent: (e) => hedgeEvents.push(e) },
    )
  let hedgeEvents = []
  beforeEach(() => {
    hedgeEvents = []
  })

  test('a slow deployment is hedged after the delay; the first answer wins', async () => {
    mocks[0].reply({ ...ok('slow'), delayMs: 1500 })
    mocks[1].reply(ok('fast'))
    const started = Date.now()
    assert.equal((await complete(hedged(50))).message.content, 'fast')
    assert.ok(Date.now() - started < 1400, 'it did not wait for the slow deployment')
    assert.deepEqual([served(0), served(1)], [1, 1])
    assert.ok(hedgeEvents.some((e) => e.type === 'hedge' && e.deployment === 'g-0' && e.hedge === 'g-1'))
  })

  test('a fast deployment is not hedged, and streams hedge on their first chunk', async () => {
    mocks[0].reply(ok('quick'))
    assert.equal((await complete(hedged(500))).message.content, 'quick')
    assert.equal(served(1), 0)
    mocks[0].reply({ sse: streamChunks({ content: 'slow' }), delayMs: 1500 })
    mocks[1].reply({ sse: streamChunks({ content: 'hedged stream' }) })
    assert.equal(await drain(hedged(50).getCompletionStream(state, agentFor('g'), {})), 'hedged stream')
  })

  test('"p95" hedges at the deployment\'s own p95 once it has one', async () => {
    const router = hedged('p95')
    for (let i = 0; i < 5; i++) await complete(router) // measured: a few ms each
    mocks[0].reply({ ...ok('slow'), delayMs: 1500 })
    mocks[1].reply(ok('fast'))
    assert.equal((await complete(router)).message.content, 'fast')
  })
})

describe('stream failover', () => {
  const router = () => makeRouter({ model_list: [dep('g', 0, { order: 1 }), dep('g', 1, { order: 2 })], router_settings: { num_retries: 1 } })

  test('a stream that fails before its first chunk fails over unseen', async () => {
    for (const fault of [{ error: { status: 503 } }, { destroy: true }, { sse: streamChunks({ content: 'x' }), disconnectAfter: 0 }]) {
      mocks.forEach((m) => m.reset())
      mocks[0].reply(fault)
      mocks[1].reply({ sse: streamChunks({ content: 'from the second' }) })
      assert.equal(await drain(router().getCompletionStream(state, agentFor('g'), {})), 'from the second', JSON.stringify(Object.keys(fault)))
    }
  })

  test('after the first chunk a failure ends the stream with what was delivered, never duplicated', async () => {
    mocks[0].reply({ sse: streamChunks({ content: 'one two three four' }), disconnectAfter: 2 })
    mocks[1].reply({ sse: streamChunks({ content: 'never' }) })
    let text = ''
    const err = await rejection((async () => {
      for await (const c of router().getCompletionStream(state, agentFor('g'), {})) if (c.delta) text += c.delta
    })())
    assert.ok(err.delivered.chunks >= 1)
    assert.equal(err.delivered.contentChars, text.length)
    assert.equal(served(1), 0, 'no second stream was started mid-answer')
  })

  test('embed() routes and fails over like a chat call', async () => {
    const vectors = { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model: 'model-1', usage: { prompt_tokens: 1, total_tokens: 1 } }
    mocks[0].reply({ error: { status: 500 } })
    mocks[1].reply({ json: vectors })
    const out = await router().embed({ model: 'g', input: ['hello'] })
    assert.deepEqual(out.data[0].embedding, [0.1, 0.2])
    assert.equal(mocks[1].requests[0].path, '/embeddings')
    assert.equal(mocks[1].requests[0].json.model, 'model-1')
  })

  test('OpenAI-shaped stream() and complete() route by request.model', async () => {
    mocks[0].reply({ sse: streamChunks({ content: 'a b' }) }, ok('done'))
    const r = router()
    const chunks = []
    for await (const c of r.stream({ model: 'g', messages: [{ role: 'user', content: 'x' }] })) chunks.push(c)
    assert.ok(chunks.some((c) => c.choices?.[0]?.delta?.content === 'a'))
    assert.equal((await r.complete({ model: 'g', messages: [{ role: 'user', content: 'x' }] })).choices[0].message.content, 'done')
    assert.equal(mocks[0].requests[0].json.model, 'model-0', "the deployment's model goes on the wire")
  })

  test('a request that names its model last still sends one model, the deployment\'s', async () => {
    mocks[0].reply(ok('done'))
    await router().complete({ messages: [{ role: 'user', content: 'x' }], temperature: 0, model: 'g' })
    const { body, json } = mocks[0].requests[0]
    assert.equal(body.match(/"model":/g).length, 1, body)
    assert.equal(json.model, 'model-0')
    assert.equal(json.temperature, 0)
  })
})

describe('response cache', () => {
  const cached = (params = {}) =>
    makeRouter({ model_list: [dep('g', 0)], litellm_settings: { cache: true, cache_params: { type: 'local', ...params } } })
  const request = (content = 'same question', extra = {}) => ({ model: 'g', messages: [{ role: 'user', content }], ...extra })

  test('an identical request is answered from the cache, the upstream sees it once', async () => {
    const events = []
    const router = makeRouter({ model_list: [dep('g', 0)], litellm_settings: { cache: true } }, { onEvent: (e) => events.push(e) })
    mocks[0].reply(ok('first answer'), ok('second answer'))
    assert.equal((await router.complete(request())).choices[0].message.content, 'first answer')
    assert.equal((await router.complete(request())).choices[0].message.content, 'first answer')
    assert.equal(served(0), 1)
    assert.ok(events.some((e) => e.type === 'cache_hit'))
    assert.equal((await router.complete(request('another'))).choices[0].message.content, 'second answer')
  })

  test("a hit in this process's cache is answered on the JS thread, before the event loop turns", async () => {
    const router = cached()
    await router.complete(request())
    const { message } = await router.getCompletion(state, agentFor('g'), {})
    let turned = false
    setImmediate(() => { turned = true })
    assert.equal((await router.complete(request())).choices[0].message.content, 'ok')
    assert.equal((await router.getCompletion(state, agentFor('g'), {})).message.content, message.content)
    assert.equal(turned, false, 'no trip through the runtime')
    assert.equal(served(0), 2, 'one upstream call per distinct request')
  })

  test('streams are cached and replayed as streams', async () => {
    const router = cached()
    mocks[0].reply({ sse: streamChunks({ content: 'one two three' }) })
    const read = async () => {
      const deltas = []
      for await (const c of router.stream(request())) if (c.choices?.[0]?.delta?.content) deltas.push(c.choices[0].delta.content)
      return deltas
    }
    const first = await read()
    assert.deepEqual(await read(), first)
    assert.ok(first.length >= 3)
    assert.equal(served(0), 1)
  })

  test("per call opt-out with LiteLLM's no-cache / no-store, a TTL, and an LRU bound", async () => {
    let router = cached()
    await router.complete(request())
    await router.complete(request('same question', { cache: { 'no-cache': true } }))
    assert.equal(served(0), 2, 'no-cache reads past the cache')
    await router.complete(request('x', { cache: { 'no-store': true } }))
    await router.complete(request('x'))
    assert.equal(served(0), 4, 'no-store left nothing to read')
    assert.ok(!('cache' in mocks[0].requests[1].json), 'cache controls are not forwarded')

    mocks[0].reset()
    router = cached({ ttl: 0.1 })
    await router.complete(request())
    await new Promise((r) => setTimeout(r, 150))
    await router.complete(request())
    assert.equal(served(0), 2, 'expired after its ttl')

    mocks[0].reset()
    router = cached({ max_size: 1 })
    await router.complete(request('a'))
    await router.complete(request('b'))
    await router.complete(request('a'))
    assert.equal(served(0), 3, 'one entry kept: a was evicted by b')
  })
})

describe('stats and usage', () => {
  test("stats() is seed 002's model_stats per group and deployment, and holds no key", async () => {
    const reports = []
    const router = makeRouter(
      { model_list: [dep('g', 0, { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 })] },
      { onUsage: (r) => reports.push(r) },
    )
    mocks[0].reply({ json: completion({ content: 'x', usage: { prompt_tokens: 100, completion_tokens: 50 } }) })
    mocks[0].reply({ sse: streamChunks({ content: 'y', usage: { prompt_tokens: 10, completion_tokens: 5 } }) })
    await complete(router)
    await drain(router.getCompletionStream(state, agentFor('g'), {}))
    const stats = router.stats()
    const g = stats.model_stats.g
    assert.equal(g.calls, 2)
    assert.equal(g.input_tokens, 110)
    assert.equal(g.output_tokens, 55)
    assert.ok(Math.abs(g.cost_usd - (110 * 1 + 55 * 2) / 1e6) < 1e-12)
    assert.ok(g.latency_ms.p50 > 0 && g.ttft_ms.p99 > 0)
    assert.ok(!JSON.stringify(stats).includes(KEY))
    assert.deepEqual(reports.map((r) => [r.deployment, r.outcome]), [['g-0', 'ok'], ['g-0', 'ok']])
    assert.ok(Math.abs(reports[0].cost - (100 + 100) / 1e6) < 1e-12, 'priced at the deployment')
  })

  test('an answer names its deployment as configured, however its id is spelled, beside its cost and events', async () => {
    // The answer crosses as one string, a JSON header line before the response: an id with a
    // newline, quotes and non-ASCII must come back whole, and the response after it untouched.
    const id = 'eu "primary"\nrégion ✓'
    const reports = []
    const events = []
    const router = makeRouter(
      { model_list: [dep('g', 0, { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 }, { id })] },
      { onUsage: (r) => reports.push(r), onEvent: (e) => events.push(e) },
    )
    const content = 'line one\nline "two"'
    // Pretty-printed, so the response itself holds raw newlines too.
    const pretty = JSON.stringify(completion({ content, usage: { prompt_tokens: 7, completion_tokens: 3 } }), null, 2)
    mocks[0].reply({ raw: pretty, headers: { 'content-type': 'application/json' } })
    const message = await complete(router)
    assert.equal(message.message.content, content)
    assert.equal(reports[0].deployment, id)
    assert.ok(Math.abs(reports[0].cost - (7 * 1 + 3 * 2) / 1e6) < 1e-12, `cost ${reports[0].cost}`)
    assert.deepEqual(events.map((e) => [e.type, e.deployment]), [['request', id]])
    mocks[0].reply({ json: completion({ content: 'direct' }) })
    const resp = await router.complete({ model: 'g', messages: [{ role: 'user', content: 'x' }] })
    assert.equal(resp.choices[0].message.content, 'direct')
    assert.equal(events.at(-1).deployment, id)
  })
})

describe('aborted streams', () => {
  test("an aborted routed stream is priced at its deployment's price", async () => {
    const reports = []
    const router = makeRouter({ model_list: [dep('g', 0, { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 })] }, { onUsage: (r) => reports.push(r) })
    mocks[0].reply({ sse: streamChunks({ content: 'one two three four five', includeUsage: false }), chunkDelayMs: 20 })
    for await (const chunk of router.getCompletionStream(state, agentFor('g'), {})) if (chunk.delta) break
    assert.equal(reports[0].outcome, 'aborted')
    assert.equal(reports[0].estimated, true)
    const { prompt_tokens, completion_tokens } = reports[0].usage
    assert.ok(Math.abs(reports[0].cost - (prompt_tokens * 1 + completion_tokens * 2) / 1e6) < 1e-12, `cost ${reports[0].cost}`)
  })
})

describe('configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-router-'))

  test('a LiteLLM config.yaml loads, with os.environ/ references', async () => {
    process.env.SWITCHYARD_TEST_ROUTER_KEY = KEY
    const file = join(dir, 'config.yaml')
    writeFileSync(file, `model_list:\n  - model_name: g\n    litellm_params:\n      model: openai/m\n      api_base: ${mocks[0].url}\n      api_key: os.environ/SWITCHYARD_TEST_ROUTER_KEY\nrouter_settings:\n  num_retries: 1\ngeneral_settings:\n  master_key: x\n`)
    const router = makeRouter(file)
    await complete(router)
    assert.equal(mocks[0].requests[0].headers.authorization, `Bearer ${KEY}`)
    assert.deepEqual(router.warnings, ['general_settings'])
  })

  test("an error names the key and the file's line", () => {
    const file = join(dir, 'bad.yaml')
    writeFileSync(file, `model_list:\n  - model_name: g\n    litellm_params:\n      model: openai/m\n      rpm: lots\n`)
    const err = throwsSync(() => makeRouter(file))
    assertSwitchyard(err, 'invalid_input')
    assert.match(err.message, /model_list\[0\]\.litellm_params\.rpm/)
    assert.match(err.message, /bad\.yaml line 5/)
    assertSwitchyard(throwsSync(() => makeRouter({ model_list: [dep('g', 0)], router_settings: { routing_strategy: 'fastest' } })), 'invalid_input')
    assertSwitchyard(throwsSync(() => makeRouter({ model_list: [dep('g', 0)], router_settings: { fallbacks: [{ g: ['nope'] }] } })), 'invalid_input')
  })

  test("seed 000's config.yaml loads and routes", async () => {
    const seed = readFileSync(new URL('../../shared/seeds/000_6eea7d5ac35b5640.txt', import.meta.url), 'utf8')
    const yaml = /\*\*LiteLLM Configuration Example \(`config\.yaml`\):\*\*\s*```yaml\n([^]*?)```/.exec(seed)[1]
    const file = join(dir, 'seed-000.yaml')
    writeFileSync(file, yaml)
    process.env.OPENAI_API_BASE = mocks[0].url
    try {
      const router = makeRouter(file)
      assert.deepEqual(Object.keys(router.stats().model_stats).sort(), ['azure-gpt-4', 'claude-3-sonnet', 'gemini-pro', 'gpt-3.5-turbo', 'gpt-4', 'llama2'])
      await complete(router, 'gpt-4')
      assert.equal(mocks[0].requests[0].json.model, 'gpt-4')
    } finally {
      delete process.env.OPENAI_API_BASE
    }
  })

  test("seed 004's TOML loads: priorities, fallback, strategy, task routing, ${ENV}", async () => {
    process.env.SWITCHYARD_TEST_TOML_KEY = KEY
    const file = join(dir, 'config.toml')
    writeFileSync(file, `[llm]\nstrategy = "fallback"\n\n[[llm.providers]]\nname = "primary"\nprovider = "openai"\napi_key = "\${SWITCHYARD_TEST_TOML_KEY}"\nbase_url = "${mocks[0].url}"\ntext_model = "gpt-4o"\npriority = 1\n\n[[llm.providers]]\nname = "backup"\nprovider = "openai"\napi_key = "\${SWITCHYARD_TEST_TOML_KEY}"\nbase_url = "${mocks[1].url}"\ntext_model = "gpt-4o-mini"\npriority = 2\n\n[llm.fallback]\nenabled = true\nmax_retries = 1\n\n[llm.routing]\nsummarization = "openai:gpt-4o-mini"\n`)
    const router = makeRouter(file)
    mocks[0].reply({ error: { status: 500 } })
    assert.equal((await complete(router, 'default')).message.content, 'ok')
    assert.deepEqual([served(0), served(1)], [1, 1], 'priority 1 failed over to priority 2')
    // A task names provider:model and uses that provider's entry (key, base URL).
    await complete(router, 'summarization')
    assert.equal(mocks[0].requests[1].json.model, 'gpt-4o-mini')
    assert.equal(mocks[0].requests[1].headers.authorization, `Bearer ${KEY}`)
  })

  test('JAF_DEFAULT_MODEL routes agents that name no model', async () => {
    process.env.JAF_DEFAULT_MODEL = 'g'
    process.env.JAF_DEFAULT_MAX_TOKENS = '77'
    try {
      const router = makeRouter({ model_list: [dep('g', 0)] })
      await router.getCompletion(state, { name: 'A', instructions: () => 's' }, {})
      assert.equal(mocks[0].requests[0].json.max_tokens, 77)
    } finally {
      delete process.env.JAF_DEFAULT_MODEL
      delete process.env.JAF_DEFAULT_MAX_TOKENS
    }
  })

  test('an unknown group is a typed error naming the groups', async () => {
    const router = makeRouter({ model_list: [dep('g', 0)] })
    const err = await rejection(complete(router, 'nope'))
    assertSwitchyard(err, 'invalid_input')
    assert.match(err.message, /groups: g/)
  })
})

describe('limits and wildcard groups', () => {
  test("a group's rpm holds over all its deployments, and its tpm stops it once spent", async () => {
    const router = makeRouter({
      model_list: [dep('g', 0), dep('g', 1)],
      router_settings: { num_retries: 0, model_rpm_limit: { g: 3 } },
    })
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => complete(router)))
    assert.equal(served(0) + served(1), 3, 'three requests a minute over both deployments')
    const refused = outcomes.filter((o) => o.status === 'rejected')
    assert.equal(refused.length, 5)
    assert.ok(refused.every((o) => o.reason.kind === 'rate_limited' && o.reason.retryAfter > 0))

    mocks.forEach((m) => m.reset())
    const byTokens = makeRouter({ model_list: [dep('t', 0)], router_settings: { num_retries: 0, model_tpm_limit: { t: 20 } } })
    // Each answer reports 10 + 1 tokens (the mock's default usage): the second call passes the limit.
    await complete(byTokens, 't')
    await complete(byTokens, 't')
    assertSwitchyard(await rejection(complete(byTokens, 't')), 'rate_limited')
    assert.equal(served(0), 2)
  })

  test('a group limit naming no group is a config error', () => {
    const err = throwsSync(() => makeRouter({ model_list: [dep('g', 0)], router_settings: { model_rpm_limit: { nope: 1 } } }))
    assertSwitchyard(err, 'invalid_input')
    assert.match(err.message, /router_settings\.model_rpm_limit\.nope/)
  })

  test('a wildcard group sends what its * matched, prices by that model, and caches per model', async () => {
    const reports = []
    const router = makeRouter(
      {
        model_list: [
          { model_name: 'openai/*', litellm_params: { model: 'openai/*', api_base: mocks[0].url, api_key: KEY } },
          { model_name: 'openai/special-*', litellm_params: { model: 'openai/tuned-*', api_base: mocks[1].url, api_key: KEY } },
        ],
        litellm_settings: { cache: true },
      },
      { onUsage: (r) => reports.push(r) },
    )
    await complete(router, 'openai/gpt-4o')
    await complete(router, 'openai/gpt-4o-mini')
    await complete(router, 'openai/gpt-4o')
    assert.deepEqual(mocks[0].requests.map((r) => r.json.model), ['gpt-4o', 'gpt-4o-mini'], 'the second gpt-4o came from the cache')
    await complete(router, 'openai/special-one')
    assert.equal(mocks[1].requests[0].json.model, 'tuned-one', 'the more specific pattern won')
    assert.ok(reports[0].cost > reports[1].cost, 'gpt-4o is priced above gpt-4o-mini')
    assertSwitchyard(await rejection(complete(router, 'anthropic/claude')), 'invalid_input')
  })

  test("seed 003's providers.json loads: one wildcard group per provider, its settings applied", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sy-003-')), 'providers.json')
    const providers = {
      openai: { api_key: KEY, base_url: mocks[0].url, timeout: 300, organization: 'org-7' },
      claude: { api_key: KEY, base_url: mocks[1].url, timeout: 300 },
      ollama: { base_url: mocks[2].url },
      'llama-cpp': { models_dir: '/mnt/d/models/organized', default_threads: 24, default_gpu_layers: 999 },
    }
    writeFileSync(file, JSON.stringify(providers, null, 2))
    mocks[1].reply({ json: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-3-5-sonnet', content: [{ type: 'text', text: 'hi from claude' }], stop_reason: 'end_turn', usage: { input_tokens: 3, output_tokens: 4 } } })
    mocks[2].reply({ json: { model: 'mistral', created_at: '2024-01-01T00:00:00Z', message: { role: 'assistant', content: 'hi from ollama' }, done: true, done_reason: 'stop', prompt_eval_count: 2, eval_count: 3 } })
    const router = makeRouter(file)
    await complete(router, 'openai/gpt-4o')
    assert.equal(mocks[0].requests[0].json.model, 'gpt-4o')
    assert.equal(mocks[0].requests[0].headers['openai-organization'], 'org-7')
    assert.equal((await complete(router, 'claude/claude-3-5-sonnet')).message.content, 'hi from claude')
    assert.match(mocks[1].requests[0].path, /\/v1\/messages$/, "Anthropic's own wire format")
    assert.equal(mocks[1].requests[0].json.model, 'claude-3-5-sonnet')
    assert.equal((await complete(router, 'ollama/mistral')).message.content, 'hi from ollama')
    assert.deepEqual(router.warnings, ['llama-cpp.models_dir', 'llama-cpp.default_threads', 'llama-cpp.default_gpu_layers'])
  })
})

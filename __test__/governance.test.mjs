// Governance against real loopback upstreams: model rules per key and tag, budgets per run, day,
// key and provider held exactly under concurrent calls, streams booked however they end, data
// residency, and an audit trail through onEvent that never holds a key or message content.
import { test, describe, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { rejection, assertSwitchyard } from './support/assertions.mjs'

const require = createRequire(import.meta.url)
const { makeRouter, ERROR_KINDS } = require('../lib/index.js')
const { startMockUpstream, completion, streamChunks } = require('../lib/testing.js')

const KEY = 'sk-governance-test-7c1d2e3f4a5b6c7d8e9f'
const APP_KEY = 'app-key-of-team-a-5f6e7d'
const SECRET_TEXT = 'the patient record of J. Doe'
const messages = [{ role: 'user', content: 'hi' }]

let mocks = []
before(async () => {
  mocks = await Promise.all(Array.from({ length: 3 }, () => startMockUpstream()))
})
after(() => Promise.all(mocks.map((m) => m.close())))
beforeEach(() => mocks.forEach((m) => m.reset()))

// Output tokens at 1e-6 USD each, input free: with `max_tokens: 1000` a call is estimated at
// 0.001 USD, and an answer of 1000 completion tokens costs exactly that.
const EST = 0.001
const price = { input_cost_per_token: 0, output_cost_per_token: 1e-6 }
const dep = (group, i, { provider = 'openai', id = `${group}-${i}`, ...extra } = {}) => ({
  model_name: group,
  litellm_params: { model: `${provider}/model-${i}`, api_base: mocks[i].url, api_key: KEY, ...price, ...extra },
  model_info: { id },
})
const served = (i) => mocks[i].requests.length
const request = (model = 'g', extra = {}) => ({ model, messages, max_tokens: 1000, ...extra })
const full = (i, n, delayMs = 0) => {
  for (let k = 0; k < n; k++) mocks[i].reply({ json: completion({ content: 'ok', usage: { prompt_tokens: 10, completion_tokens: 1000 } }), delayMs })
}

/** A router that records every event it emits. */
function routerWith(config, options = {}) {
  const events = []
  const router = makeRouter({ router_settings: { num_retries: 0 }, ...config }, { onEvent: (e) => events.push(e), ...options })
  return { router, events }
}

/** `n` concurrent completions; settles to { ok, refused } with the refusals' errors. */
async function concurrently(n, call) {
  const outcomes = await Promise.allSettled(Array.from({ length: n }, (_, i) => call(i)))
  return {
    ok: outcomes.filter((o) => o.status === 'fulfilled').length,
    refused: outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason),
  }
}

const spentOn = (events, budget) => events.filter((e) => e.type === 'budget' && e.budget === budget).at(-1)?.spentUsd

describe('error kinds', () => {
  test('policy and budget_exceeded are error kinds, defined in the core', () => {
    assert.ok(ERROR_KINDS.includes('policy'))
    assert.ok(ERROR_KINDS.includes('budget_exceeded'))
  })
})

describe('model rules', () => {
  test('a denied model fails with policy naming the rule; the upstream is never called', async () => {
    const { router, events } = routerWith({ model_list: [dep('g', 0)], governance: { tags: { free: { deny: ['g*'] } } } })
    const err = await rejection(router.complete(request(), { tags: ['free'] }))
    assertSwitchyard(err, 'policy')
    assert.equal(err.rule, 'governance.tags.free.deny')
    assert.match(err.message, /governance\.tags\.free\.deny/)
    assert.equal(err.status, 403)
    assert.equal(err.name, 'PermissionDeniedError')
    assert.equal(err.retryable, false)
    assert.equal(served(0), 0)
    assert.deepEqual(
      events.map(({ atMs, ...e }) => e),
      [{ type: 'policy', decision: 'denied', rule: 'governance.tags.free.deny', group: 'g' }],
    )
    assert.equal((await router.complete(request())).choices[0].message.content, 'ok', 'untagged calls pass')
  })

  test('a tag allows what the default does not', async () => {
    const { router, events } = routerWith({
      model_list: [dep('fast', 0), dep('gpt-4', 1)],
      governance: { default: { allow: ['fast'] }, tags: { pro: { allow: ['gpt-*', 'fast'] } } },
    })
    const err = await rejection(router.complete(request('gpt-4')))
    assertSwitchyard(err, 'policy')
    assert.equal(err.rule, 'governance.default.allow')
    await router.complete(request('gpt-4'), { tags: ['pro'] })
    await router.complete(request('fast'))
    assert.deepEqual([served(0), served(1)], [1, 1])
    const decisions = events.filter((e) => e.type === 'policy').map((e) => `${e.decision} ${e.rule} ${e.group}`)
    assert.deepEqual(decisions, ['denied governance.default.allow gpt-4', 'allowed governance.tags.pro.allow gpt-4', 'allowed governance.default.allow fast'])
  })

  test('per key: the key is never in the error or the events, only its hash', async () => {
    const { router, events } = routerWith({ model_list: [dep('g', 0)], governance: { keys: { [APP_KEY]: { deny: ['g'] } } } })
    const err = await rejection(router.complete(request(), { key: APP_KEY }))
    assertSwitchyard(err, 'policy')
    assert.match(err.rule, /^governance\.keys\.sha256:[0-9a-f]{16}\.deny$/)
    assert.ok(!JSON.stringify({ message: err.message, rule: err.rule, error: err.error, events }).includes(APP_KEY))
    await router.complete(request(), { key: 'another-caller' })
    assert.equal(served(0), 1)
  })

  test('a fallback group is no way around a deny', async () => {
    const { router } = routerWith({
      model_list: [dep('a', 0), dep('b', 1)],
      router_settings: { num_retries: 0, fallbacks: [{ a: ['b'] }] },
      governance: { tags: { free: { deny: ['b'] } } },
    })
    mocks[0].reply({ error: { status: 500 } })
    assertSwitchyard(await rejection(router.complete(request('a'), { tags: ['free'] })), 'upstream_error')
    assert.equal(served(1), 0)
    mocks[0].reply({ error: { status: 500 } })
    await router.complete(request('a'))
    assert.equal(served(1), 1, 'untagged, the fallback is taken')
  })

  test('a cached answer is not handed to a caller the rules deny', async () => {
    const { router } = routerWith({
      model_list: [dep('g', 0)],
      litellm_settings: { cache: true },
      governance: { tags: { free: { deny: ['g'] } } },
    })
    await router.complete(request())
    await router.complete(request())
    assert.equal(served(0), 1, 'the second was a cache hit')
    assertSwitchyard(await rejection(router.complete(request(), { tags: ['free'] })), 'policy')
  })

  test('bad identities are invalid_input naming the field', async () => {
    const { router } = routerWith({ model_list: [dep('g', 0)] })
    for (const [opts, path] of [
      [{ key: 5 }, 'opts.key'],
      [{ key: '' }, 'opts.key'],
      [{ tags: 'pii' }, 'opts.tags'],
      [{ tags: [7] }, 'opts.tags[0]'],
      [{ runId: {} }, 'opts.runId'],
    ]) {
      const err = await rejection(router.complete(request(), opts))
      assertSwitchyard(err, 'invalid_input')
      assert.ok(err.message.includes(path), err.message)
    }
    assert.throws(() => makeRouter({ model_list: [dep('g', 0)] }, { tags: [''] }), (e) => e.kind === 'invalid_input' && e.message.includes('options.tags[0]'))
    assert.equal(served(0), 0)
  })

  test('unknown governance keys are warnings', () => {
    const { router } = routerWith({
      model_list: [dep('g', 0)],
      governance: { mystery: 1, tags: { free: { deny: [], typo: 1 } } },
      router_settings: { provider_budget_config: { openai: { budget_limit: 1, time_period: '1d', extra: true } } },
    })
    assert.deepEqual(router.warnings.sort(), ['governance.mystery', 'governance.tags.free.typo', 'router_settings.provider_budget_config.openai.extra'])
  })
})

describe('budgets hold exactly under concurrent calls', () => {
  test('max_cost_per_day over the router: 20 concurrent calls, room for 5', async () => {
    const { router } = routerWith({ model_list: [dep('g', 0)], governance: { max_cost_per_day: 5.5 * EST } })
    full(0, 20, 30)
    const { ok, refused } = await concurrently(20, () => router.complete(request()))
    assert.equal(ok, 5)
    assert.equal(served(0), 5)
    assert.ok(refused.every((e) => e.kind === 'budget_exceeded' && e.rule === 'governance.max_cost_per_day'))
    const [err] = refused
    assert.equal(err.status, 429)
    assert.ok(err.retryAfter > 0 && err.retryAfter <= 86400, `retryAfter ${err.retryAfter}: the next UTC day`)
    assert.ok(router.stats().model_stats.g.cost_usd <= 5.5 * EST)
  })

  test('max_cost per key, and the default per-key day budget, count each key apart', async () => {
    const { router } = routerWith({
      model_list: [dep('g', 0)],
      governance: { default: { max_cost_per_day: 2.5 * EST }, keys: { [APP_KEY]: { max_cost: 3.5 * EST } } },
    })
    full(0, 40, 20)
    const team = await concurrently(10, () => router.complete(request(), { key: APP_KEY }))
    const x = await concurrently(10, () => router.complete(request(), { key: 'caller-x' }))
    const y = await concurrently(10, () => router.complete(request(), { key: 'caller-y' }))
    const anonymous = await concurrently(3, () => router.complete(request()))
    assert.deepEqual([team.ok, x.ok, y.ok, anonymous.ok], [3, 2, 2, 3])
    assert.equal(served(0), 10)
    assert.match(team.refused[0].rule, /^governance\.keys\.sha256:[0-9a-f]{16}\.max_cost$/)
    assert.equal(team.refused[0].retryAfter, undefined, 'a total budget does not start over')
    assert.match(x.refused[0].rule, /^governance\.default\.max_cost_per_day@sha256:[0-9a-f]{16}$/)
    assert.notEqual(x.refused[0].rule, y.refused[0].rule)
  })

  test('max_cost_per_run per runId, and JAF runs by state.runId', async () => {
    const { router } = routerWith({ model_list: [dep('g', 0)], governance: { max_cost_per_run: 2.5 * EST } })
    full(0, 40, 20)
    const r1 = await concurrently(10, () => router.complete(request(), { runId: 'run-1' }))
    const r2 = await concurrently(10, () => router.complete(request(), { runId: 'run-2' }))
    assert.deepEqual([r1.ok, r2.ok], [2, 2])
    assert.equal(r1.refused[0].rule, 'governance.max_cost_per_run@run-1')
    const agent = { name: 'A', instructions: () => 'sys', modelConfig: { name: 'g', maxTokens: 1000 } }
    const jaf = await concurrently(6, () => router.getCompletion({ runId: 'jaf-run', messages }, agent, {}))
    assert.equal(jaf.ok, 2)
    assert.equal(jaf.refused[0].rule, 'governance.max_cost_per_run@jaf-run')
    assert.equal(served(0), 6)
  })

  test('withIdentity binds a caller for JAF, sharing the budgets', async () => {
    const { router } = routerWith({ model_list: [dep('g', 0)], governance: { keys: { [APP_KEY]: { max_cost: 1.5 * EST } } } })
    full(0, 4)
    const agent = { name: 'A', instructions: () => 'sys', modelConfig: { name: 'g', maxTokens: 1000 } }
    const team = router.withIdentity({ key: APP_KEY })
    await team.getCompletion({ messages }, agent, {})
    assertSwitchyard(await rejection(team.getCompletion({ messages }, agent, {})), 'budget_exceeded')
    assertSwitchyard(await rejection(router.complete(request(), { key: APP_KEY })), 'budget_exceeded')
    await router.getCompletion({ messages }, agent, {})
    assert.equal(served(0), 2)
  })

  test('the spend booked is the real cost, and a cheaper deployment takes what a dear one cannot', async () => {
    const { router, events } = routerWith({
      model_list: [dep('g', 0, { order: 1, output_cost_per_token: 4e-6 }), dep('g', 1, { order: 2 })],
      governance: { max_cost_per_day: 4.5 * EST },
    })
    mocks[0].reply({ json: completion({ content: 'ok', usage: { prompt_tokens: 10, completion_tokens: 250 } }) })
    await router.complete(request()) // estimated at 4 EST, costs 1 EST
    await router.complete(request()) // 1 + 4 > 4.5 is refused on 0; 1 + 1 fits on 1
    assert.deepEqual([served(0), served(1)], [1, 1])
    const budgets = events.filter((e) => e.type === 'budget').map((e) => [e.decision, +e.spentUsd.toFixed(6), +e.estimateUsd.toFixed(6)])
    assert.deepEqual(budgets, [
      ['allowed', 0, 0.004],
      ['denied', 0.001, 0.004],
      ['allowed', 0.001, 0.001],
    ])
  })

  test('a deployment without a known price is never sent a call under a budget', async () => {
    const unpriced = { model_name: 'g', litellm_params: { model: 'openai/model-unlisted', api_base: mocks[0].url, api_key: KEY }, model_info: { id: 'u' } }
    const { router } = routerWith({ model_list: [unpriced], governance: { max_cost_per_day: 1 } })
    const err = await rejection(router.complete(request()))
    assertSwitchyard(err, 'policy')
    assert.equal(err.rule, 'governance.max_cost_per_day')
    assert.match(err.message, /no known price/)
    assert.equal(served(0), 0)
  })

  test('embeddings book their prompt tokens', async () => {
    const { router, events } = routerWith({ model_list: [dep('e', 0, { input_cost_per_token: 1e-6 })], governance: { max_cost_per_day: 1 } })
    mocks[0].reply({ json: { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1] }], model: 'model-0', usage: { prompt_tokens: 100, total_tokens: 100 } } })
    await router.embed({ model: 'e', input: 'hello' })
    full(0, 1)
    await router.complete(request('e'))
    assert.ok(Math.abs(spentOn(events, 'governance.max_cost_per_day') - 100e-6) < 1e-12)
  })

  test('a failed call books nothing', async () => {
    const { router, events } = routerWith({ model_list: [dep('g', 0)], governance: { max_cost_per_day: 1.5 * EST } })
    mocks[0].reply({ error: { status: 400 } })
    assertSwitchyard(await rejection(router.complete(request())), 'invalid_request')
    full(0, 1)
    await router.complete(request())
    assert.equal(spentOn(events, 'governance.max_cost_per_day'), 0)
  })
})

describe('streams are booked when they end', () => {
  const config = () => ({ model_list: [dep('g', 0)], governance: { max_cost_per_day: 100 * EST } })

  test('a whole stream books its usage', async () => {
    const { router, events } = routerWith(config())
    mocks[0].reply({ sse: streamChunks({ content: 'a b c', usage: { prompt_tokens: 10, completion_tokens: 300 } }) })
    for await (const _ of router.stream(request())) {
      // drain
    }
    full(0, 1)
    await router.complete(request())
    assert.ok(Math.abs(spentOn(events, 'governance.max_cost_per_day') - 0.0003) < 1e-12)
  })

  test('an aborted stream books what it delivered', async () => {
    const { router, events } = routerWith(config())
    const words = Array.from({ length: 50 }, () => 'word ')
    mocks[0].reply({ sse: streamChunks({ content: words, usage: { prompt_tokens: 10, completion_tokens: 5000 } }), chunkDelayMs: 20 })
    let text = ''
    for await (const chunk of router.stream(request())) {
      text += chunk.choices?.[0]?.delta?.content ?? ''
      if (text.length >= 20) break
    }
    full(0, 1)
    await router.complete(request())
    // No usage arrived: the delivered characters, about four a token, at the output price.
    const spent = spentOn(events, 'governance.max_cost_per_day')
    assert.ok(spent > 0 && spent <= (Math.ceil(text.length / 4) + 5) * 1e-6, `spent ${spent} for ${text.length} chars`)
  })

  test('a stream broken mid-way books what it delivered', async () => {
    const { router, events } = routerWith(config())
    const words = Array.from({ length: 20 }, () => 'word ')
    mocks[0].reply({ sse: streamChunks({ content: words, usage: { prompt_tokens: 10, completion_tokens: 5000 } }), disconnectAfter: 6 })
    let text = ''
    const err = await rejection(
      (async () => {
        for await (const chunk of router.stream(request())) text += chunk.choices?.[0]?.delta?.content ?? ''
      })(),
    )
    assert.ok(err.delivered.chunks > 0, `${err.kind}: ${err.message}`)
    full(0, 1)
    await router.complete(request())
    const spent = spentOn(events, 'governance.max_cost_per_day')
    assert.ok(spent > 0 && spent <= (Math.ceil(text.length / 4) + 5) * 1e-6, `spent ${spent} for ${text.length} chars`)
  })

  test('concurrent streams hold the budget', async () => {
    const { router } = routerWith({ model_list: [dep('g', 0)], governance: { max_cost_per_day: 3.5 * EST } })
    for (let k = 0; k < 10; k++) mocks[0].reply({ sse: streamChunks({ content: 'x y', usage: { prompt_tokens: 1, completion_tokens: 1000 } }), chunkDelayMs: 20 })
    const drain = async () => {
      let n = 0
      for await (const _ of router.stream(request())) n++
      return n
    }
    const { ok, refused } = await concurrently(10, drain)
    assert.equal(ok, 3)
    assert.ok(refused.every((e) => e.kind === 'budget_exceeded'))
    assert.equal(served(0), 3)
  })
})

describe('provider_budget_config', () => {
  test('a provider over its budget is skipped: the call fails over to another provider', async () => {
    const { router, events } = routerWith({
      model_list: [dep('g', 0, { order: 1 }), dep('g', 1, { provider: 'groq', order: 2 })],
      router_settings: { num_retries: 0, provider_budget_config: { openai: { budget_limit: 1.5 * EST, time_period: '1d' } } },
    })
    full(0, 3)
    full(1, 3)
    await router.complete(request())
    await router.complete(request())
    await router.complete(request())
    assert.deepEqual([served(0), served(1)], [1, 2])
    const denied = events.filter((e) => e.type === 'budget' && e.decision === 'denied')
    assert.ok(denied.length >= 2 && denied.every((e) => e.budget === 'router_settings.provider_budget_config.openai'))
    const used = events.filter((e) => e.type === 'request').map((e) => e.deployment)
    assert.deepEqual(used, ['g-0', 'g-1', 'g-1'])
  })

  test('with no other provider the call fails with budget_exceeded', async () => {
    const { router } = routerWith({
      model_list: [dep('g', 0)],
      router_settings: { num_retries: 0, provider_budget_config: { openai: { budget_limit: 0.5 * EST, time_period: '30s' } } },
    })
    const err = await rejection(router.complete(request()))
    assertSwitchyard(err, 'budget_exceeded')
    assert.equal(err.rule, 'router_settings.provider_budget_config.openai')
    assert.ok(err.retryAfter > 0 && err.retryAfter <= 30)
    assert.equal(served(0), 0)
  })
})

describe('data residency', () => {
  const config = () => ({
    model_list: [dep('g', 0, { id: 'cloud' }), dep('g', 1, { provider: 'llamacpp', id: 'local' }), dep('cloud-only', 2, { id: 'far' })],
    governance: { residency: { pii: { providers: ['llamacpp'] } } },
  })

  test('a pii-tagged call only reaches the local deployment', async () => {
    const { router, events } = routerWith(config())
    for (let i = 0; i < 10; i++) await router.complete(request('g'), { tags: ['pii'] })
    assert.deepEqual([served(0), served(1)], [0, 10])
    for (let i = 0; i < 10; i++) await router.complete(request('g'))
    assert.ok(served(0) > 0, 'untagged calls use both')
    const allowed = events.filter((e) => e.type === 'policy' && e.decision === 'allowed')
    assert.equal(allowed.length, 10)
    assert.ok(allowed.every((e) => e.rule === 'governance.residency.pii' && e.deployment === 'local'))
  })

  test('when the local deployment is down, the call fails over only among allowed ones', async () => {
    const { router } = routerWith({ ...config(), router_settings: { num_retries: 2 } })
    mocks[1].reply({ error: { status: 503 } }, { error: { status: 503 } }, { error: { status: 503 } })
    const err = await rejection(router.complete(request('g'), { tags: ['pii'] }))
    assertSwitchyard(err, 'upstream_error')
    assert.equal(served(0), 0, 'the cloud deployment never saw the tagged call')
    assert.equal(served(1), 3)
  })

  test('a group without an allowed deployment fails with policy, its upstream never called', async () => {
    const { router, events } = routerWith(config())
    const err = await rejection(router.complete(request('cloud-only'), { tags: ['pii'] }))
    assertSwitchyard(err, 'policy')
    assert.equal(err.rule, 'governance.residency.pii')
    assert.equal(served(2), 0)
    assert.deepEqual(
      events.map(({ atMs, ...e }) => e),
      [{ type: 'policy', decision: 'denied', rule: 'governance.residency.pii', group: 'cloud-only' }],
    )
  })

  test('a group without an allowed deployment falls back to one with', async () => {
    const { router } = routerWith({ ...config(), router_settings: { num_retries: 0, fallbacks: [{ 'cloud-only': ['g'] }] } })
    await router.complete(request('cloud-only'), { tags: ['pii'] })
    assert.deepEqual([served(0), served(1), served(2)], [0, 1, 0])
  })

  test('a stream too', async () => {
    const { router } = routerWith(config())
    for (let i = 0; i < 4; i++) {
      for await (const _ of router.stream(request('g'), { tags: ['pii'] })) {
        // drain
      }
    }
    assert.deepEqual([served(0), served(1)], [0, 4])
  })
})

describe('the audit trail', () => {
  test('every decision is an event; none holds the key or message content', async () => {
    const { router, events } = routerWith({
      model_list: [dep('g', 0, { provider: 'llamacpp', id: 'local' }), dep('h', 1)],
      governance: {
        max_cost_per_day: 10 * EST,
        keys: { [APP_KEY]: { allow: ['g'], max_cost_per_day: 5 * EST } },
        residency: { pii: { deployments: ['local'] } },
      },
    })
    const secret = [{ role: 'user', content: SECRET_TEXT }]
    await router.complete({ model: 'g', messages: secret, max_tokens: 1000 }, { key: APP_KEY, tags: ['pii'], runId: 'r' })
    for await (const _ of router.stream({ model: 'g', messages: secret, max_tokens: 1000 }, { key: APP_KEY, tags: ['pii'] })) {
      // drain
    }
    await rejection(router.complete({ model: 'h', messages: secret }, { key: APP_KEY }))
    const types = new Set(events.map((e) => e.type))
    for (const t of ['policy', 'budget', 'request']) assert.ok(types.has(t), `a ${t} event`)
    assert.ok(events.every((e) => typeof e.atMs === 'number'))
    const budget = events.find((e) => e.type === 'budget')
    assert.deepEqual(Object.keys(budget).sort(), ['atMs', 'budget', 'decision', 'estimateUsd', 'limitUsd', 'spentUsd', 'type'])
    const text = JSON.stringify(events)
    assert.ok(!text.includes(APP_KEY), 'no key')
    assert.ok(!text.includes(SECRET_TEXT), 'no message content')
    assert.ok(!text.includes(KEY), 'no provider credential')
    assert.match(text, /governance\.keys\.sha256:[0-9a-f]{16}\.max_cost_per_day/)
  })
})

describe('rate limits per key and tag', () => {
  test("a key's rpm holds over concurrent calls and every group; its tpm stops it once spent", async () => {
    const { router } = routerWith({
      model_list: [dep('g', 0), dep('h', 1)],
      governance: { keys: { [APP_KEY]: { rpm_limit: 3 } }, default: { tpm_limit: 1500 } },
    })
    const { ok, refused } = await concurrently(6, (i) => router.complete(request(i % 2 ? 'g' : 'h'), { key: APP_KEY }))
    assert.equal(ok, 3)
    assert.equal(served(0) + served(1), 3, 'three requests a minute over both groups')
    for (const err of refused) {
      assertSwitchyard(err, 'rate_limited')
      assert.equal(err.status, 429)
      assert.match(err.rule, /^governance\.keys\./)
      assert.ok(err.retryAfter > 0 && err.retryAfter <= 60)
      assert.ok(!JSON.stringify(err).includes(APP_KEY) && !err.message.includes(APP_KEY), 'only the hash names the key')
    }
    assert.equal((await router.complete(request('g'), { key: 'another-app' })).choices[0].message.content, 'ok', 'another key has its own count')

    // An unlisted key under the default's tpm: each answer reports 10 + 1000 tokens.
    mocks.forEach((m) => m.reset())
    full(0, 3)
    await router.complete(request('g'), { key: 'tokens-app' })
    await router.complete(request('g'), { key: 'tokens-app' })
    const spent = await rejection(router.complete(request('g'), { key: 'tokens-app' }))
    assertSwitchyard(spent, 'rate_limited')
    assert.match(spent.rule, /^governance\.default@sha256:/)
    assert.equal(served(0), 2)
  })

  test("a tag's rpm counts its calls whatever their key, streams included", async () => {
    const { router } = routerWith({ model_list: [dep('g', 0)], governance: { tags: { free: { rpm_limit: 2 } } } })
    mocks[0].reply({ sse: streamChunks({ content: 'one two' }) })
    for await (const chunk of router.stream(request('g'), { tags: ['free'], key: 'a' })) void chunk
    await router.complete(request('g'), { tags: ['free'], key: 'b' })
    assertSwitchyard(await rejection(router.complete(request('g'), { tags: ['free'] })), 'rate_limited')
    assert.equal((await router.complete(request('g'))).choices[0].message.content, 'ok', 'untagged calls are not counted')
  })
})

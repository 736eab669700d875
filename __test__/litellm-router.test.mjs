// The same router scenarios through LiteLLM 1.106.2's own `litellm.Router` (PyPI, installed in
// .litellm-venv by scripts/install-litellm.sh) and through Switchyard's makeRouter, on the same
// loopback upstreams scripted the same way. Where the two should agree the outcomes are compared
// directly; where they differ by design the test asserts each side's behaviour, so it fails when
// either side changes. Every difference asserted here is listed in the README with its reason.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { startLiteLLM, both, shape, venvPresent } from './litellm-router/harness.mjs'

const require = createRequire(import.meta.url)
const { errorBody } = require('../lib/testing.js')

const skip = venvPresent() ? false : 'LiteLLM is not installed in .litellm-venv: run scripts/install-litellm.sh (npm test does)'

const err = (status, extra = {}) => ({ error: { status, ...extra } })
const serverError = (status, message) => err(status, { body: errorBody(message, { type: 'server_error' }) })
const contextError = err(400, {
  body: errorBody("This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.", { code: 'context_length_exceeded' }),
})
const dep = (group, mock, params) => ({ group, mock, params })
const calls = (n, extra = {}) => Array.from({ length: n }, () => ({ model: 'g', ...extra }))
const order = (run) => run.order.join('')

/** Failure and rpm windows are the current minute on both sides: never start one at its edge. */
async function awayFromMinuteEdge(seconds = 3) {
  const intoMinute = (Date.now() % 60_000) / 1000
  if (intoMinute > 60 - seconds) await new Promise((r) => setTimeout(r, (60 - intoMinute + 0.1) * 1000))
}

describe('LiteLLM 1.106.2 Router and Switchyard on the same scenarios', { skip }, () => {
  let litellm
  before(async () => {
    litellm = await startLiteLLM()
    assert.equal(litellm.version, '1.106.2', 'the pinned LiteLLM')
    // LiteLLM imports its exception mapping on the first failure (over a second): not in a test.
    await both(litellm, { name: 'warm-up', deployments: [dep('g', 0)], settings: { num_retries: 1 }, calls: calls(1, { stream: true }) }, (s) => s.script(0, [err(500)]))
  })
  after(() => litellm?.close())

  describe('retries', () => {
    test('a single deployment is retried on 500 until it answers; both post to api_base + /chat/completions', async () => {
      const scenario = { name: 'retry-500', deployments: [dep('g', 0)], settings: { num_retries: 2 }, calls: calls(1) }
      const { switchyard: sy, litellm: li } = await both(litellm, scenario, (s) => s.script(0, [err(500), err(500)]))
      assert.deepEqual(shape(sy.calls), [{ ok: true, content: 'm0' }])
      assert.deepEqual(shape(li.calls), shape(sy.calls))
      assert.deepEqual(sy.counts, [3])
      assert.deepEqual(li.counts, sy.counts)
      for (const run of [sy, li]) {
        assert.deepEqual(run.log.map((r) => [r.path, r.model]), Array(3).fill(['/chat/completions', 'model-0']), "the deployment's model, on the same path")
      }
    })

    test('a 400 is not retried', async () => {
      const scenario = { name: 'no-retry-400', deployments: [dep('g', 0)], settings: { num_retries: 2 }, calls: calls(1) }
      const { switchyard: sy, litellm: li } = await both(litellm, scenario, (s) => s.script(0, [err(400, { body: errorBody('bad request') })]))
      assert.deepEqual(shape(sy.calls), [{ ok: false, status: 400 }])
      assert.deepEqual(shape(li.calls), shape(sy.calls))
      assert.equal(sy.calls[0].kind, 'invalid_request')
      assert.equal(li.calls[0].error, 'BadRequestError')
      assert.deepEqual([sy.counts, li.counts], [[1], [1]])
    })

    test('a 429 with Retry-After on a single deployment waits it out and retries', async () => {
      const scenario = { name: '429-retry-after', deployments: [dep('g', 0)], settings: { num_retries: 1 }, calls: calls(2) }
      const { switchyard: sy, litellm: li } = await both(litellm, scenario, (s) => s.script(0, [err(429, { headers: { 'retry-after': '1' } })]))
      assert.deepEqual(shape(li.calls), [{ ok: true, content: 'm0' }, { ok: true, content: 'm0' }])
      assert.deepEqual(shape(sy.calls), shape(li.calls))
      assert.deepEqual(li.counts, [3])
      assert.deepEqual(sy.counts, li.counts)
      assert.ok(li.log[1].at - li.log[0].at >= 950, `LiteLLM waited ${li.log[1].at - li.log[0].at} ms`)
      // Switchyard cools the deployment for exactly the Retry-After, then retries on it.
      assert.ok(sy.log[1].at - sy.log[0].at >= 950, `Switchyard waited ${sy.log[1].at - sy.log[0].at} ms`)
    })

    test('DIFFERENT: a retry goes to a deployment not yet tried (LiteLLM re-draws, the failed one included)', async () => {
      const scenario = { name: 'retry-elsewhere', deployments: [dep('g', 0), dep('g', 1)], settings: { num_retries: 2, allowed_fails: 1000 }, calls: calls(40, { settle: 0 }) }
      const { switchyard: sy, litellm: li } = await both(litellm, scenario, (s) => s.script(0, [], err(500)))
      assert.ok(sy.calls.every((c) => c.ok && c.content === 'm1'), 'every call is answered by the healthy deployment')
      assert.doesNotMatch(order(sy), /00/, 'Switchyard never retries the deployment that just failed while another is healthy')
      assert.ok(sy.counts[0] > 0, 'the failing deployment was drawn first sometimes')
      // LiteLLM draws again among all healthy deployments: the failed one is retried about half the time.
      assert.match(order(li), /00/, `LiteLLM retried the failed deployment: ${order(li)}`)
    })
  })

  describe('fallbacks', () => {
    const ab = (extra = {}) => ({ deployments: [dep('a', 0), dep('b', 1)], settings: { num_retries: 1, fallbacks: [{ a: ['b'] }], ...extra }, calls: [{ model: 'a' }] })

    test("a group's retries come before its fallbacks, and the fallback group has its own retries", async () => {
      const { switchyard: sy, litellm: li } = await both(litellm, { name: 'fallback', ...ab() }, (s) => s.script(0, [err(500), err(500)]).script(1, [err(500)]))
      assert.deepEqual(shape(sy.calls), [{ ok: true, content: 'm1' }])
      assert.deepEqual(shape(li.calls), shape(sy.calls))
      assert.equal(order(sy), '0011')
      assert.equal(order(li), order(sy))
      assert.ok(sy.events.some((e) => e.type === 'fallback' && e.from === 'a' && e.to === 'b'))
    })

    test("when the whole chain fails, the original group's error is raised", async () => {
      const prepare = (s) => s.script(0, [], serverError(503, 'a is down')).script(1, [], serverError(500, 'b is down'))
      const { switchyard: sy, litellm: li } = await both(litellm, { name: 'chain-fails', ...ab() }, prepare)
      assert.deepEqual(shape(sy.calls), [{ ok: false, status: 503 }])
      assert.deepEqual(shape(li.calls), shape(sy.calls))
      for (const run of [sy, li]) assert.match(run.calls[0].message, /a is down/)
      assert.equal(li.calls[0].error, 'ServiceUnavailableError')
      assert.equal(order(sy), '0011')
      assert.equal(order(li), order(sy))
    })

    test('context_length_exceeded goes to context_window_fallbacks, unretried', async () => {
      const scenario = {
        name: 'context-window-fallbacks',
        deployments: [dep('a', 0), dep('b', 1), dep('c', 2)],
        settings: { num_retries: 1, fallbacks: [{ a: ['b'] }], context_window_fallbacks: [{ a: ['c'] }] },
        calls: [{ model: 'a' }],
      }
      const { switchyard: sy, litellm: li } = await both(litellm, scenario, (s) => s.script(0, [contextError]))
      assert.deepEqual(shape(sy.calls), [{ ok: true, content: 'm2' }])
      assert.deepEqual(shape(li.calls), shape(sy.calls))
      assert.deepEqual(sy.counts, [1, 0, 1])
      assert.deepEqual(li.counts, sy.counts)
    })

    test('DIFFERENT: context_length_exceeded with only generic fallbacks', async () => {
      const { switchyard: sy, litellm: li } = await both(litellm, { name: 'context-generic-only', ...ab() }, (s) => s.script(0, [contextError]))
      // Switchyard: a longer prompt will not fit a generic fallback either; the error is the answer.
      assert.deepEqual(shape(sy.calls), [{ ok: false, status: 400 }])
      assert.equal(sy.calls[0].kind, 'context_length_exceeded')
      assert.deepEqual(sy.counts, [1, 0])
      // LiteLLM "defaults to fallbacks" when no context_window_fallbacks are set.
      assert.deepEqual(shape(li.calls), [{ ok: true, content: 'm1' }])
      assert.deepEqual(li.counts, [1, 1])
    })
  })

  describe('cooldowns', () => {
    const pair = (settings, n) => ({ deployments: [dep('g', 0), dep('g', 1)], settings: { num_retries: 0, cooldown_time: 60, ...settings }, calls: calls(n) })

    test('more than allowed_fails failures in the minute cool a deployment: no more traffic', async () => {
      await awayFromMinuteEdge()
      const { switchyard: sy, litellm: li } = await both(litellm, { name: 'allowed-fails-1', ...pair({ allowed_fails: 1 }, 24) }, (s) => s.script(0, [], err(500)))
      assert.equal(sy.counts[0], 2, 'the second failure cooled it')
      assert.equal(li.counts[0], sy.counts[0])
      assert.deepEqual(sy.cooling, ['g-0'])
      assert.deepEqual(li.cooling, sy.cooling)
      assert.equal(sy.events.filter((e) => e.type === 'cooldown').length, 1)
    })

    test('DIFFERENT: with allowed_fails unset (default 3)', async () => {
      await awayFromMinuteEdge()
      const { switchyard: sy, litellm: li } = await both(litellm, { name: 'allowed-fails-default', ...pair({}, 40) }, (s) => s.script(0, [], err(500)))
      // Switchyard: the fourth failure (more than 3) cools it.
      assert.equal(sy.counts[0], 4)
      // LiteLLM: unset (or set to 3) switches to its failure-rate rule: over 50% failed with at
      // least 5 requests this minute, so the fifth failure cools it.
      assert.equal(li.counts[0], 5)
      assert.deepEqual([sy.cooling, li.cooling], [['g-0'], ['g-0']])
    })

    test('a 429 cools a deployment of a multi-deployment group at once', async () => {
      await awayFromMinuteEdge()
      const { switchyard: sy, litellm: li } = await both(litellm, { name: '429-cools', ...pair({}, 20) }, (s) => s.script(0, [], err(429)))
      assert.equal(sy.counts[0], 1)
      assert.equal(li.counts[0], 1)
      assert.deepEqual([sy.cooling, li.cooling], [['g-0'], ['g-0']])
      assert.ok(sy.calls.filter((c) => c.ok).length === 19 && li.calls.filter((c) => c.ok).length === 19)
    })

    test('DIFFERENT: a 429 when allowed_fails is set', async () => {
      await awayFromMinuteEdge()
      const { switchyard: sy, litellm: li } = await both(litellm, { name: '429-allowed-fails', ...pair({ allowed_fails: 2 }, 30) }, (s) => s.script(0, [], err(429)))
      assert.equal(sy.counts[0], 1, 'Switchyard: a 429 cools at once whatever allowed_fails says')
      assert.equal(li.counts[0], 3, 'LiteLLM: with allowed_fails set, a 429 is one more failure (cools past 2)')
      assert.deepEqual([sy.cooling, li.cooling], [['g-0'], ['g-0']])
    })

    test('DIFFERENT: a 429 on the only deployment of a group', async () => {
      const scenario = { name: '429-single', deployments: [dep('g', 0)], settings: { num_retries: 0, cooldown_time: 60 }, calls: calls(3) }
      const { switchyard: sy, litellm: li } = await both(litellm, scenario, (s) => s.script(0, [err(429)]))
      assert.deepEqual(shape(li.calls), [{ ok: false, status: 429 }, { ok: true, content: 'm0' }, { ok: true, content: 'm0' }])
      assert.deepEqual([li.counts, li.cooling], [[3], []], 'LiteLLM never cools the only deployment')
      assert.deepEqual(shape(sy.calls), [{ ok: false, status: 429 }, { ok: false, status: null }, { ok: false, status: null }])
      assert.deepEqual(sy.calls.map((c) => c.kind), ['rate_limited', 'rate_limited', 'rate_limited'])
      assert.deepEqual([sy.counts, sy.cooling], [[1], ['g-0']], 'Switchyard cools it for cooldown_time')
    })

    test('every deployment cooling: the call fails unsent (Switchyard with retryAfter)', async () => {
      const { switchyard: sy, litellm: li } = await both(litellm, { name: 'all-cooling', ...pair({}, 3) }, (s) => s.script(0, [], err(429)).script(1, [], err(429)))
      assert.deepEqual(sy.counts, [1, 1])
      assert.deepEqual(li.counts, sy.counts)
      assert.deepEqual([sy.cooling, li.cooling], [['g-0', 'g-1'], ['g-0', 'g-1']])
      const [s3, l3] = [sy.calls[2], li.calls[2]]
      assert.equal(s3.kind, 'rate_limited')
      assert.ok(s3.retryAfter > 55 && s3.retryAfter <= 60, `retryAfter ${s3.retryAfter}`)
      assert.equal(l3.error, 'RouterRateLimitError')
      assert.match(l3.message, /No deployments available.*Try again in 60 seconds/s)
      assert.equal(l3.status, null, 'neither carries an HTTP status')
      assert.equal(s3.status, null)
    })
  })

  describe('strategies', () => {
    test('DIFFERENT: order tiers: Switchyard moves down a tier on the first failure, LiteLLM after the retries', async () => {
      await awayFromMinuteEdge()
      const scenario = {
        name: 'order-tiers',
        deployments: [dep('g', 0, { order: 1 }), dep('g', 1, { order: 2 }), dep('g', 2, { order: 3 })],
        settings: { num_retries: 2 },
        calls: calls(3),
      }
      const { switchyard: sy, litellm: li } = await both(litellm, scenario, (s) => s.script(0, [], err(503)))
      // The same answers: every call is served by order 2, within the call, never by order 3.
      assert.deepEqual(shape(sy.calls), Array(3).fill({ ok: true, content: 'm1' }))
      assert.deepEqual(shape(li.calls), shape(sy.calls))
      assert.equal(order(sy), '010101', 'one attempt at order 1 per call')
      // LiteLLM retries order 1 num_retries times, then falls back to order 2; its failure-rate
      // rule cools order 1 at the fifth failure, after which calls go straight to order 2.
      assert.equal(order(li), '00010011')
    })

    test("DIFFERENT: order tiers with num_retries 0 and a fallback group (LiteLLM raises the last group's error)", async () => {
      const scenario = {
        name: 'order-tiers-no-retries',
        deployments: [dep('a', 0, { order: 1 }), dep('a', 1, { order: 2 }), dep('b', 2)],
        settings: { num_retries: 0, fallbacks: [{ a: ['b'] }] },
        calls: [{ model: 'a' }],
      }
      const prepare = (s) => s.script(0, [], serverError(503, 'a1 down')).script(1, [], serverError(502, 'a2 down')).script(2, [], serverError(500, 'b down'))
      const { switchyard: sy, litellm: li } = await both(litellm, scenario, prepare)
      // LiteLLM: order tiers are fallbacks, not retries: order 1, order 2, then group b; and it
      // raises the last error (b's), not the original group's.
      assert.equal(order(li), '012')
      assert.deepEqual(shape(li.calls), [{ ok: false, status: 500 }])
      assert.match(li.calls[0].message, /b down/)
      // Switchyard: order 1, order 2 (a tier moves down whatever the retries), then b; it raises
      // the original group's error (its last attempt's), as LiteLLM documents.
      assert.equal(order(sy), '012')
      assert.deepEqual(shape(sy.calls), [{ ok: false, status: 502 }])
      assert.match(sy.calls[0].message, /a2 down/)
    })

    test('DIFFERENT: usage-based-routing-v2 stops at rpm (LiteLLM one request short of it)', async () => {
      await awayFromMinuteEdge()
      const scenario = {
        name: 'usage-based-rpm',
        deployments: [dep('g', 0, { rpm: 2 }), dep('g', 1, { rpm: 3 })],
        settings: { routing_strategy: 'usage-based-routing-v2' },
        calls: calls(7),
      }
      const { switchyard: sy, litellm: li } = await both(litellm, scenario)
      assert.deepEqual(sy.counts, [2, 3], 'Switchyard serves each deployment up to its rpm')
      assert.deepEqual(li.counts, [1, 2], 'LiteLLM drops a deployment when usage + 1 >= rpm')
      assert.ok(sy.calls.slice(0, 5).every((c) => c.ok))
      assert.deepEqual(shape(sy.calls.slice(5)), Array(2).fill({ ok: false, status: null }), "the router's own refusal, unsent")
      assert.deepEqual(sy.calls.slice(5).map((c) => c.kind), ['rate_limited', 'rate_limited'])
      assert.ok(li.calls.slice(0, 3).every((c) => c.ok))
      assert.deepEqual(shape(li.calls.slice(3)), Array(4).fill({ ok: false, status: 429 }))
      assert.ok(li.calls.slice(3).every((c) => c.error === 'RateLimitError' && /No deployments available/.test(c.message)))
    })

    test('simple-shuffle follows weight', async () => {
      const scenario = { name: 'shuffle-weights', deployments: [dep('g', 0, { weight: 1 }), dep('g', 1, { weight: 3 })], settings: {}, calls: calls(200, { settle: 0 }) }
      const { switchyard: sy, litellm: li } = await both(litellm, scenario)
      for (const [who, run] of [['Switchyard', sy], ['LiteLLM', li]]) {
        const share = run.counts[1] / 200
        assert.ok(share > 0.62 && share < 0.88, `${who}: weight 3 of 4 took ${share}`)
        assert.ok(run.calls.every((c) => c.ok))
      }
    })

    test('DIFFERENT: round-robin is Switchyard only', async () => {
      const scenario = { name: 'round-robin', deployments: [dep('g', 0), dep('g', 1), dep('g', 2)], settings: { routing_strategy: 'round-robin' }, calls: calls(6) }
      const { switchyard: sy, litellm: li } = await both(litellm, scenario)
      assert.equal(order(sy), '012012')
      assert.equal(li.construct_error?.error, 'ValueError')
      assert.match(li.construct_error.message, /Invalid routing_strategy: 'round-robin'/)
      assert.deepEqual(li.counts, [0, 0, 0])
    })
  })

  describe('streams', () => {
    for (const [what, fault] of [['a 503', err(503)], ['a dropped connection', { destroy: true }]]) {
      test(`DIFFERENT: a stream failing with ${what} before its first chunk fails over (Switchyard at once)`, async () => {
        const scenario = {
          name: `stream-${what}`,
          deployments: [dep('g', 0, { order: 1 }), dep('g', 1, { order: 2 })],
          settings: { num_retries: 1 },
          calls: calls(1, { stream: true }),
        }
        const { switchyard: sy, litellm: li } = await both(litellm, scenario, (s) => s.script(0, [], fault))
        assert.deepEqual(shape(sy.calls), [{ ok: true, content: 'm1' }])
        assert.deepEqual(shape(li.calls), shape(sy.calls))
        assert.ok([sy, li].every((run) => run.log.every((r) => r.stream)), 'both asked for a stream')
        assert.equal(order(sy), '01')
        assert.equal(order(li), '001', 'LiteLLM retries order 1 before order 2, as for completions')
      })
    }
  })
})

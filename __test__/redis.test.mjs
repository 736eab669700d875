// Router state shared through a real redis-server (Debian's package, started here on a free
// 127.0.0.1 port): four Node processes share one rpm limit, cooldowns and cache hits; a Redis
// that dies and comes back under load fails no call; nothing secret is written to Redis.
import { test, describe, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { fork, spawn, execFileSync } from 'node:child_process'
import { createServer } from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

import { throwsSync } from './support/assertions.mjs'

const require = createRequire(import.meta.url)
const { makeRouter } = require('../lib/index.js')
const { startMockUpstream, completion } = require('../lib/testing.js')

const here = dirname(fileURLToPath(import.meta.url))
const KEY = 'sk-redis-test-9f8e7d6c5b4a39281706f5e4'
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

/** A redis-server on `port`, without persistence; resolves once it answers PING. */
async function startRedis(port) {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    try {
      if (cli(port, 'PING').trim() === 'PONG') return proc
    } catch {}
    await sleep(50)
  }
  throw new Error('redis-server did not start')
}

const cli = (port, ...args) => execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' })
const scan = (port) => cli(port, '--scan').split('\n').filter(Boolean)

/** Forked processes running `__test__/redis/worker.mjs` over one router config. */
async function startWorkers(n, config) {
  const workers = await Promise.all(
    Array.from({ length: n }, () => {
      const child = fork(join(here, 'redis', 'worker.mjs'), { env: { ...process.env, SWITCHYARD_TEST_ROUTER_CONFIG: JSON.stringify(config) } })
      return new Promise((resolve, reject) => {
        child.once('message', (m) => (m.ready ? resolve(child) : reject(new Error('worker did not start'))))
        child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)))
      })
    }),
  )
  let id = 0
  const ask = (child, task) =>
    new Promise((resolve) => {
      const mine = ++id
      const onMessage = (m) => {
        if (m.id !== mine) return
        child.off('message', onMessage)
        resolve(m)
      }
      child.on('message', onMessage)
      child.send({ ...task, id: mine })
    })
  return {
    run: (i, task) => ask(workers[i], task),
    all: (task) => Promise.all(workers.map((w) => ask(w, task))),
    stats: (i) => ask(workers[i], { type: 'stats' }).then((m) => m.stats),
    close: () => Promise.all(workers.map((w) => new Promise((r) => { w.once('exit', r); w.send({ type: 'exit' }) }))),
  }
}

/** Wait until a limit window (the minute) has `needMs` left, so a test stays inside one. */
async function insideOneMinute(needMs) {
  const left = 60_000 - (Date.now() % 60_000)
  if (left < needMs) await sleep(left + 50)
}

let port
let redis
let mocks = []
const redisSettings = () => ({ redis_host: '127.0.0.1', redis_port: port, redis_timeout_ms: 1000 })
const dep = (group, i, extra = {}) => ({
  model_name: group,
  litellm_params: { model: `openai/model-${i}`, api_base: mocks[i].url, api_key: KEY, ...extra },
  model_info: { id: `${group}-${i}` },
})
const question = (content = 'the same question') => ({ model: 'g', messages: [{ role: 'user', content }] })

before(async () => {
  port = await freePort()
  redis = await startRedis(port)
  mocks = await Promise.all(Array.from({ length: 3 }, () => startMockUpstream()))
})
after(async () => {
  redis?.kill('SIGKILL')
  await Promise.all(mocks.map((m) => m.close()))
})
beforeEach(() => {
  mocks.forEach((m) => m.reset())
  cli(port, 'FLUSHALL')
})

describe('four processes, one Redis', () => {
  test('respect one global rpm limit', async () => {
    const workers = await startWorkers(4, { model_list: [dep('g', 0, { rpm: 60 })], router_settings: { ...redisSettings(), num_retries: 0 } })
    try {
      await insideOneMinute(5_000)
      const replies = await workers.all({ request: question(), vary: 'rpm', count: 40, concurrency: 5 })
      const results = replies.flatMap((r) => r.results)
      const served = mocks[0].requests.length
      assert.ok(served >= 57 && served <= 63, `60 rpm over four processes let ${served} through`)
      assert.equal(results.filter((r) => r.ok).length, served)
      assert.ok(results.filter((r) => !r.ok).every((r) => r.kind === 'rate_limited'), 'the rest are typed rate_limited errors')
    } finally {
      await workers.close()
    }
  })

  test('share cooldowns: a deployment cooled in one process gets no traffic from the others', async () => {
    const config = { model_list: [dep('g', 0, { order: 1 }), dep('g', 1, { order: 2 })], router_settings: redisSettings() }
    const workers = await startWorkers(4, config)
    try {
      mocks[0].reply({ error: { status: 429, headers: { 'retry-after': '30' } } })
      const first = await workers.run(0, { request: question(), count: 1 })
      assert.ok(first.results[0].ok, 'the first process failed over to the next order')
      assert.ok(first.events.some((e) => e.type === 'cooldown' && e.deployment === 'g-0'))
      await sleep(100) // within 100 ms: the others' mirrors refresh every 50 ms
      const cooled = await workers.stats(3)
      assert.ok(cooled.model_stats.g.deployments['g-0'].cooling_until_ms > Date.now(), 'another process sees the cooldown')
      const others = await Promise.all([1, 2, 3].map((i) => workers.run(i, { request: question(), vary: `cool${i}`, count: 10 })))
      assert.ok(others.every((o) => o.results.every((r) => r.ok)))
      assert.equal(mocks[0].requests.length, 1, 'only the first call reached the cooled deployment')
      assert.equal(mocks[1].requests.length, 31)
    } finally {
      await workers.close()
    }
  })

  test('share cache hits: an identical request reaches the upstream once in all', async () => {
    const config = {
      model_list: [dep('g', 0)],
      litellm_settings: { cache: true, cache_params: { type: 'redis', host: '127.0.0.1', port, ttl: 60 } },
    }
    const workers = await startWorkers(4, config)
    try {
      mocks[0].reply({ json: completion({ content: 'answered once' }) })
      await workers.run(0, { request: question(), count: 1 })
      const replies = await workers.all({ request: question(), count: 3, concurrency: 3 })
      assert.ok(replies.flatMap((r) => r.results).every((r) => r.ok && r.content === 'answered once'))
      assert.equal(mocks[0].requests.length, 1)
      assert.ok(replies.slice(1).every((r) => r.events.some((e) => e.type === 'cache_hit')))
    } finally {
      await workers.close()
    }
  })
})

describe('budgets across processes', () => {
  test('hold a budget exactly: no process spends past it', async () => {
    const perCall = 11e-6 // the mock's 10 + 1 tokens at $1 per million each
    const limit = 20 * perCall
    const config = {
      model_list: [dep('g', 0, { input_cost_per_token: 1e-6, output_cost_per_token: 1e-6 })],
      router_settings: { ...redisSettings(), redis_namespace: 'budget', num_retries: 0 },
      governance: { max_cost_per_day: limit },
    }
    const workers = await startWorkers(4, config)
    try {
      const request = { ...question(), max_tokens: 1 }
      const replies = await workers.all({ request, vary: 'budget', count: 15, concurrency: 3 })
      const results = replies.flatMap((r) => r.results)
      const served = mocks[0].requests.length
      assert.equal(results.filter((r) => r.ok).length, served)
      assert.ok(served * perCall <= limit + 1e-12, `${served} calls spent past the budget`)
      assert.ok(served >= 10, `the held estimates left room for ${served} of 20 calls`)
      assert.ok(results.filter((r) => !r.ok).every((r) => r.kind === 'budget_exceeded'), JSON.stringify(results.find((r) => !r.ok)))
      await sleep(200) // booked spend is written through
      const day = Math.floor(Date.now() / 86_400_000)
      const spent = Number(cli(port, 'GET', `budget:spent:governance.max_cost_per_day:${day}`))
      assert.ok(Math.abs(spent - served * perCall) < 1e-9, `Redis books ${spent} for ${served} calls`)
      // A fifth process, started now, takes what the others left, and no more.
      const late = await startWorkers(1, config)
      const more = (await late.run(0, { request, vary: 'late', count: 15 })).results
      await late.close()
      assert.ok(mocks[0].requests.length * perCall <= limit + 1e-12, `${mocks[0].requests.length} calls in all`)
      assert.equal(mocks[0].requests.length, served + more.filter((r) => r.ok).length)
      assert.equal(more.at(-1).kind, 'budget_exceeded', 'the late process ends refused')
    } finally {
      await workers.close()
    }
  })
})

describe("a caller's rate limit across processes", () => {
  test("four processes hold one key's rpm", async () => {
    const config = {
      model_list: [dep('g', 0)],
      router_settings: { ...redisSettings(), redis_namespace: 'caller', num_retries: 0 },
      governance: { keys: { 'team-a': { rpm_limit: 10 } } },
    }
    const workers = await startWorkers(4, config)
    try {
      await insideOneMinute(5_000)
      const replies = await workers.all({ request: question(), vary: 'key', count: 8, concurrency: 2, options: { key: 'team-a' } })
      const results = replies.flatMap((r) => r.results)
      assert.equal(mocks[0].requests.length, 10)
      assert.equal(results.filter((r) => r.ok).length, 10)
      assert.ok(results.filter((r) => !r.ok).every((r) => r.kind === 'rate_limited'))
    } finally {
      await workers.close()
    }
  })
})

describe('stats across processes', () => {
  test("stats() adds every process's calls, tokens and cost under shared", async () => {
    const workers = await startWorkers(2, { model_list: [dep('g', 0, { model: 'openai/gpt-4o-mini' })], router_settings: redisSettings() })
    try {
      await workers.all({ request: question(), vary: 'stats', count: 5 })
      let stats
      for (let i = 0; i < 40 && (stats?.model_stats.g.shared?.calls ?? 0) < 10; i++) {
        await sleep(100) // shared once a second
        stats = await workers.stats(0)
      }
      const group = stats.model_stats.g
      assert.equal(group.calls, 5, 'this process: its own calls')
      assert.equal(group.shared.calls, 10, 'shared: both processes')
      assert.equal(group.shared.total_tokens, 10 * 11)
      assert.ok(Math.abs(group.shared.cost_usd - 2 * group.cost_usd) < 1e-12 && group.cost_usd > 0)
      assert.equal(group.deployments['g-0'].shared.calls, 10)
    } finally {
      await workers.close()
    }
  })
})

describe('what Redis holds', () => {
  test('keys are namespaced per app and nothing secret is written', async () => {
    const app = (namespace) =>
      makeRouter({
        model_list: [dep('g', 0, { rpm: 100 }), dep('h', 1)],
        router_settings: { ...redisSettings(), redis_namespace: namespace, num_retries: 0 },
        litellm_settings: { cache: true, cache_params: { type: 'redis' } },
      })
    const a = app('app-a')
    const b = app('app-b')
    await a.complete(question())
    await a.complete(question())
    await b.complete(question())
    assert.equal(mocks[0].requests.length, 2, "app b does not read app a's cache")
    mocks[1].reply({ error: { status: 429, headers: { 'retry-after': '30' } } })
    await assert.rejects(a.complete({ ...question(), model: 'h' }))
    await sleep(100) // queued writes land
    const keys = scan(port)
    assert.ok(keys.length >= 6, keys.join(' '))
    assert.ok(keys.every((k) => k.startsWith('app-a:') || k.startsWith('app-b:')), keys.join(' '))
    assert.ok(keys.some((k) => k.startsWith('app-a:cool:')), 'the cooldown is shared')
    for (const key of keys) {
      assert.ok(!key.includes(KEY) && !/sk-/.test(key), key)
      const value = cli(port, 'GET', key)
      assert.ok(!value.includes(KEY) && !/Bearer/.test(value), `${key} holds a credential`)
    }
    assert.ok(keys.filter((k) => k.includes(':cache:')).every((k) => /:cache:[0-9a-f]{64}$/.test(k)), 'cache keys are request hashes')
  })

  test("a LiteLLM config with redis_host and a Redis cache_params works unchanged", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-redis-'))
    const file = join(dir, 'config.yaml')
    writeFileSync(
      file,
      `model_list:
  - model_name: g
    litellm_params:
      model: openai/gpt-4o
      api_base: ${mocks[0].url}
      api_key: os.environ/SWITCHYARD_TEST_REDIS_KEY
      rpm: 100
router_settings:
  routing_strategy: usage-based-routing-v2
  redis_host: os.environ/REDIS_HOST
  redis_port: os.environ/REDIS_PORT
litellm_settings:
  cache: true
  cache_params:
    type: redis
    host: os.environ/REDIS_HOST
    port: os.environ/REDIS_PORT
    ttl: 600
    namespace: litellm.caching
`,
    )
    Object.assign(process.env, { SWITCHYARD_TEST_REDIS_KEY: KEY, REDIS_HOST: '127.0.0.1', REDIS_PORT: String(port) })
    try {
      const router = makeRouter(file)
      assert.deepEqual(router.warnings, [])
      await router.complete(question())
      await router.complete(question())
      assert.equal(mocks[0].requests.length, 1)
      await sleep(100)
      assert.ok(scan(port).some((k) => k.startsWith('litellm.caching:cache:')))
    } finally {
      for (const name of ['SWITCHYARD_TEST_REDIS_KEY', 'REDIS_HOST', 'REDIS_PORT']) delete process.env[name]
    }
  })
})

describe('TLS and ACLs', () => {
  /** A CA and a server certificate for 127.0.0.1, made with openssl. */
  function certificates() {
    const dir = mkdtempSync(join(tmpdir(), 'sy-redis-tls-'))
    const ssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' })
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=switchyard-test-ca')
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost')
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf')
    return dir
  }

  test('rediss:// with a private CA and an ACL user shares state; a wrong password falls back locally', async () => {
    const dir = certificates()
    const tlsPort = await freePort()
    const server = spawn('redis-server', [
      '--port', '0', '--tls-port', String(tlsPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--tls-cert-file', join(dir, 'server.crt'), '--tls-key-file', join(dir, 'server.key'), '--tls-ca-cert-file', join(dir, 'ca.crt'), '--tls-auth-clients', 'no',
      '--user', 'default', 'off', '--user', 'app', 'on', '>s3cret-redis-pw', '~*', '+@all',
    ], { stdio: 'ignore' })
    const tlsCli = (...args) => execFileSync('redis-cli', ['--tls', '--cacert', join(dir, 'ca.crt'), '-p', String(tlsPort), '--user', 'app', '--pass', 's3cret-redis-pw', '--no-auth-warning', ...args], { encoding: 'utf8' })
    try {
      for (let i = 0; i < 100; i++) {
        try { if (tlsCli('PING').trim() === 'PONG') break } catch {}
        await sleep(50)
      }
      const shared = (password, namespace) => {
        const events = []
        const router = makeRouter(
          {
            model_list: [dep('g', 0, { rpm: 100 })],
            router_settings: { redis_url: `rediss://app:${password}@127.0.0.1:${tlsPort}`, redis_ssl_ca_certs: join(dir, 'ca.crt'), redis_namespace: namespace },
          },
          { onEvent: (e) => events.push(e) },
        )
        return { router, events }
      }
      const good = shared('s3cret-redis-pw', 'tls-good')
      await good.router.complete(question())
      assert.ok(!good.events.some((e) => e.type === 'state_unavailable'), JSON.stringify(good.events))
      assert.equal(tlsCli('GET', `tls-good:rpm:g-0:${Math.floor(Date.now() / 60_000)}`).trim(), '1', 'counted in Redis, over TLS')

      const bad = shared('wrong-password', 'tls-bad')
      await bad.router.complete(question())
      assert.ok(bad.events.some((e) => e.type === 'state_unavailable'), 'refused by the ACL: the call ran on local state')
      const err = throwsSync(() => makeRouter({ model_list: [dep('g', 0)], router_settings: { redis_host: '127.0.0.1', redis_ssl: true, redis_ssl_ca_certs: join(dir, 'missing.crt') } }))
      assert.equal(err.kind, 'invalid_input')
      assert.match(err.message, /redis_ssl_ca_certs/)
    } finally {
      server.kill('SIGKILL')
    }
  })
})

describe('Redis failure never fails a request', () => {
  test('a Redis that never answers: calls run on local state and say so', async () => {
    const closed = await freePort()
    const events = []
    const router = makeRouter(
      { model_list: [dep('g', 0, { rpm: 2 })], router_settings: { redis_host: '127.0.0.1', redis_port: closed, num_retries: 0 } },
      { onEvent: (e) => events.push(e) },
    )
    const outcomes = await Promise.allSettled([1, 2, 3].map(() => router.complete(question())))
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 2, 'the local limit still holds')
    assert.equal(outcomes.find((o) => o.status === 'rejected').reason.kind, 'rate_limited')
    assert.ok(events.some((e) => e.type === 'state_unavailable' && e.backend === 'redis'))
  })

  test('killed and restarted under load: nothing is lost, no call waits past its deadline, sharing resumes', async () => {
    const config = { model_list: [dep('g', 0), dep('g', 1)], router_settings: { ...redisSettings(), redis_timeout_ms: 20, deadline: 3 } }
    const workers = await startWorkers(2, config)
    try {
      mocks[0].reply(...Array.from({ length: 400 }, () => ({ json: completion(), delayMs: 2 })))
      const load = workers.all({ request: question(), vary: 'load', count: 150, concurrency: 4, pauseMs: 5 })
      await sleep(300)
      redis.kill('SIGKILL')
      await sleep(500)
      redis = await startRedis(port)
      const replies = await load
      const results = replies.flatMap((r) => r.results)
      assert.equal(results.length, 300)
      assert.deepEqual(results.filter((r) => !r.ok), [], 'every call succeeded')
      assert.ok(Math.max(...results.map((r) => r.ms)) < 3000, 'within the deadline')
      assert.ok(replies.some((r) => r.events.some((e) => e.type === 'state_unavailable')), 'the outage was reported')

      // Shared again: a cooldown set in one process reaches the other.
      let shared = false
      for (let i = 0; i < 50 && !shared; i++) {
        mocks[1].reset()
        mocks[1].reply({ error: { status: 429, headers: { 'retry-after': '30' } } })
        await workers.run(0, { request: question(), vary: `again${i}`, count: 4 })
        await sleep(100)
        const stats = await workers.stats(1)
        shared = (stats.model_stats.g.deployments['g-1'].cooling_until_ms ?? 0) > Date.now()
      }
      assert.ok(shared, 'cooldowns are shared again once Redis is back')
    } finally {
      await workers.close()
    }
  })
})

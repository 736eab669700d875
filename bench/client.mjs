// Benchmark worker: one client × one scenario per process, so CPU and RSS are that client's alone.
// Usage (normally forked by bench/run.mjs): node --expose-gc bench/client.mjs <client> <scenario> <port>
// Results go back over IPC: stdout is 'ignore'd (JAF logs every call; that cost stays in).
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import v8 from 'node:v8'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const [clientName, scenario, port] = process.argv.slice(2)
const BASE = `http://127.0.0.1:${port}/v1`
const KEY = 'sk-bench'

// The one request every client sends (JAF ModelProvider arguments).
const state = { messages: [{ role: 'user', content: 'Hello' }], runId: 'r', traceId: 't', currentAgentName: 'A', context: {}, turnCount: 0 }
const agent = { name: 'A', instructions: () => 'You are a helpful assistant.', modelConfig: { name: 'gpt-4o-mini', temperature: 0 } }
const config = {}

// What a caller of the bare SDK / HTTP client would build for the same call.
const params = () => ({
  model: agent.modelConfig.name,
  messages: [{ role: 'system', content: agent.instructions(state) }, ...state.messages],
  temperature: agent.modelConfig.temperature,
})

// Each factory returns { complete(): Promise, stream(onFirst?): Promise<number of content chunks> };
// `onFirst` is called when the first content chunk reaches the caller.
/** Switchyard's exports, loaded from the addon snapshot run.mjs hands over. */
function switchyardLib() {
  // The loader override is scoped to our own binding (every napi-rs package honours
  // NAPI_RS_NATIVE_LIBRARY_PATH, e.g. JAF's pdf canvas).
  if (process.env.SWITCHYARD_BENCH_ADDON) {
    process.env.NAPI_RS_NATIVE_LIBRARY_PATH = process.env.SWITCHYARD_BENCH_ADDON
    require(path.join(ROOT, 'index.js'))
    delete process.env.NAPI_RS_NATIVE_LIBRARY_PATH
  }
  return require(path.join(ROOT, 'lib/index.js'))
}

/**
 * The Router over one deployment at the mock (its overhead over the bare provider), cache on or
 * off; with `redis`, its state in the bench's redis-server and an rpm limit, so every call is
 * admitted by one Redis round trip.
 */
function routerClient(headers, { cache = false, redis = false } = {}) {
  const router = switchyardLib().makeRouter({
    model_list: [{ model_name: 'gpt-4o-mini', litellm_params: { model: 'openai/gpt-4o-mini', api_base: BASE, api_key: KEY, ...(headers && { headers }), ...(redis && { rpm: 1e12 }) } }],
    ...(cache && { litellm_settings: { cache: true, cache_params: { type: 'local', ttl: 600 } } }),
    ...(redis && { router_settings: { redis_host: '127.0.0.1', redis_port: Number(process.env.SWITCHYARD_BENCH_REDIS_PORT), redis_namespace: `bench-${process.pid}` } }),
  })
  return jafShaped(router)
}

const clients = {
  async switchyard(headers) {
    return jafShaped(switchyardLib().makeLiteLLMProvider(BASE, KEY, undefined, headers))
  },
  async router(headers) {
    return routerClient(headers)
  },
  async router_cached(headers) {
    return routerClient(headers, { cache: true })
  },
  async router_redis(headers) {
    return routerClient(headers, { redis: true })
  },
  async jaf(headers) {
    const { makeLiteLLMProvider } = await import(path.join(ROOT, 'node_modules/@xynehq/jaf/dist/providers/model.js'))
    return jafShaped(makeLiteLLMProvider(BASE, KEY, undefined, headers))
  },
  async openai(headers) {
    const { default: OpenAI } = await import('openai')
    const c = new OpenAI({ baseURL: BASE, apiKey: KEY, defaultHeaders: headers })
    return {
      complete: () => c.chat.completions.create(params()),
      async stream(onFirst) {
        let n = 0
        const s = await c.chat.completions.create({ ...params(), stream: true, stream_options: { include_usage: true } })
        for await (const ch of s) if (ch.choices[0]?.delta?.content && !n++) onFirst?.()
        return n
      },
    }
  },
  async undici(headers) {
    const { request } = await import('undici')
    const url = `${BASE}/chat/completions`
    const hdrs = { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers }
    const post = async (body) => {
      const res = await request(url, { method: 'POST', headers: hdrs, body: JSON.stringify(body) })
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${await res.body.text()}`)
      return res
    }
    return {
      complete: async () => JSON.parse(await (await post(params())).body.text()),
      async stream(onFirst) {
        const res = await post({ ...params(), stream: true, stream_options: { include_usage: true } })
        res.body.setEncoding('utf8')
        let buf = ''
        let n = 0
        for await (const text of res.body) {
          buf += text
          let i
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const ev = buf.slice(0, i)
            buf = buf.slice(i + 2)
            if (!ev.startsWith('data: ') || ev === 'data: [DONE]') continue
            if (JSON.parse(ev.slice(6)).choices[0]?.delta?.content && !n++) onFirst?.()
          }
        }
        return n
      },
    }
  },
}

function jafShaped(p) {
  return {
    complete: () => p.getCompletion(state, agent, config),
    async stream(onFirst) {
      let n = 0
      for await (const ev of p.getCompletionStream(state, agent, config)) if (ev.delta && !n++) onFirst?.()
      return n
    },
  }
}

const now = () => Number(process.hrtime.bigint()) / 1e3 // µs
const cpuUs = (c) => c.user + c.system
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** `c` workers call `fn` until `ms` elapse (or `count` calls); returns { calls, errors, us, sum of numeric results }. */
async function load(fn, c, { ms = Infinity, count = Infinity }) {
  let calls = 0, errors = 0, launched = 0, sum = 0, firstErr
  const t0 = now(), end = t0 + ms * 1e3
  const worker = async () => {
    while (launched < count && now() < end) {
      launched++
      try { const v = await fn(); if (typeof v === 'number') sum += v; calls++ } catch (e) { errors++; firstErr ??= e }
    }
  }
  await Promise.all(Array.from({ length: c }, worker))
  if (errors && !calls) throw firstErr
  return { calls, errors, us: now() - t0, sum, firstErr }
}

const pct = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]

const scenarios = {
  // Resident memory over 100k calls (c=16) once warm: after 50k warm-up calls (pools, JIT and
  // allocator arenas settle), the next 100k must not grow it.
  async mem(c) {
    await load(c.complete, 16, { count: 50_000 })
    global.gc?.()
    await sleep(50)
    const before = process.memoryUsage.rss()
    const r = await load(c.complete, 16, { count: 100_000 })
    global.gc?.()
    await sleep(50)
    const after = process.memoryUsage.rss()
    return { rss_growth_mib: (after - before) / 2 ** 20, calls: r.calls, errors: r.errors }
  },
  // The router's overhead over the bare provider, measured in one process: sequential calls
  // alternate between the two call by call (and CPU blocks alternate), so a change in the
  // machine's speed falls on both alike (across separate processes, and even across blocks of
  // calls, drift is larger than the few µs being measured).
  async overhead(router) {
    const pair = [await clients.switchyard(), router]
    for (const x of pair) {
      await load(x.complete, 1, { count: 300 })
      await load(x.complete, 64, { ms: 500 })
    }
    const PAIRS = 3000, BLOCKS = 20
    const lat = [[], []], cpu = [0, 0], calls = [0, 0]
    const order = (n) => (n % 2 ? [1, 0] : [0, 1])
    for (let n = 0; n < PAIRS; n++) {
      for (const i of order(n)) {
        const t = now()
        await pair[i].complete()
        lat[i].push(now() - t)
      }
    }
    for (let block = 0; block < BLOCKS; block++) {
      for (const i of order(block)) {
        const cpu0 = process.cpuUsage()
        const r = await load(pair[i].complete, 64, { ms: 150 })
        if (r.errors) throw r.firstErr
        cpu[i] += cpuUs(process.cpuUsage(cpu0))
        calls[i] += r.calls
      }
    }
    const p50 = (v) => pct([...v].sort((a, b) => a - b), 0.5)
    const [bareP50, routerP50] = lat.map(p50)
    const [bareCpu, routerCpu] = cpu.map((c, i) => c / calls[i])
    return { added_p50_us: routerP50 - bareP50, added_cpu_us: routerCpu - bareCpu, bare_p50_us: bareP50, router_p50_us: routerP50, bare_cpu_us: bareCpu, router_cpu_us: routerCpu }
  },
  // Sequential getCompletion: latency distribution.
  async lat(c) {
    await load(c.complete, 1, { count: 300 })
    const lat = []
    let errors = 0
    for (let i = 0; i < 2000; i++) {
      const t = now()
      try { await c.complete() } catch { errors++; continue }
      lat.push(now() - t)
    }
    lat.sort((a, b) => a - b)
    return { p50_us: pct(lat, 0.5), p99_us: pct(lat, 0.99), n: lat.length, errors }
  },
  // 64 concurrent getCompletion for 3 s: throughput and whole-process CPU per request.
  async tput(c) {
    await load(c.complete, 64, { ms: 700 })
    const cpu0 = process.cpuUsage()
    const r = await load(c.complete, 64, { ms: 3000 })
    const cpu = cpuUs(process.cpuUsage(cpu0))
    return { rps: r.calls / (r.us / 1e6), cpu_us_per_req: cpu / r.calls, n: r.calls, errors: r.errors, cpu_util: cpu / r.us }
  },
  // Whole streams (64 content chunks each) through the streaming API, for 2 s.
  async stream1(c) { return streamAt(c, 1) },
  async stream16(c) { return streamAt(c, 16) },
  // Sequential 200-chunk streams: time to the first content chunk, and to the end of the stream.
  async ttfc(c, make) {
    const CHUNKS = 200
    const long = await make({ 'x-mock-chunks': String(CHUNKS) })
    await load(long.stream, 1, { count: 200 })
    const first = [], whole = []
    let errors = 0
    for (let i = 0; i < 1000; i++) {
      let tFirst
      const t = now()
      try {
        const n = await long.stream(() => { tFirst = now() })
        if (n !== CHUNKS) throw new Error(`expected ${CHUNKS} content chunks, got ${n}`)
      } catch { errors++; continue }
      whole.push(now() - t)
      first.push(tFirst - t)
    }
    first.sort((a, b) => a - b)
    whole.sort((a, b) => a - b)
    return { ttfc_p50_us: pct(first, 0.5), ttfc_p99_us: pct(first, 0.99), stream_p50_us: pct(whole, 0.5), stream_p99_us: pct(whole, 0.99), n: first.length, errors }
  },
  // Memory growth while K requests are held in flight by the mock's delay.
  async rss(c, make) {
    const K = 1000, DELAY = 1500, AT = 1100 // sample window ends well before the first response can arrive
    const slow = await make({ 'x-mock-delay-ms': String(DELAY) })
    await load(c.complete, 1, { count: 300 })
    await load(c.complete, 16, { count: 500 })
    await load(slow.complete, 16, { count: 16 }) // cold paths of the slow instance, not its pool size
    global.gc?.(); await sleep(50); global.gc?.()
    const snap = () => ({ rss: process.memoryUsage.rss(), used: v8.getHeapStatistics().used_heap_size, phys: v8.getHeapStatistics().total_physical_size })
    const base = snap()
    let peak = base.rss, settledEarly = 0, sampling = true
    const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()) }, 10)
    const calls = Array.from({ length: K }, () => slow.complete().finally(() => { if (sampling) settledEarly++ }))
    await sleep(AT)
    clearInterval(timer)
    sampling = false
    peak = Math.max(peak, process.memoryUsage.rss())
    // Cross-check immune to V8 heap headroom (RSS barely moves when the heap already has free
    // committed pages from warm-up garbage): live JS heap growth, measured after a forced gc.
    global.gc?.()
    const m = snap()
    const settled = await Promise.allSettled(calls)
    const errors = settled.filter((s) => s.status === 'rejected').length
    if (errors === K) throw settled[0].reason
    if (settledEarly) throw new Error(`${settledEarly} calls settled before the sample: not all in flight`)
    const mib = (x) => +(x / 2 ** 20).toFixed(2)
    return {
      rss_kib_per_inflight: (peak - base.rss) / 1024 / K, heap_kib_per_inflight: (m.used - base.used) / 1024 / K, errors,
      base_rss_mib: mib(base.rss), peak_rss_mib: mib(peak), base_heap_used_mib: mib(base.used), heap_used_after_gc_mib: mib(m.used), non_heap_rss_growth_mib: mib(m.rss - m.phys - base.rss + base.phys),
    }
  },
}

async function streamAt(c, conc) {
  const first = await c.stream()
  if (first !== 64) throw new Error(`expected 64 content chunks, got ${first}`)
  await load(c.stream, conc, { ms: 500 })
  const r = await load(c.stream, conc, { ms: 2000 })
  return { chunks_per_s: r.sum / (r.us / 1e6), streams: r.calls, errors: r.errors }
}

const send = (msg) => new Promise((r) => (process.send ? process.send(msg, r) : (console.error(JSON.stringify(msg)), r())))
try {
  if (!clients[clientName] || !scenarios[scenario]) throw new Error(`usage: client.mjs <${Object.keys(clients)}> <${Object.keys(scenarios)}> <port>`)
  const make = clients[clientName]
  const c = await make(undefined)
  await send({ ok: true, ...(await scenarios[scenario](c, make)) })
} catch (e) {
  await send({ ok: false, error: String(e?.stack || e).split('\n').slice(0, 3).join(' | ') })
}
process.exit(0) // don't wait for keep-alive sockets / native pools to wind down

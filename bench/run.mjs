// `npm run bench`: Switchyard vs JAF vs the openai SDK vs raw undici, against one local mock upstream.
// Each (client, scenario) runs in its own child process (bench/client.mjs) so CPU and RSS are clean;
// the mock (bench/mock-upstream, Rust, one core) is a third process. Traffic stays on 127.0.0.1.
// Options: --clients=switchyard,jaf,openai,undici  --scenarios=lat,tput,stream1,stream16,ttfc,rss,mem,overhead  --reps=N (median, default 3)
import { fork, spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '..')
const arg = (k, d) => process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d
const CLIENTS = arg('clients', 'switchyard,router,router_cached,router_redis,jaf,openai,undici').split(',')
// The router runs beside the bare provider for its overhead, its cache hits and its memory; with
// its state in Redis, for what one admission round trip per call adds.
const PLAN = { router: ['lat', 'tput', 'mem', 'overhead'], router_cached: ['lat'], router_redis: ['lat', 'tput'] }
const planned = (client, scenario) => (PLAN[client] ? PLAN[client].includes(scenario) : !['mem', 'overhead'].includes(scenario))
const REPS = Number(arg('reps', 3))
const SCENARIOS = arg('scenarios', 'lat,tput,stream1,stream16,ttfc,rss,mem,overhead').split(',')
const CHILD_TIMEOUT_MS = 45_000
const BUDGET_MS = 270_000

// --- mock upstream -------------------------------------------------------------------------------
const MOCK = path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target'), 'release', 'switchyard-mock-upstream')
const MOCK_SRC = ['Cargo.toml', 'src/main.rs'].map((f) => statSync(path.join(HERE, 'mock-upstream', f)).mtimeMs)
if (!existsSync(MOCK) || statSync(MOCK).mtimeMs < Math.max(...MOCK_SRC)) {
  console.log('building mock upstream (cargo build --release -p switchyard-mock-upstream)…')
  const r = spawnSync('cargo', ['build', '--release', '-p', 'switchyard-mock-upstream'], { cwd: ROOT, stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
const mock = spawn(MOCK, [], { stdio: ['ignore', 'pipe', 'inherit'] })
let child = null
let shuttingDown = false
// A local redis-server for the Redis-backed router (Debian's package, scripts/install-redis.sh).
const redis = CLIENTS.includes('router_redis') ? await startRedis() : null
const cleanup = () => { child?.kill('SIGKILL'); mock.kill('SIGKILL'); redis?.proc.kill('SIGKILL') }
process.on('exit', cleanup)
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130))
process.on('uncaughtException', (e) => { console.error(e); process.exit(1) })
mock.on('exit', (code, sig) => { if (!shuttingDown) { console.error(`mock upstream died (${code ?? sig})`); process.exit(1) } })

async function startRedis() {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    console.log('⚠️  redis-server not found (bash scripts/install-redis.sh): router_redis is skipped.')
    return null
  }
  const redisPort = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) })
  })
  const proc = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  for (let i = 0; i < 100 && spawnSync('redis-cli', ['-p', String(redisPort), 'PING']).stdout?.toString().trim() !== 'PONG'; i++) {
    await new Promise((r) => setTimeout(r, 50))
  }
  return { proc, port: redisPort }
}
if (redis) process.env.SWITCHYARD_BENCH_REDIS_PORT = String(redis.port)
else if (CLIENTS.includes('router_redis')) CLIENTS.splice(CLIENTS.indexOf('router_redis'), 1)

const port = await new Promise((resolve, reject) => {
  let out = ''
  const t = setTimeout(() => reject(new Error('mock upstream did not print PORT= within 10 s')), 10_000)
  mock.stdout.on('data', (d) => {
    const m = /PORT=(\d+)/.exec((out += d))
    if (m) { clearTimeout(t); resolve(Number(m[1])) }
  })
})

// Mock CPU time (ticks → µs), to tell whether the mock rather than the client was the bottleneck.
const TICK_US = 1e6 / (Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString()) || 100)
const mockCpuUs = () => {
  try {
    const f = readFileSync(`/proc/${mock.pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) * TICK_US
  } catch { return NaN }
}

// --- children ------------------------------------------------------------------------------------
// Children get no proxy settings: JAF and Switchyard honour HTTP_PROXY, and traffic must stay local.
const env = { ...process.env, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' }
for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy', 'NODE_ENV']) delete env[k]

// Snapshot the addon for the whole run: `npm test` rebuilds it in place as a debug build, and a
// swap mid-run would silently mix builds. The switchyard child loads the copy (client.mjs).
const addon = (() => {
  const src = process.env.NAPI_RS_NATIVE_LIBRARY_PATH ||
    readdirSync(ROOT).filter((f) => f.startsWith(`switchyard-llm.${process.platform}-${process.arch}`) && f.endsWith('.node')).map((f) => path.join(ROOT, f))[0]
  if (!CLIENTS.some((c) => c === 'switchyard' || c.startsWith('router')) || !src || !existsSync(src)) return null
  const copy = path.join(os.tmpdir(), `switchyard-bench-${process.pid}.node`)
  copyFileSync(src, copy)
  process.on('exit', () => rmSync(copy, { force: true }))
  env.SWITCHYARD_BENCH_ADDON = copy
  delete env.NAPI_RS_NATIVE_LIBRARY_PATH
  return { path: path.relative(ROOT, src), built: statSync(src).mtime.toISOString(), debug: hasDebugSections(readFileSync(copy)) }
})()

/** ELF section names include `.debug_*` → not the release profile (which strips symbols). */
function hasDebugSections(b) {
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return null // only 64-bit ELF is checked
  const shoff = Number(b.readBigUInt64LE(0x28)), size = b.readUInt16LE(0x3a), n = b.readUInt16LE(0x3c)
  const strtab = Number(b.readBigUInt64LE(shoff + b.readUInt16LE(0x3e) * size + 0x18))
  for (let i = 0; i < n; i++) {
    const name = strtab + b.readUInt32LE(shoff + i * size)
    if (b.toString('latin1', name, name + 7) === '.debug_') return true
  }
  return false
}
if (addon?.debug) console.log(`⚠️  ${addon.path} is a DEBUG build: Switchyard numbers will not be representative (build with --release).`)

function runChild(client, scenario) {
  return new Promise((resolve) => {
    const m0 = mockCpuUs(), t0 = performance.now()
    let result = null
    // stdout ignored: JAF console.logs every call (kept as shipped; it is part of its cost).
    child = fork(path.join(HERE, 'client.mjs'), [client, scenario, String(port)], {
      execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env,
    })
    const timer = setTimeout(() => { result ??= { ok: false, error: `timed out after ${CHILD_TIMEOUT_MS / 1e3} s` }; child.kill('SIGKILL') }, CHILD_TIMEOUT_MS)
    child.on('message', (m) => { result ??= m })
    child.on('exit', (code, sig) => {
      clearTimeout(timer)
      child = null
      const r = result ?? { ok: false, error: `exited (${code ?? sig}) without a result` }
      resolve({ ...r, mock_cpu_util: (mockCpuUs() - m0) / ((performance.now() - t0) * 1e3) })
    })
  })
}

const METRIC = { lat: ['p50_us', 'p99_us'], tput: ['rps', 'cpu_us_per_req'], stream1: ['chunks_per_s'], stream16: ['chunks_per_s'], ttfc: ['ttfc_p50_us', 'ttfc_p99_us', 'stream_p50_us', 'stream_p99_us'], rss: ['rss_kib_per_inflight', 'heap_kib_per_inflight', 'peak_rss_mib'], mem: ['rss_growth_mib'], overhead: ['added_p50_us', 'added_cpu_us', 'bare_p50_us', 'router_p50_us', 'bare_cpu_us', 'router_cpu_us'] }
// Median over reps: the machine is shared, so one disturbed run shouldn't decide a cell.
const median = (v) => { if (!v.length) return undefined; const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }

const results = Object.fromEntries(CLIENTS.map((c) => [c, {}]))
const started = Date.now()
const load0 = os.loadavg()[0]
if (load0 > 0.7) console.log(`⚠️  load average ${load0.toFixed(2)} on ${os.cpus().length} cores before starting: expect noisy numbers.`)
console.log(`mock upstream on 127.0.0.1:${port}; ${CLIENTS.length} clients × ${SCENARIOS.length} scenarios × ${REPS} reps`)
for (const scenario of SCENARIOS) {
  for (let rep = 0; rep < REPS; rep++) {
    // Rotate the order each rep so no client always runs right after the same neighbour.
    for (const client of CLIENTS.map((_, i) => CLIENTS[(i + rep) % CLIENTS.length])) {
      if (!planned(client, scenario)) continue
      // Stay within ~6 min: extra reps are optional, except the router's overhead, a difference of
      // a few µs that one run cannot settle.
      if (rep > 0 && scenario !== 'overhead' && Date.now() - started > BUDGET_MS) continue
      const prev = results[client][scenario]
      if (prev && !prev.ok && prev.runs.length) continue // failed once: don't burn time repeating it
      const r = await runChild(client, scenario)
      const cell = (results[client][scenario] ??= { ok: false, runs: [] })
      cell.runs.push(r)
      if (r.ok) {
        cell.ok = true
        for (const k of METRIC[scenario]) {
          cell[k] = median(cell.runs.filter((x) => x.ok).map((x) => x[k]))
        }
      } else if (!cell.runs.some((x) => x.ok)) cell.error = r.error
      const shown = r.ok ? METRIC[scenario].map((k) => `${k}=${fmt(r[k])}`).join(' ') : `FAILED: ${r.error}`
      console.log(`  ${scenario.padEnd(8)} ${client.padEnd(10)} ${shown}${r.errors ? ` (${r.errors} errors)` : ''}`)
    }
  }
}

// --- report --------------------------------------------------------------------------------------
function fmt(v, d = 0) {
  if (v === undefined || v === null || Number.isNaN(v)) return 'n/a'
  return v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
}
const get = (c, s, k) => (results[c]?.[s]?.ok ? results[c][s][k] : undefined)
const cols = [
  ['p50 latency c=1 (µs)', 'lat', 'p50_us', 0], ['p99 latency c=1 (µs)', 'lat', 'p99_us', 0],
  ['req/s c=64', 'tput', 'rps', 0], ['CPU µs/req c=64', 'tput', 'cpu_us_per_req', 1],
  ['chunks/s c=1', 'stream1', 'chunks_per_s', 0], ['chunks/s c=16', 'stream16', 'chunks_per_s', 0],
  ['TTFC p50 c=1 (µs)', 'ttfc', 'ttfc_p50_us', 0], ['TTFC p99 c=1 (µs)', 'ttfc', 'ttfc_p99_us', 0],
  ['200-chunk stream p50 (µs)', 'ttfc', 'stream_p50_us', 0], ['200-chunk stream p99 (µs)', 'ttfc', 'stream_p99_us', 0],
  ['RSS KiB/in-flight (K=1,000)', 'rss', 'rss_kib_per_inflight', 1], ['JS heap KiB/in-flight', 'rss', 'heap_kib_per_inflight', 1],
  ['peak RSS MiB (1,000 in flight)', 'rss', 'peak_rss_mib', 0],
]
const cpu = os.cpus()
const machine = { cores: cpu.length, cpu: cpu[0]?.model?.trim(), node: process.version, os: `${os.type()} ${os.release()}`, date: new Date().toISOString(), load: `${load0.toFixed(2)} → ${os.loadavg()[0].toFixed(2)}` }
const lines = [
  '# Switchyard benchmark', '',
  `Machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${machine.os}, ${machine.date}; load average ${machine.load} (start → end).`,
  `Local Rust mock upstream (1 core, 127.0.0.1), one process per client × scenario, median of ${REPS} runs.`,
  ...(addon ? [`Addon: ${addon.path} (built ${addon.built})${addon.debug ? ' — ⚠️ DEBUG build, Switchyard numbers are not representative' : addon.debug === false ? ', release build' : ''}.`] : []),
  'Request: system + user "Hello", gpt-4o-mini, temperature 0; streams carry 64 content chunks (200 in the TTFC scenario) + finish + usage + [DONE].',
  '', `| client | ${cols.map((c) => c[0]).join(' | ')} |`, `|---|${cols.map(() => '---:').join('|')}|`,
  ...CLIENTS.map((c) => `| ${c} | ${cols.map(([, s, k, d]) => fmt(get(c, s, k), d)).join(' | ')} |`),
]
const failures = CLIENTS.flatMap((c) => SCENARIOS.filter((s) => results[c][s] && !results[c][s].ok).map((s) => `- ${c} / ${s}: ${results[c][s].error}`))
if (failures.length) lines.push('', 'Failures:', ...failures)

// The router's pick among 1,000 deployments, per strategy (crates/core/examples/router_pick.rs).
const picks = (() => {
  const r = spawnSync('cargo', ['run', '--quiet', '--release', '-p', 'switchyard-core', '--example', 'router_pick'], { cwd: ROOT, encoding: 'utf8' })
  if (r.status !== 0) return []
  return r.stdout.trim().split('\n').map((line) => JSON.parse(line))
})()
if (picks.length) {
  lines.push('', '## Router pick among 1,000 deployments', '', '| strategy | ns per pick |', '|---|---:|', ...picks.map((p) => `| ${p.strategy} | ${fmt(p.ns_per_pick)} |`))
}

const ratio = (a, b) => (a !== undefined && b !== undefined && b !== 0 ? a / b : undefined)
const sy = (s, k) => get('switchyard', s, k), jaf = (s, k) => get('jaf', s, k)
const minus = (a, b) => (a !== undefined && b !== undefined ? a - b : undefined)
const diff = minus(sy('lat', 'p50_us'), get('undici', 'lat', 'p50_us'))
const ratios = [
  ['throughput c=64, Switchyard ÷ JAF', ratio(sy('tput', 'rps'), jaf('tput', 'rps')), '≥', 2.5, '×'],
  ['CPU/request, Switchyard ÷ JAF', ratio(sy('tput', 'cpu_us_per_req'), jaf('tput', 'cpu_us_per_req')), '≤', 0.3, '×'],
  ['chunks/s c=1, Switchyard ÷ JAF', ratio(sy('stream1', 'chunks_per_s'), jaf('stream1', 'chunks_per_s')), '≥', 2.5, '×'],
  ['chunks/s c=16, Switchyard ÷ JAF', ratio(sy('stream16', 'chunks_per_s'), jaf('stream16', 'chunks_per_s')), '≥', 2.5, '×'],
  ['RSS/in-flight, Switchyard ÷ JAF', ratio(sy('rss', 'rss_kib_per_inflight'), jaf('rss', 'rss_kib_per_inflight')), '≤', 0.5, '×'],
  ['added p50 latency c=1, Switchyard − undici', diff, '≤', 25, ' µs'],
  ['added TTFC p50 c=1, Switchyard − undici', minus(sy('ttfc', 'ttfc_p50_us'), get('undici', 'ttfc', 'ttfc_p50_us')), '≤', 50, ' µs'],
  ['chunks/s c=1, Switchyard ÷ undici', ratio(sy('stream1', 'chunks_per_s'), get('undici', 'stream1', 'chunks_per_s')), '≥', 1, '×'],
  ['chunks/s c=16, Switchyard ÷ undici', ratio(sy('stream16', 'chunks_per_s'), get('undici', 'stream16', 'chunks_per_s')), '≥', 1, '×'],
  ['CPU/request c=64, Switchyard ÷ undici', ratio(sy('tput', 'cpu_us_per_req'), get('undici', 'tput', 'cpu_us_per_req')), '≤', 1, '×'],
  ['RSS/in-flight, Switchyard ÷ undici', ratio(sy('rss', 'rss_kib_per_inflight'), get('undici', 'rss', 'rss_kib_per_inflight')), '≤', 1, '×'],
  ['router over one deployment: added CPU/request c=64 (paired in one process)', get('router', 'overhead', 'added_cpu_us'), '≤', 15, ' µs'],
  ['router over one deployment: added p50 latency c=1 (paired in one process)', get('router', 'overhead', 'added_p50_us'), '≤', 15, ' µs'],
  ['router cache hit p50 ÷ bare call p50', ratio(get('router_cached', 'lat', 'p50_us'), sy('lat', 'p50_us')), '≤', 0.2, '×'],
  ['Redis-backed router (an rpm admission per call): added p50 latency c=1 over the local router', minus(get('router_redis', 'lat', 'p50_us'), get('router', 'lat', 'p50_us')), '≤', 1000, ' µs'],
  ['Redis-backed router: added CPU/request c=64 over the local router', minus(get('router_redis', 'tput', 'cpu_us_per_req'), get('router', 'tput', 'cpu_us_per_req')), '≤', 1000, ' µs'],
  ['router RSS growth over 100k calls', get('router', 'mem', 'rss_growth_mib'), '≤', 8, ' MiB'],
  ['router pick among 1,000 deployments (slowest strategy)', picks.length ? Math.max(...picks.map((p) => p.ns_per_pick)) / 1000 : undefined, '≤', 5, ' µs'],
].map(([name, v, op, target, unit]) => ({ name, value: v, target: `${op} ${target}${unit}`, pass: v === undefined ? null : op === '≥' ? v >= target : v <= target, unit }))
lines.push('', '## Ratios', '', '| metric | value | target | |', '|---|---:|---:|:-:|',
  ...ratios.map((r) => `| ${r.name} | ${r.value === undefined ? 'n/a' : fmt(r.value, r.unit === '×' ? 2 : 1) + r.unit} | ${r.target} | ${r.pass === null ? '–' : r.pass ? '✅' : '❌'} |`))
const mockTput = CLIENTS.map((c) => `${c} ${fmt(median((results[c].tput?.runs ?? []).map((r) => r.mock_cpu_util * 100)))}%`).join(', ')
lines.push('', `Mock upstream CPU over each c=64 child's life (100% = one core saturated): ${mockTput}.`,
  'Router overhead: one process holds the bare provider and the router over one deployment at the same mock; 3,000 pairs of sequential calls alternate call by call',
  '(p50 over each side\'s 3,000) and 20 blocks of 150 ms at c=64 alternate (CPU per call), so both see the same machine; the table\'s router rows are separate processes.',
  'TTFC: from starting the call to the caller receiving the first content chunk; 1,000 sequential streams after 200 warm-up ones.',
  'RSS: baseline after warm-up (c≤16) and gc(); peak sampled every 10 ms for 1.1 s while 1,000 calls wait on a 1.5 s mock delay (includes opening the extra connections).',
  'JS heap: growth of live V8 heap (after a forced gc) at that point. RSS under-counts clients whose heap already holds free committed pages from',
  'warm-up garbage (JAF: large heap, RSS often grows less than its live heap); Switchyard\'s per-call memory is mostly native, so it shows in RSS only.',
  `Total bench time: ${((Date.now() - started) / 1e3).toFixed(0)} s.`)

const md = lines.join('\n') + '\n'
process.stdout.write('\n' + md)
writeFileSync(path.join(HERE, 'results.md'), md)
writeFileSync(path.join(HERE, 'results.json'), JSON.stringify({ machine, addon, port, reps: REPS, results, ratios }, null, 2) + '\n')
shuttingDown = true
process.exit(0)

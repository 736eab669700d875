// Boundary fuzzing: thousands of seeded malformed inputs to every public entry point
// (makeLiteLLMProvider, makeModelProvider, createProvider, ProviderManager and their methods, and
// switchyard/testing's startMockUpstream options), each run in a child process so a crash is
// caught and named by its case number. Every throw and rejection must be a SwitchyardError with
// a known kind; the fuzz key must appear in no error, no resolved value and no output.
//
//   node --test __test__/fuzz.test.mjs
//   SWITCHYARD_FUZZ_SEED=123 node --test __test__/fuzz.test.mjs     another seed
//   SWITCHYARD_FUZZ_CASES=0-99 ...                                   only some case numbers
//   SWITCHYARD_FUZZ_JOBS=2, SWITCHYARD_FUZZ_BLOCKS=30                parallel children, blocks
//   SWITCHYARD_FUZZ_REPORT=/tmp/fuzz.json                            where the full report goes
//
// The generator is __test__/fuzz/cases.mjs (with values.mjs); the child runner is
// __test__/fuzz/child.mjs.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fork, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { caseAt, TOTAL_CASES, FAMILY_NAMES, FAMILY_TITLES, familyRanges } from './fuzz/cases.mjs'
import { seedFromEnv, secretFor, leakNeedles, redactor } from './fuzz/values.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const CHILD = join(here, 'fuzz', 'child.mjs')
const SEED = seedFromEnv()
const { KEY, HEX } = secretFor(SEED)
const NEEDLES = leakNeedles(KEY, HEX)
const redact = redactor(KEY, HEX)
const JOBS = Number(process.env.SWITCHYARD_FUZZ_JOBS) || 2
const BLOCKS = Number(process.env.SWITCHYARD_FUZZ_BLOCKS) || 30
const IDLE_MS = 15_000 // no message from a child for this long: its event loop is blocked
const CHILD_WALL_MS = 110_000
const MAX_LINES = 30
const REPORT = process.env.SWITCHYARD_FUZZ_REPORT || join(tmpdir(), `switchyard-fuzz-report-${SEED}.json`)

function selectedRange() {
  const spec = process.env.SWITCHYARD_FUZZ_CASES
  if (!spec) return [0, TOTAL_CASES]
  const [a, b] = spec.split('-').map(Number)
  return [a, Math.min(TOTAL_CASES, (b ?? a) + 1)]
}

const [FIRST, LAST] = selectedRange()
const metaOf = (i) => caseAt(SEED, i).meta

/** results[i] = { outcome, failures: [{ cat, detail }], ms } */
const results = new Map()
const blockProblems = []

function record(i, outcome, failures, ms, thrown) {
  const prev = results.get(i)
  if (prev) {
    prev.failures.push(...failures)
    if (outcome !== 'resolved' && outcome !== 'threw') prev.outcome = outcome
    return
  }
  results.set(i, { outcome, failures, ms, thrown })
}

function clean(text, n = 300) {
  const r = redact(text).replace(/\s+/g, ' ').trim()
  return r.length > n ? `${r.slice(0, n)}…` : r
}

/** Runs cases [start, end) in one child; on a crash or block, records it and resumes after it. */
async function runBlock(start, end, tmp) {
  let from = start
  while (from < end) {
    const res = await runChild(from, end, tmp)
    if (res.complete) return
    if (res.setupFailed) {
      // The child could not even start (the addon failing to load mid-rebuild, say): every
      // remaining case of the block is unrun, not crashed.
      blockProblems.push({ block: `${from}-${end - 1}`, cat: 'child-setup-failed', detail: res.detail })
      for (let i = from; i < end; i++) if (!results.has(i)) record(i, 'not-run', [{ cat: 'not-run', detail: 'its child failed during setup' }])
      return
    }
    const at = res.at
    record(at, res.kind, [{ cat: res.kind, detail: res.detail }], undefined)
    from = at + 1
  }
}

function runChild(start, end, tmp) {
  return new Promise((resolve) => {
    const env = { ...process.env }
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) delete env[name]
    env.NO_PROXY = '127.0.0.1,localhost'
    env.SWITCHYARD_FUZZ_SEED = String(SEED)
    const child = fork(CHILD, [String(SEED), String(start), String(end)], {
      cwd: tmp,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    })
    let lastStarted = start - 1
    let lastEnded = start - 1
    let done = false
    let ready = false
    let killedFor = null
    const output = { stdout: '', stderr: '' }
    const rawLeaks = { stdout: 0, stderr: 0 }
    let reportedOutputLeaks = 0
    for (const name of ['stdout', 'stderr']) {
      let tail = ''
      child[name].setEncoding('latin1')
      child[name].on('data', (chunk) => {
        const text = tail + chunk
        for (const n of NEEDLES) if (text.includes(n)) rawLeaks[name]++
        tail = text.slice(-200)
        if (output[name].length < 64 * 1024) output[name] += chunk
        else output[name] = output[name].slice(-32 * 1024) + chunk
      })
    }
    let idle
    const touch = () => {
      clearTimeout(idle)
      idle = setTimeout(() => {
        killedFor = 'blocked'
        child.kill('SIGKILL')
      }, IDLE_MS)
    }
    touch()
    const wall = setTimeout(() => {
      killedFor = 'child-wall-clock'
      child.kill('SIGKILL')
    }, CHILD_WALL_MS)
    child.on('message', (m) => {
      touch()
      if (m.t === 'ready') ready = true
      else if (m.t === 'start') lastStarted = m.i
      else if (m.t === 'end') {
        lastEnded = m.i
        reportedOutputLeaks += m.failures.filter((f) => f.cat.startsWith('leak:std')).length
        record(m.i, m.outcome, m.failures, m.ms, m.thrown)
      } else if (m.t === 'done') {
        done = true
        reportedOutputLeaks += m.stray.filter((f) => f.cat.startsWith('leak:std')).length
        if (m.stray.length) blockProblems.push(...m.stray.map((f) => ({ block: `${start}-${end - 1}`, ...f })))
      }
    })
    child.on('exit', (code, signal) => {
      clearTimeout(idle)
      clearTimeout(wall)
      // Output the child could not attribute to a case (native code writing to fd 1/2 directly).
      const raw = rawLeaks.stdout + rawLeaks.stderr
      if (raw > 0 && reportedOutputLeaks === 0) {
        blockProblems.push({ block: `${start}-${end - 1}`, cat: 'leak:raw-output', detail: `the child's raw stdout/stderr holds the key ${raw}× (not written through process.stdout/stderr)` })
      }
      // The most telling line of a crash: a Rust panic, a V8 fatal error, else the stderr tail.
      const telling = [...output.stderr.matchAll(/(panicked at[^\n]*\n?[^\n]*|FATAL ERROR[^\n]*|Segmentation fault[^\n]*|Aborted[^\n]*)/g)].pop()?.[0]
      const stderrTail = clean(telling ?? output.stderr.slice(-600), 400)
      if (done && lastEnded === end - 1) return resolve({ complete: true })
      if (!ready) return resolve({ complete: false, setupFailed: true, detail: `child exited during setup (code ${code}, signal ${signal}): ${stderrTail}` })
      const at = lastStarted > lastEnded ? lastStarted : lastEnded + 1
      if (at >= end) {
        blockProblems.push({ block: `${start}-${end - 1}`, cat: 'child-exit', detail: `exited (code ${code}, signal ${signal}) after its last case without reporting done` })
        return resolve({ complete: true })
      }
      let kind = 'crash'
      let detail = `child died (code ${code}, signal ${signal})${stderrTail ? `; stderr: ${stderrTail}` : ''}`
      if (killedFor === 'blocked') {
        kind = 'blocked'
        detail = `no progress for ${IDLE_MS / 1000} s: the event loop is blocked (killed)`
      } else if (killedFor) {
        kind = 'hang'
        detail = `child exceeded ${CHILD_WALL_MS / 1000} s wall clock (killed)`
      } else if (lastStarted <= lastEnded) {
        detail = `missing result: ${detail}`
      }
      resolve({ complete: false, at, kind, detail })
    })
  })
}

async function runAll() {
  const tmp = mkdtempSync(join(tmpdir(), 'switchyard-fuzz-'))
  const began = Date.now()
  try {
    const total = LAST - FIRST
    const size = Math.max(1, Math.ceil(total / BLOCKS))
    const blocks = []
    for (let s = FIRST; s < LAST; s += size) blocks.push([s, Math.min(LAST, s + size)])
    let next = 0
    const worker = async () => {
      while (next < blocks.length) {
        const [s, e] = blocks[next++]
        await runBlock(s, e, tmp)
      }
    }
    await Promise.all(Array.from({ length: JOBS }, worker))
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  return Date.now() - began
}

// Preflight: the addon loads (it may be mid-rebuild), so a broken build fails fast and clearly.
function preflight() {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', `require(${JSON.stringify(join(here, '..', 'lib', 'index.js'))}).listProviders()`], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.on('exit', (code) => resolve(code === 0 ? null : clean(stderr.slice(-800), 600)))
  })
}

const loadError = await preflight()
const elapsed = loadError ? 0 : await runAll()

// ---- reporting --------------------------------------------------------------------------------

function failuresIn(range) {
  const out = []
  for (let i = Math.max(range.start, FIRST); i < Math.min(range.end, LAST); i++) {
    const r = results.get(i)
    if (!r) out.push({ i, cat: 'missing-result', detail: 'the case never reported a result' })
    else for (const f of r.failures) out.push({ i, ...f })
  }
  return out
}

function formatFailures(list) {
  const lines = list.slice(0, MAX_LINES).map((f) => `#${f.i} ${clean(metaOf(f.i).desc, 160)} — ${f.cat}: ${clean(f.detail, 220)}`)
  if (list.length > MAX_LINES) lines.push(`… and ${list.length - MAX_LINES} more (full report: ${REPORT})`)
  return lines.join('\n')
}

function countBy(list, key) {
  const m = new Map()
  for (const x of list) m.set(key(x), (m.get(key(x)) ?? 0) + 1)
  return [...m].sort((a, b) => b[1] - a[1])
}

const ranges = familyRanges()
const allFailures = ranges.flatMap((r) => failuresIn(r))
const outcomes = countBy([...results.values()], (r) => r.outcome)

writeFileSync(
  REPORT,
  JSON.stringify(
    {
      seed: SEED,
      cases: LAST - FIRST,
      elapsedMs: elapsed,
      outcomes: Object.fromEntries(outcomes),
      byCategory: Object.fromEntries(countBy(allFailures, (f) => f.cat)),
      blockProblems: blockProblems.map((p) => ({ ...p, detail: clean(p.detail, 400) })),
      failures: allFailures.map((f) => ({ ...f, detail: clean(f.detail, 400), desc: clean(metaOf(f.i).desc, 300), meta: metaOf(f.i) })),
      // Every case's outcome, for coverage: what resolved, and what each rejection said.
      cases: [...results].sort((a, b) => a[0] - b[0]).map(([i, r]) => ({ i, desc: clean(metaOf(i).desc, 200), outcome: r.outcome, ms: r.ms, thrown: r.thrown && clean(r.thrown, 200) })),
    },
    null,
    1,
  ),
)

test('fuzz preflight: the addon loads', () => {
  if (loadError) assert.fail(`require('switchyard') failed (mid-rebuild? wait a minute and retry): ${loadError}`)
})

for (const range of ranges) {
  const count = Math.max(0, Math.min(range.end, LAST) - Math.max(range.start, FIRST))
  if (count === 0) continue
  test(`fuzz ${FAMILY_TITLES[range.name]}: ${count} malformed inputs, every failure a SwitchyardError with a kind, no key leaked`, { skip: loadError ? 'the addon did not load' : false }, () => {
    const list = failuresIn(range)
    if (list.length) {
      const cats = countBy(list, (f) => f.cat).map(([c, n]) => `${c} ×${n}`).join(', ')
      assert.fail(`${list.length} failures in cases ${range.start}-${range.end - 1} (${cats}):\n${formatFailures(list)}`)
    }
  })
}

test('fuzz: no child crashed, hung or blocked its event loop; the child output holds no key', () => {
  const list = allFailures.filter((f) => ['crash', 'blocked', 'hang', 'missing-result'].includes(f.cat))
  const lines = [
    ...list.slice(0, MAX_LINES).map((f) => `#${f.i} ${clean(metaOf(f.i).desc, 160)} — ${f.cat}: ${clean(f.detail, 220)}`),
    ...blockProblems.slice(0, 10).map((p) => `block ${p.block} — ${p.cat}: ${clean(p.detail, 220)}`),
  ]
  if (lines.length) assert.fail(`${list.length} crashed/hung cases, ${blockProblems.length} block-level problems:\n${lines.join('\n')}`)
})

test(`fuzz summary (seed ${SEED})`, (t) => {
  const n = results.size
  t.diagnostic(`${n} cases in ${(elapsed / 1000).toFixed(1)} s, seed ${SEED}: ${outcomes.map(([o, c]) => `${c} ${o}`).join(', ')}`)
  for (const name of FAMILY_NAMES) {
    const r = ranges.find((x) => x.name === name)
    const mine = [...results].filter(([i]) => i >= r.start && i < r.end).map(([, x]) => x)
    const by = countBy(mine, (x) => x.outcome).map(([o, c]) => `${c} ${o}`).join(', ')
    const failing = new Set(failuresIn(r).map((f) => f.i)).size
    t.diagnostic(`  ${FAMILY_TITLES[name]}: cases ${r.start}-${r.end - 1} (${r.end - r.start}): ${by}; ${failing} failing`)
  }
  const cats = countBy(allFailures, (f) => f.cat)
  for (const [cat, count] of cats) t.diagnostic(`  ${cat}: ${count}`)
  t.diagnostic(`full report: ${REPORT}`)
  assert.ok(LAST - FIRST < TOTAL_CASES || n >= 2000, `only ${n} cases ran`)
  assert.equal(allFailures.filter((f) => f.cat === 'harness').length, 0, 'the fuzz harness itself failed (a bug in __test__/fuzz)')
  const failing = new Set(allFailures.map((f) => f.i)).size
  assert.equal(failing + blockProblems.length, 0, `${failing} of ${n} cases failed: ${cats.map(([c, k]) => `${c} ×${k}`).join(', ')}`)
})

// One scenario, two routers: the same loopback upstreams, scripted the same way, serve
// Switchyard's makeRouter and then LiteLLM's own litellm.Router (driver.py, one Python process for
// every scenario). Each run returns the same outcome shape, so the test compares them directly.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { makeRouter } = require('../../lib/index.js')
const { startMockUpstream, completion, streamChunks } = require('../../lib/testing.js')

export const VENV_PYTHON = join(import.meta.dirname, '..', '..', '.litellm-venv', 'bin', 'python')
export const DRIVER = join(import.meta.dirname, 'driver.py')
export const venvPresent = () => existsSync(VENV_PYTHON)

const KEY = 'sk-litellm-router-parity-0f1e2d3c4b5a'
const CHAT = /^(\/v1)?\/chat\/completions(\?|$)/
const MESSAGES = [{ role: 'user', content: 'hi' }]

/** LiteLLM's driver: `run(scenario)` sends one scenario and resolves with its outcome. */
export async function startLiteLLM() {
  const child = spawn(VENV_PYTHON, [DRIVER], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NO_PROXY: '*',
      LITELLM_LOCAL_MODEL_COST_MAP: 'True',
      LITELLM_LOG: 'CRITICAL',
      // Backoff timing only (what LiteLLM retries is unchanged): keep the Python side fast.
      INITIAL_RETRY_DELAY: '0.02',
      MAX_RETRY_DELAY: '0.1',
      JITTER: '0.01',
      PYTHONUNBUFFERED: '1',
    },
  })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-8000)))
  const lines = createInterface({ input: child.stdout })
  const waiting = []
  lines.on('line', (line) => {
    let value
    try {
      value = JSON.parse(line)
    } catch {
      return // a stray print from a library
    }
    waiting.shift()?.resolve(value)
  })
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`litellm driver exited (${code}): ${stderr}`))
  })
  const next = (ms) =>
    new Promise((resolve, reject) => {
      const entry = { resolve, reject }
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(entry), 1)
        reject(new Error(`litellm driver did not answer in ${ms} ms: ${stderr}`))
      }, ms)
      entry.resolve = (v) => (clearTimeout(timer), resolve(v))
      entry.reject = (e) => (clearTimeout(timer), reject(e))
      waiting.push(entry)
    })
  const ready = await next(60_000)
  return {
    version: ready.version,
    stderr: () => stderr,
    run(scenario) {
      const answer = next(60_000)
      child.stdin.write(`${JSON.stringify(scenario)}\n`)
      return answer
    },
    close() {
      child.stdin.end()
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        child.once('exit', () => (clearTimeout(timer), resolve()))
      })
    },
  }
}

/**
 * `n` mock upstreams sharing one log. `script(i, replies, rest)` queues mock `i`'s replies (a
 * reply, or a function of the request); after them it answers `rest`, by default a completion
 * (or stream) whose content is `m<i>`. `reset()` rewinds every script for the second router.
 */
export async function startMocks(n) {
  const set = {
    mocks: [],
    log: [],
    scripts: Array.from({ length: n }, () => []),
    rests: Array.from({ length: n }, () => undefined),
    served: Array.from({ length: n }, () => 0),
    script(i, replies, rest) {
      set.scripts[i] = replies
      set.rests[i] = rest
      return set
    },
    reset() {
      set.log.length = 0
      set.served.fill(0)
      for (const m of set.mocks) m.reset()
    },
    counts: () => set.served.slice(),
    order: () => set.log.map((e) => e.mock),
    close: () => Promise.all(set.mocks.map((m) => m.close())),
  }
  for (let i = 0; i < n; i++) {
    set.mocks.push(
      await startMockUpstream({
        handler(req) {
          if (req.method !== 'POST' || !CHAT.test(req.path)) return undefined
          const k = set.served[i]++
          set.log.push({ mock: i, at: req.receivedAt, path: req.path, model: req.json?.model, stream: req.json?.stream === true })
          const r = k < set.scripts[i].length ? set.scripts[i][k] : set.rests[i]
          const reply = typeof r === 'function' ? r(req, k) : r
          if (reply !== undefined) return reply
          return req.json?.stream === true ? { sse: streamChunks({ content: `m${i}` }) } : { json: completion({ content: `m${i}` }) }
        },
      }),
    )
  }
  return set
}

/**
 * A scenario both routers run: `deployments` ([{ group, mock, id?, params? }]), `settings`
 * (router_settings; `switchyardOnly` keys are not sent to LiteLLM, `litellmOnly` only to it) and
 * `calls` ([{ model, stream?, sleep? (seconds) }]).
 */
export function modelList(set, scenario) {
  return scenario.deployments.map((d) => ({
    model_name: d.group,
    litellm_params: { model: `openai/model-${d.mock}`, api_base: set.mocks[d.mock].url, api_key: KEY, ...d.params },
    model_info: { id: d.id ?? `${d.group}-${d.mock}` },
  }))
}

const errorOutcome = (err) => ({
  ok: false,
  error: err?.name,
  kind: err?.kind,
  status: err?.status ?? null,
  retryAfter: err?.retryAfter,
  message: String(err?.message ?? err).slice(0, 400),
})

/** Run `scenario` through Switchyard: the same outcome shape as driver.py's, plus events. */
export async function runSwitchyard(set, scenario) {
  set.reset()
  const events = []
  const router = makeRouter(
    { model_list: modelList(set, scenario), router_settings: { ...scenario.settings, ...scenario.switchyardOnly } },
    { onEvent: (e) => events.push(e) },
  )
  const calls = []
  for (const call of scenario.calls) {
    if (call.sleep) await new Promise((r) => setTimeout(r, call.sleep * 1000))
    const started = Date.now()
    const before = events.length
    let out
    try {
      if (call.stream) {
        let text = ''
        for await (const chunk of router.stream({ model: call.model, messages: MESSAGES })) text += chunk.choices?.[0]?.delta?.content ?? ''
        out = { ok: true, content: text }
      } else {
        const res = await router.complete({ model: call.model, messages: MESSAGES })
        out = { ok: true, content: res.choices[0].message.content }
      }
      const served = events.slice(before).filter((e) => e.type === 'request').pop()
      out.deployment = served?.deployment
    } catch (err) {
      out = errorOutcome(err)
    }
    out.ms = Date.now() - started
    calls.push(out)
  }
  const now = Date.now()
  const cooling = []
  for (const group of Object.values(router.stats().model_stats)) {
    for (const [id, d] of Object.entries(group.deployments)) if (d.cooling_until_ms > now) cooling.push(id)
  }
  router.close()
  return { calls, cooling: cooling.sort(), events, order: set.order(), counts: set.counts(), log: set.log.slice() }
}

/** Run `scenario` through LiteLLM's Router on the same upstreams, scripts rewound. */
export async function runLiteLLM(litellm, set, scenario) {
  set.reset()
  const out = await litellm.run({
    name: scenario.name,
    model_list: modelList(set, scenario),
    router: { ...scenario.settings, ...scenario.litellmOnly },
    calls: scenario.calls,
  })
  if (out.error) throw new Error(`litellm driver failed on ${scenario.name}: ${JSON.stringify(out.error)}`)
  return { ...out, order: set.order(), counts: set.counts(), log: set.log.slice() }
}

/** Both runs of one scenario on fresh upstreams; `prepare(set)` scripts them. */
export async function both(litellm, scenario, prepare = () => {}) {
  const n = Math.max(...scenario.deployments.map((d) => d.mock)) + 1
  const set = await startMocks(n)
  try {
    prepare(set)
    const switchyard = await runSwitchyard(set, scenario)
    const lite = await runLiteLLM(litellm, set, scenario)
    return { switchyard, litellm: lite, set }
  } finally {
    await set.close()
  }
}

/** Outcomes without timings, for comparing. */
export const shape = (calls) => calls.map(({ ok, content, status }) => (ok ? { ok, content } : { ok, status }))

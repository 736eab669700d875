// Switchyard against a real LiteLLM proxy (PyPI `litellm[proxy]`, installed by
// scripts/install-litellm.sh), which in turn talks to our mock upstream: the path JAF users run
// in production, end to end, compared with JAF's own provider on the same proxy.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { makeLiteLLMProvider } = require('../lib/index.js')
const { startMockUpstream, completion, streamChunks, errorBody } = require('../lib/testing.js')

const LITELLM = join(import.meta.dirname, '..', '.litellm-venv', 'bin', 'litellm')
const MASTER_KEY = 'sk-master-test-4242'

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })

let upstream
let proxy
let proxyURL
let workdir

before(async () => {
  assert.ok(existsSync(LITELLM), 'LiteLLM is not installed: run scripts/install-litellm.sh (npm test does)')
  upstream = await startMockUpstream()
  workdir = mkdtempSync(join(tmpdir(), 'switchyard-litellm-'))
  const config = join(workdir, 'config.yaml')
  writeFileSync(
    config,
    [
      'model_list:',
      '  - model_name: gpt-4o-mini',
      '    litellm_params:',
      '      model: openai/gpt-4o-mini',
      `      api_base: ${upstream.url}`,
      '      api_key: upstream-secret-key',
      'litellm_settings:',
      '  num_retries: 0',
      '  request_timeout: 30',
      'general_settings:',
      `  master_key: ${MASTER_KEY}`,
      '',
    ].join('\n'),
  )
  const port = await freePort()
  proxyURL = `http://127.0.0.1:${port}`
  proxy = spawn(LITELLM, ['--config', config, '--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LITELLM_LOG: 'ERROR', NO_PROXY: '*' },
  })
  let stderr = ''
  proxy.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)))
  const deadline = Date.now() + 120_000
  for (;;) {
    if (proxy.exitCode !== null) throw new Error(`litellm exited early: ${stderr}`)
    try {
      if ((await fetch(`${proxyURL}/health/liveliness`)).ok) break
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`litellm did not start in time: ${stderr}`)
    await new Promise((r) => setTimeout(r, 250))
  }
  // LiteLLM probes the upstream at startup; start each test from a clean record.
  upstream.reset()
})

after(async () => {
  proxy?.kill('SIGKILL')
  await upstream?.close()
  if (workdir) rmSync(workdir, { recursive: true, force: true })
})

const state = { messages: [{ role: 'user', content: 'What is the weather in Paris?' }] }
const agent = { name: 'Weather', instructions: () => 'Be brief.', modelConfig: { name: 'gpt-4o-mini', temperature: 0 } }

async function collect(gen) {
  const chunks = []
  for await (const c of gen) chunks.push(c)
  return chunks
}

const chatRequests = () => upstream.requests.filter((r) => r.path.endsWith('/chat/completions'))

test('getCompletion through the LiteLLM proxy', async () => {
  upstream.reset()
  upstream.reply({ json: completion({ content: 'Sunny, 21 °C.', usage: { prompt_tokens: 12, completion_tokens: 5 } }) })
  const provider = makeLiteLLMProvider(proxyURL, MASTER_KEY)
  const result = await provider.getCompletion(state, agent, {})
  assert.equal(result.message.content, 'Sunny, 21 °C.')
  assert.equal(result.finish_reason, 'stop')
  assert.equal(result.usage.prompt_tokens, 12)
  assert.equal(result.usage.completion_tokens, 5)
  const sent = chatRequests()[0].json
  assert.deepEqual(sent.messages, [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'What is the weather in Paris?' },
  ])
  assert.equal(sent.temperature, 0)
})

test('a streamed tool call through the proxy reassembles exactly', async () => {
  upstream.reset()
  const args = { city: 'Paris', unit: 'celsius' }
  upstream.reply({ sse: streamChunks({ toolCalls: [{ id: 'call_abc', name: 'get_weather', arguments: args }] }) })
  const provider = makeLiteLLMProvider(proxyURL, MASTER_KEY)
  const chunks = await collect(provider.getCompletionStream(state, agent, {}))
  const deltas = chunks.filter((c) => c.toolCallDelta)
  assert.ok(deltas.length >= 1)
  assert.equal(deltas.find((d) => d.toolCallDelta.id)?.toolCallDelta.id, 'call_abc')
  assert.equal(deltas.find((d) => d.toolCallDelta.function?.name)?.toolCallDelta.function.name, 'get_weather')
  const joined = deltas.map((d) => d.toolCallDelta.function?.argumentsDelta ?? '').join('')
  assert.deepEqual(JSON.parse(joined), args)
  assert.ok(chunks.some((c) => c.isDone && c.finishReason === 'tool_calls'))
  assert.ok(chunks.some((c) => c.isDone && c.usage?.total_tokens > 0), 'usage reaches the caller')
  assert.equal(chatRequests()[0].json.stream, true)
})

test('streamed text matches what JAF yields through the same proxy', async () => {
  const { makeLiteLLMProvider: jafProvider } = await import('../node_modules/@xynehq/jaf/dist/providers/model.js')
  const tokens = ['Sun', 'ny ', 'and ', 'warm', '.']
  const texts = []
  for (const make of [makeLiteLLMProvider, jafProvider]) {
    upstream.reset()
    upstream.reply({ sse: streamChunks({ content: tokens }) })
    const log = console.log
    console.log = () => {}
    try {
      const chunks = await collect(make(proxyURL, MASTER_KEY).getCompletionStream(state, agent, {}))
      texts.push({
        text: chunks.map((c) => c.delta ?? '').join(''),
        finish: chunks.filter((c) => c.finishReason).map((c) => c.finishReason),
        usage: chunks.filter((c) => c.isDone && c.usage).at(-1)?.usage?.total_tokens,
      })
    } finally {
      console.log = log
    }
  }
  assert.deepEqual(texts[0], texts[1])
  assert.equal(texts[0].text, tokens.join(''))
})

test('upstream rate limits surface as typed errors with the SDK fields', async () => {
  upstream.reset()
  upstream.reply({ error: { status: 429, body: errorBody('Rate limit reached for gpt-4o-mini', { type: 'requests', code: 'rate_limit_exceeded' }) } })
  const provider = makeLiteLLMProvider(proxyURL, MASTER_KEY, undefined, undefined, { maxRetries: 0 })
  const err = await provider.getCompletion(state, agent, {}).then(
    () => assert.fail('expected a rejection'),
    (e) => e,
  )
  assert.equal(err.status, 429)
  assert.equal(err.kind, 'rate_limited')
  assert.equal(err.retryable, true)
  assert.match(err.message, /^429 .*Rate limit reached/)
  assert.equal(typeof err.error, 'object')
})

test('an upstream auth failure is a typed auth error, never retried, with no key echoed', async () => {
  upstream.reset()
  upstream.reply({
    error: { status: 401, body: errorBody(`Incorrect API key provided: ${MASTER_KEY}.`, { code: 'invalid_api_key' }) },
  })
  const provider = makeLiteLLMProvider(proxyURL, MASTER_KEY)
  const err = await provider.getCompletion(state, agent, {}).then(
    () => assert.fail('expected a rejection'),
    (e) => e,
  )
  assert.equal(err.status, 401)
  assert.equal(err.kind, 'auth')
  assert.equal(err.retryable, false)
  for (const text of [err.message, JSON.stringify(err), JSON.stringify(err.body ?? null)]) {
    assert.ok(!text.includes(MASTER_KEY), 'the key leaked into the error')
  }
  assert.equal(chatRequests().length, 1)
})

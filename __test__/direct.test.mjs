// Direct provider access (`createProvider`) and the multi-provider `ProviderManager` against real
// loopback servers: aliases, execute/stream, parameter normalisation, OpenRouter and llama.cpp
// extras, validateConfig, getInfo and routing across providers.
import { test, describe, before, beforeEach, afterEach, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import http from 'node:http'
import util from 'node:util'
import { rejection, throwsSync, assertSwitchyard } from './support/assertions.mjs'

const require = createRequire(import.meta.url)
const { createProvider, ProviderManager, SwitchyardError } = require('../lib/index.js')
const { capabilitiesOf } = require('../lib/capabilities.js')
const native = require('../index.js')
const { startMockUpstream, completion, streamChunks, errorBody } = require('../lib/testing.js')

// ---- environment ------------------------------------------------------------------------------

const PROXY_ENV = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']
// Every key and base URL variable of every provider, straight from the binding.
const PROVIDER_ENV = native.listProviders().flatMap((p) => [...p.apiKeyEnv, ...p.baseUrlEnv])

let savedEnv
beforeEach(() => {
  savedEnv = { ...process.env }
  for (const name of [...PROXY_ENV, ...PROVIDER_ENV]) delete process.env[name]
})
afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name]
  Object.assign(process.env, savedEnv)
})

// ---- helpers ----------------------------------------------------------------------------------




async function collect(iterable) {
  const out = []
  for await (const item of iterable) out.push(item)
  return out
}

const withTimeout = (promise, ms, what) =>
  Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} did not happen within ${ms}ms`)), ms).unref()),
  ])

/** Answers POST …/chat/completions under any base path, streamed or not; `undefined` otherwise. */
function chatReply(req, content = 'ok') {
  if (req.method !== 'POST' || !req.path.endsWith('/chat/completions')) return undefined
  const model = req.json?.model
  if (req.json?.stream) return { sse: streamChunks({ content, model }) }
  return { json: completion({ content, model }) }
}

const modelList = (...ids) => ({
  object: 'list',
  data: ids.map((id) => ({ id, object: 'model', created: 1715367049, owned_by: 'system' })),
})

// ---- createProvider: names --------------------------------------------------------------------

describe('createProvider names', () => {
  const settings = { apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1' }

  test('aliases map to provider ids', () => {
    const cases = {
      gpt: 'openai',
      chatgpt: 'openai',
      openai: 'openai',
      claude: 'anthropic',
      google: 'gemini',
      'llama.cpp': 'llamacpp',
      'llama-cpp': 'llamacpp',
      llamacpp: 'llamacpp',
      together: 'together_ai',
      hf: 'huggingface',
      grok: 'xai',
      groq: 'groq',
      openrouter: 'openrouter',
    }
    for (const [name, id] of Object.entries(cases)) {
      assert.equal(createProvider(name, settings).id, id, name)
    }
  })

  test('names are case- and whitespace-insensitive', () => {
    assert.equal(createProvider('GPT', settings).id, 'openai')
    assert.equal(createProvider(' Claude ', settings).id, 'anthropic')
    assert.equal(createProvider('Llama.CPP', settings).id, 'llamacpp')
  })

  test('an unknown name is invalid_input listing the valid ids', () => {
    for (const name of ['gpt5-provider', 'vertexx', 'chat-gpt']) {
      const err = throwsSync(() => createProvider(name, settings))
      assertSwitchyard(err, 'invalid_input')
      assert.ok(err.message.includes(JSON.stringify(name)), err.message)
      for (const id of ['openai', 'anthropic', 'gemini', 'llamacpp', 'together_ai', 'openrouter', 'groq', 'xai', 'huggingface']) {
        assert.ok(err.message.includes(id), `message lists ${id}: ${err.message}`)
      }
    }
  })
})

// ---- createProvider: execute, parameters, streams ----------------------------------------------

describe('execute and parameters (openai)', () => {
  let mock
  let openai
  before(async () => {
    mock = await startMockUpstream({ handler: (req) => chatReply(req) })
  })
  after(() => mock?.close())
  beforeEach(() => {
    mock.reset()
    openai = createProvider('openai', { baseURL: `${mock.url}/v1`, apiKey: 'sk-direct' })
  })

  test('execute returns { text, finishReason, usage, raw } and sends the prompt and normalised parameters', async () => {
    const reply = completion({ content: 'Paris.', model: 'gpt-4o-2024-08-06', usage: { prompt_tokens: 21, completion_tokens: 2 } })
    mock.reply({ json: reply })
    const result = await openai.execute('gpt-4o', 'Capital of France?', {
      systemPrompt: 'Answer briefly.',
      parameters: { temp: 0.7, nucleus_sampling: 0.9, max_length: 2000, stop_sequences: 'END' },
    })
    assert.equal(result.text, 'Paris.')
    assert.equal(result.finishReason, 'stop')
    assert.deepEqual(result.usage, { prompt_tokens: 21, completion_tokens: 2, total_tokens: 23 })
    assert.deepEqual(result.raw, reply)

    assert.equal(mock.requests.length, 1)
    const req = mock.lastRequest()
    assert.equal(req.method, 'POST')
    assert.equal(req.path, '/v1/chat/completions')
    assert.equal(req.headers.authorization, 'Bearer sk-direct')
    assert.deepEqual(req.json, {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'Capital of France?' },
      ],
      temperature: 0.7,
      top_p: 0.9,
      max_tokens: 2000,
      stop: ['END'],
    })
  })

  test('execute without a system prompt sends only the user message; a provider prefix is stripped', async () => {
    await openai.execute('openai/gpt-4o-mini', 'Hello!')
    assert.deepEqual(mock.lastRequest().json, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello!' }] })
  })

  test('camelCase and native names pass through; stop arrays stay arrays', async () => {
    await openai.execute('gpt-4o', 'x', { parameters: { topP: 0.5, maxTokens: 10, stop: ['a', 'b'], seed: 7, temperature: 0 } })
    const json = mock.lastRequest().json
    assert.equal(json.top_p, 0.5)
    assert.equal(json.max_tokens, 10)
    assert.deepEqual(json.stop, ['a', 'b'])
    assert.equal(json.seed, 7)
    assert.equal(json.temperature, 0)
    assert.equal(json.topP, undefined)
    assert.equal(json.maxTokens, undefined)
  })

  test('conflicting aliases are invalid_input and nothing is sent', async () => {
    const err = await rejection(openai.execute('gpt-4o', 'x', { parameters: { temp: 0.7, temperature: 0.2 } }))
    assertSwitchyard(err, 'invalid_input')
    assert.match(err.message, /temp/)
    assert.match(err.message, /temperature/)
    const err2 = await rejection(openai.execute('gpt-4o', 'x', { parameters: { max_tokens: 5, max_length: 9 } }))
    assertSwitchyard(err2, 'invalid_input')
    assert.equal(mock.requests.length, 0)
  })

  test('unknown parameters are invalid_input naming the parameter', async () => {
    const err = await rejection(openai.execute('gpt-4o', 'x', { parameters: { creativity: 1 } }))
    assertSwitchyard(err, 'invalid_input')
    assert.match(err.message, /creativity/)
    assert.equal(mock.requests.length, 0)
  })

  test('ctx_size on openai is invalid_input pointing at ollama', async () => {
    const err = await rejection(openai.execute('gpt-4o', 'x', { parameters: { ctx_size: 8192 } }))
    assertSwitchyard(err, 'invalid_input')
    assert.match(err.message, /ollama/)
    assert.match(err.message, /ctx_size/)
    assert.equal(err.provider, 'openai')
    assert.equal(mock.requests.length, 0)
  })

  test('upstream errors keep their status and kind and name the provider', async () => {
    mock.reply({ error: { status: 400, body: errorBody("Unsupported value: 'temperature'", { param: 'temperature', code: 'unsupported_value' }) } })
    const err = await rejection(openai.execute('o1', 'x', { parameters: { temperature: 0.3 } }))
    assertSwitchyard(err, 'invalid_request')
    assert.equal(err.status, 400)
    assert.equal(err.param, 'temperature')
    assert.equal(err.provider, 'openai')
    assert.equal(err.model, 'o1')
  })

  test('streamExecute yields the text pieces in order', async () => {
    mock.reply({ sse: streamChunks({ content: ['The', ' answer', ' is', ' 42.'] }) })
    const pieces = await collect(openai.streamExecute('gpt-4o', 'What is the answer?', { systemPrompt: 'Be terse.', parameters: { temp: 0 } }))
    assert.deepEqual(pieces, ['The', ' answer', ' is', ' 42.'])
    const json = mock.lastRequest().json
    assert.equal(json.stream, true)
    assert.deepEqual(json.stream_options, { include_usage: true })
    assert.equal(json.temperature, 0)
    assert.deepEqual(json.messages, [
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'What is the answer?' },
    ])
  })

  test('stream() yields OpenAI chunks, ending with the usage chunk', async () => {
    mock.reply({ sse: streamChunks({ content: ['a', 'b', 'c'], usage: { prompt_tokens: 4, completion_tokens: 3 } }) })
    const chunks = await collect(openai.stream({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'abc' }] }))
    assert.equal(mock.lastRequest().json.model, 'gpt-4o')
    assert.ok(chunks.length >= 4, util.inspect(chunks))
    for (const c of chunks) assert.equal(c.object, 'chat.completion.chunk')
    assert.equal(chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join(''), 'abc')
    assert.equal(chunks.find((c) => c.choices?.[0]?.finish_reason)?.choices[0].finish_reason, 'stop')
    assert.deepEqual(chunks.at(-1).usage, { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 })
  })

  test('a stream error surfaces as a SwitchyardError', async () => {
    const direct = createProvider('openai', { baseURL: `${mock.url}/v1`, apiKey: 'sk-direct' }, { maxRetries: 0 })
    mock.reply({ error: { status: 429, body: errorBody('Rate limit reached', { type: 'requests' }) } })
    let err
    try {
      await collect(direct.streamExecute('gpt-4o', 'x'))
    } catch (e) {
      err = e
    }
    assertSwitchyard(err, 'rate_limited')
    assert.equal(err.status, 429)
  })

  test('embed and listModels use the same base URL and key', async () => {
    mock.reply(
      { json: { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model: 'text-embedding-3-small', usage: { prompt_tokens: 1, total_tokens: 1 } } },
      { json: modelList('gpt-4o', 'text-embedding-3-small') },
    )
    const emb = await openai.embed({ model: 'text-embedding-3-small', input: 'hi' })
    assert.deepEqual(emb.data[0].embedding, [0.1, 0.2])
    assert.equal(mock.requests[0].path, '/v1/embeddings')
    assert.deepEqual(mock.requests[0].json, { model: 'text-embedding-3-small', input: 'hi' })
    const models = await openai.listModels()
    assert.deepEqual(models.map((m) => m.id), ['gpt-4o', 'text-embedding-3-small'])
    assert.equal(mock.requests[1].method, 'GET')
    assert.equal(mock.requests[1].path, '/v1/models')
    assert.equal(mock.requests[1].headers.authorization, 'Bearer sk-direct')
  })
})

describe('breaking out of a stream', () => {
  // Our own server: endless slow SSE for 'long' prompts, a short answer otherwise; records when
  // each response's connection closes.
  let server
  let url
  const responses = []
  before(async () => {
    server = http.createServer((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        const json = JSON.parse(body)
        const rec = { prompt: json.messages.at(-1).content, sent: 0, finished: false }
        rec.closed = new Promise((resolve) => res.on('close', () => resolve(rec)))
        responses.push(rec)
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        if (rec.prompt !== 'long') {
          for (const c of streamChunks({ content: ['short', ' answer'] })) res.write(`data: ${JSON.stringify(c)}\n\n`)
          res.end('data: [DONE]\n\n')
          rec.finished = true
          return
        }
        const chunks = streamChunks({ content: Array.from({ length: 400 }, (_, n) => `t${n} `) })
        const timer = setInterval(() => {
          if (rec.sent < chunks.length) res.write(`data: ${JSON.stringify(chunks[rec.sent++])}\n\n`)
          else {
            clearInterval(timer)
            rec.finished = true
            res.end('data: [DONE]\n\n')
          }
        }, 10)
        res.on('close', () => clearInterval(timer))
      })
    })
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${server.address().port}`
  })
  after(async () => {
    server?.closeAllConnections()
    await new Promise((r) => server.close(r))
  })

  test('breaking out of streamExecute closes the upstream response; the next call works', async () => {
    const openai = createProvider('openai', { baseURL: `${url}/v1`, apiKey: 'sk' })
    const got = []
    for await (const piece of openai.streamExecute('gpt-4o', 'long')) {
      got.push(piece)
      if (got.length === 3) break
    }
    assert.deepEqual(got, ['t0 ', 't1 ', 't2 '])
    const rec = await withTimeout(responses.at(-1).closed, 2000, 'the upstream close')
    assert.equal(rec.finished, false, 'the server never got to finish the stream')
    assert.ok(rec.sent < 400, `sent ${rec.sent} chunks`)

    const again = await collect(openai.streamExecute('gpt-4o', 'short'))
    assert.deepEqual(again, ['short', ' answer'])
  })

  test('breaking out of stream() closes the upstream response too', async () => {
    const openai = createProvider('openai', { baseURL: `${url}/v1`, apiKey: 'sk' })
    let n = 0
    for await (const chunk of openai.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'long' }] })) {
      assert.equal(chunk.object, 'chat.completion.chunk')
      if (++n === 2) break
    }
    const rec = await withTimeout(responses.at(-1).closed, 2000, 'the upstream close')
    assert.equal(rec.finished, false)
  })
})

// ---- OpenRouter extras ------------------------------------------------------------------------

const OPENROUTER_MODELS = {
  data: [
    {
      id: 'openai/gpt-4o',
      canonical_slug: 'openai/gpt-4o',
      name: 'OpenAI: GPT-4o',
      created: 1715367049,
      description: 'GPT-4o ("o" for "omni") is OpenAI\'s latest AI model, strong at coding, reasoning and vision.',
      context_length: 128000,
      architecture: { modality: 'text+image->text', input_modalities: ['text', 'image'], output_modalities: ['text'], tokenizer: 'GPT' },
      pricing: { prompt: '0.0000025', completion: '0.00001', request: '0', image: '0.003613' },
      top_provider: { context_length: 128000, max_completion_tokens: 16384, is_moderated: true },
      per_request_limits: null,
      supported_parameters: ['max_tokens', 'temperature', 'tools'],
    },
    {
      id: 'openai/gpt-4o-mini',
      name: 'OpenAI: GPT-4o-mini',
      description: 'A small, affordable model for fast, lightweight tasks.',
      context_length: 128000,
      pricing: { prompt: '0.00000015', completion: '0.0000006' },
    },
    {
      id: 'openai/o3-mini',
      name: 'OpenAI: o3 Mini',
      description: 'A cost-efficient reasoning model for science, math and CODING.',
      context_length: 200000,
      pricing: { prompt: '0.0000011', completion: '0.0000044' },
    },
    {
      id: 'anthropic/claude-3.5-sonnet',
      name: 'Anthropic: Claude 3.5 Sonnet',
      description: 'Excels at coding, data science and visual processing.',
      context_length: 200000,
      pricing: { prompt: '0.000003', completion: '0.000015' },
    },
    {
      id: 'mistralai/codestral-2501',
      name: 'Mistral: Codestral 2501',
      description: 'Mistral\'s cutting-edge language model for coding; better than openai/gpt-4o-mini at fill-in-the-middle.',
      context_length: 262144,
      pricing: { prompt: '0.0000003', completion: '0.0000009' },
    },
  ],
}

describe('openrouter', () => {
  let mock
  before(async () => {
    mock = await startMockUpstream({
      handler: (req) => {
        if (req.method === 'GET' && req.path === '/api/v1/models') return { json: OPENROUTER_MODELS }
        if (req.method === 'GET' && req.path === '/api/v1/credits') return { json: { data: { total_credits: 25, total_usage: 7.5 } } }
        return chatReply(req)
      },
    })
  })
  after(() => mock?.close())
  beforeEach(() => mock.reset())

  const openrouter = (extra = {}) => createProvider('openrouter', { baseURL: `${mock.url}/api/v1`, apiKey: 'sk-or-v1-test', ...extra })

  test('searchModels filters by text and vendor, keeping pricing and context length', async () => {
    const found = await openrouter().searchModels({ query: 'coding', provider: 'openai' })
    assert.deepEqual(
      found.map((m) => m.id),
      ['openai/gpt-4o', 'openai/o3-mini'],
    )
    assert.deepEqual(found[0].pricing, OPENROUTER_MODELS.data[0].pricing)
    assert.equal(found[0].context_length, 128000)
    assert.deepEqual(found[0].top_provider, OPENROUTER_MODELS.data[0].top_provider)
    assert.deepEqual(found[1].pricing, { prompt: '0.0000011', completion: '0.0000044' })
    const req = mock.lastRequest()
    assert.equal(req.method, 'GET')
    assert.equal(req.path, '/api/v1/models')
    assert.equal(req.headers.authorization, 'Bearer sk-or-v1-test')
  })

  test('searchModels without a vendor searches every model; an empty query matches all', async () => {
    const coding = await openrouter().searchModels({ query: 'Coding' })
    assert.deepEqual(
      coding.map((m) => m.id),
      ['openai/gpt-4o', 'openai/o3-mini', 'anthropic/claude-3.5-sonnet', 'mistralai/codestral-2501'],
    )
    const all = await openrouter().searchModels()
    assert.equal(all.length, OPENROUTER_MODELS.data.length)
    const none = await openrouter().searchModels({ query: 'no-such-capability-xyz' })
    assert.deepEqual(none, [])
  })

  test('getCredits computes what is left', async () => {
    const credits = await openrouter().getCredits()
    assert.deepEqual(credits, { credits: 17.5, totalCredits: 25, totalUsage: 7.5 })
    const req = mock.lastRequest()
    assert.equal(req.method, 'GET')
    assert.equal(req.path, '/api/v1/credits')
    assert.equal(req.headers.authorization, 'Bearer sk-or-v1-test')
  })

  test('appName and appUrl are sent as X-Title and HTTP-Referer on every call', async () => {
    const or = openrouter({ appName: 'Switchyard Tests', appUrl: 'https://example.com/app', headers: { 'X-Custom': 'kept' } })
    const result = await or.execute('openai/gpt-4o', 'hi')
    assert.equal(result.text, 'ok')
    const chat = mock.lastRequest()
    assert.equal(chat.path, '/api/v1/chat/completions')
    assert.equal(chat.json.model, 'openai/gpt-4o')
    assert.equal(chat.headers['x-title'], 'Switchyard Tests')
    assert.equal(chat.headers['http-referer'], 'https://example.com/app')
    assert.equal(chat.headers['x-custom'], 'kept')
    assert.equal(chat.headers.authorization, 'Bearer sk-or-v1-test')
    await or.listModels()
    assert.equal(mock.lastRequest().headers['x-title'], 'Switchyard Tests')
    assert.equal(mock.lastRequest().headers['http-referer'], 'https://example.com/app')
  })

  test('without appName/appUrl no app headers are sent', async () => {
    await openrouter().execute('openrouter/anthropic/claude-3.5-sonnet', 'hi')
    const chat = mock.lastRequest()
    assert.equal(chat.json.model, 'anthropic/claude-3.5-sonnet')
    assert.equal(chat.headers['x-title'], undefined)
    assert.equal(chat.headers['http-referer'], undefined)
  })
})

// ---- llama.cpp extras -------------------------------------------------------------------------

const LLAMA_PROPS = {
  default_generation_settings: { n_ctx: 4096, temperature: 0.8, top_p: 0.95 },
  total_slots: 1,
  model_path: '/models/qwen2.5-7b-instruct-q4_k_m.gguf',
  chat_template: '{% for message in messages %}…{% endfor %}',
  build_info: 'b4567-abcdef0',
}
const LOADING = { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } }

describe('llamacpp', () => {
  let mock
  let healthy = true
  before(async () => {
    mock = await startMockUpstream({
      handler: (req) => {
        if (req.method === 'GET' && req.path === '/health') {
          return healthy ? { json: { status: 'ok' } } : { error: { status: 503, body: LOADING } }
        }
        if (req.method === 'GET' && req.path === '/props') return { json: LLAMA_PROPS }
        if (req.method === 'GET' && req.path === '/v1/models') return { json: modelList('qwen2.5-7b-instruct-q4_k_m.gguf') }
        if (req.path === '/v1/chat/completions') return chatReply(req, 'llama says hi')
        return undefined // the mock's OpenAI-style 404
      },
    })
  })
  after(() => mock?.close())
  beforeEach(() => {
    mock.reset()
    healthy = true
  })

  const llama = (extra = {}, options = { maxRetries: 0 }) => createProvider('llamacpp', { baseURL: `${mock.url}/v1`, ...extra }, options)

  test('health() asks the server root, not /v1', async () => {
    assert.deepEqual(await llama().health(), { status: 'ok' })
    assert.equal(mock.requests.length, 1)
    assert.equal(mock.lastRequest().method, 'GET')
    assert.equal(mock.lastRequest().path, '/health')
  })

  test('a trailing slash on the base URL still reaches the root', async () => {
    assert.deepEqual(await llama({ baseURL: `${mock.url}/v1/` }).health(), { status: 'ok' })
    assert.equal(mock.lastRequest().path, '/health')
  })

  test('LLAMACPP_API_BASE is used when no baseURL is given', async () => {
    process.env.LLAMACPP_API_BASE = `${mock.url}/v1`
    const p = createProvider('llama.cpp', {}, { maxRetries: 0 })
    assert.deepEqual(await p.health(), { status: 'ok' })
    assert.equal(mock.lastRequest().path, '/health')
    assert.equal((await p.execute('qwen2.5', 'hi')).text, 'llama says hi')
    assert.equal(mock.lastRequest().path, '/v1/chat/completions')
  })

  test('health() rejects with status 503 while the model loads', async () => {
    healthy = false
    const err = await rejection(llama().health())
    assert.ok(err instanceof SwitchyardError, util.inspect(err))
    assert.equal(err.status, 503)
    assert.equal(err.provider, 'llamacpp')
    assert.equal(err.error?.message, 'Loading model')
    assert.equal(err.retryable, true)
    assert.equal(mock.requests.length, 1, 'maxRetries: 0 means one attempt')
  })

  test('props() reads /props at the root', async () => {
    assert.deepEqual(await llama().props(), LLAMA_PROPS)
    assert.equal(mock.lastRequest().path, '/props')
    assert.equal(mock.lastRequest().method, 'GET')
  })

  test('chat goes to /v1/chat/completions with no Authorization header when no key is set', async () => {
    const result = await llama().execute('qwen2.5', 'hi', { parameters: { temperature: 0.2 } })
    assert.equal(result.text, 'llama says hi')
    const req = mock.lastRequest()
    assert.equal(req.path, '/v1/chat/completions')
    assert.equal(req.json.model, 'qwen2.5')
    assert.equal(req.json.temperature, 0.2)
    assert.equal(req.headers.authorization, undefined)
  })

  test('an api key (llama-server --api-key) is sent as a bearer token, also for /health', async () => {
    const p = llama({ apiKey: 'llama-secret' })
    await p.execute('qwen2.5', 'hi')
    assert.equal(mock.lastRequest().headers.authorization, 'Bearer llama-secret')
    await p.health()
    assert.equal(mock.lastRequest().headers.authorization, 'Bearer llama-secret')
  })

  test('validateConfig() is valid when healthy, and carries the error when not', async () => {
    assert.deepEqual(await llama().validateConfig(), { valid: true })
    assert.equal(mock.lastRequest().path, '/health')
    healthy = false
    const result = await llama().validateConfig()
    assert.equal(result.valid, false)
    assert.ok(result.error instanceof SwitchyardError, util.inspect(result.error))
    assert.equal(typeof result.error.kind, 'string')
    assert.equal(result.error.kind, 'upstream_error')
    assert.equal(result.error.status, 503)
  })

  test('validateConfig() reports an unreachable server as a network error', async () => {
    const srv = http.createServer()
    await new Promise((r) => srv.listen(0, '127.0.0.1', r))
    const port = srv.address().port
    await new Promise((r) => srv.close(r))
    const result = await createProvider('llamacpp', { baseURL: `http://127.0.0.1:${port}/v1` }, { maxRetries: 0 }).validateConfig()
    assert.equal(result.valid, false)
    assert.equal(result.error.kind, 'network')
  })
})

// ---- validateConfig and getInfo ---------------------------------------------------------------

describe('validateConfig and getInfo (openai)', () => {
  let mock
  before(async () => {
    mock = await startMockUpstream()
  })
  after(() => mock?.close())
  beforeEach(() => mock.reset())

  test('valid when /v1/models answers', async () => {
    mock.reply({ json: modelList('gpt-4o') })
    const result = await createProvider('openai', { baseURL: `${mock.url}/v1`, apiKey: 'sk-good' }).validateConfig()
    assert.deepEqual(result, { valid: true })
    assert.equal(mock.lastRequest().method, 'GET')
    assert.equal(mock.lastRequest().path, '/v1/models')
    assert.equal(mock.lastRequest().headers.authorization, 'Bearer sk-good')
  })

  test('invalid with kind auth on 401', async () => {
    mock.reply({ error: { status: 401, body: errorBody('Incorrect API key provided: sk-bad.', { code: 'invalid_api_key' }) } })
    const result = await createProvider('openai', { baseURL: `${mock.url}/v1`, apiKey: 'sk-bad' }).validateConfig()
    assert.equal(result.valid, false)
    assertSwitchyard(result.error, 'auth')
    assert.equal(result.error.status, 401)
    assert.equal(result.error.provider, 'openai')
    assert.equal(mock.requests.length, 1, '401 is not retried')
  })

  test('getInfo() is { id, adapter, baseURL, capabilities }', () => {
    const info = createProvider('grok', { baseURL: 'http://127.0.0.1:9/xai/v1', apiKey: 'xai-k' }).getInfo()
    assert.deepEqual(info, { id: 'xai', adapter: 'openai', baseURL: 'http://127.0.0.1:9/xai/v1', capabilities: capabilitiesOf('xai') })
    assert.equal(info.capabilities.embeddings.support, 'no')

    const groq = createProvider('groq', { apiKey: 'gsk' }).getInfo()
    assert.equal(groq.baseURL, 'https://api.groq.com/openai/v1')
    assert.deepEqual(groq.capabilities, capabilitiesOf('groq'))

    const perplexity = createProvider('pplx', { apiKey: 'p' }).getInfo()
    assert.equal(perplexity.id, 'perplexity')
    assert.equal(perplexity.capabilities.tools.support, 'no')
    assert.equal(perplexity.capabilities.models.support, 'no')
  })

  test('getInfo().baseURL follows the env when no baseURL is given', () => {
    process.env.OPENAI_BASE_URL = 'http://127.0.0.1:9/from-env/v1'
    assert.equal(createProvider('openai', { apiKey: 'k' }).getInfo().baseURL, 'http://127.0.0.1:9/from-env/v1')
    process.env.OPENAI_API_BASE = 'http://127.0.0.1:9/api-base/v1'
    assert.equal(createProvider('openai', { apiKey: 'k' }).getInfo().baseURL, 'http://127.0.0.1:9/api-base/v1')
  })
})

// ---- ProviderManager --------------------------------------------------------------------------

describe('ProviderManager', () => {
  let openaiMock
  let groqMock
  let togetherMock
  before(async () => {
    ;[openaiMock, groqMock, togetherMock] = await Promise.all([
      startMockUpstream({
        handler: (req) => (req.method === 'GET' && req.path === '/v1/models' ? { json: modelList('gpt-4o', 'gpt-4o-mini') } : chatReply(req, 'from openai')),
      }),
      startMockUpstream({
        handler: (req) =>
          req.method === 'GET' && req.path.endsWith('/models')
            ? { error: { status: 503, body: errorBody('Service Unavailable', { type: 'server_error' }) } }
            : chatReply(req, 'from groq'),
      }),
      startMockUpstream({ handler: (req) => chatReply(req, 'from together') }),
    ])
  })
  after(() => Promise.all([openaiMock?.close(), groqMock?.close(), togetherMock?.close()]))

  let manager
  beforeEach(() => {
    openaiMock.reset()
    groqMock.reset()
    togetherMock.reset()
    manager = new ProviderManager({ maxRetries: 0 })
    manager.addProvider('gpt', { baseURL: `${openaiMock.url}/v1`, apiKey: 'sk-openai' })
    manager.addProvider('groq', { baseURL: `${groqMock.url}/openai/v1`, apiKey: 'gsk-groq' })
  })

  test('execute() on a named provider (by id or alias)', async () => {
    const result = await manager.execute('openai', 'gpt-4o', 'Hello!')
    assert.equal(result.text, 'from openai')
    assert.equal(openaiMock.requests.length, 1)
    assert.equal(groqMock.requests.length, 0)
    const req = openaiMock.lastRequest()
    assert.equal(req.path, '/v1/chat/completions')
    assert.equal(req.headers.authorization, 'Bearer sk-openai')
    assert.deepEqual(req.json, { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello!' }] })
    assert.equal((await manager.execute('ChatGPT', 'gpt-4o-mini', 'Hi')).text, 'from openai')
  })

  test('autoExecute routes groq/… to the groq provider with the bare model id', async () => {
    const result = await manager.autoExecute('groq/llama3-70b-8192', 'Hi', { systemPrompt: 'sys', parameters: { temp: 0.1 } })
    assert.equal(result.text, 'from groq')
    assert.equal(openaiMock.requests.length, 0)
    const req = groqMock.lastRequest()
    assert.equal(req.path, '/openai/v1/chat/completions')
    assert.equal(req.headers.authorization, 'Bearer gsk-groq')
    assert.equal(req.json.model, 'llama3-70b-8192')
    assert.equal(req.json.temperature, 0.1)
    assert.deepEqual(req.json.messages, [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'Hi' },
    ])
  })

  test('autoExecute routes a bare gpt-4o to openai', async () => {
    assert.equal((await manager.autoExecute('gpt-4o', 'Hi')).text, 'from openai')
    assert.equal(openaiMock.lastRequest().json.model, 'gpt-4o')
    assert.equal(groqMock.requests.length, 0)
  })

  test('autoExecute creates a provider that was not added from the env', async () => {
    process.env.TOGETHER_AI_API_BASE = `${togetherMock.url}/v1`
    process.env.TOGETHER_API_KEY = 'together-env-key'
    const result = await manager.autoExecute('together_ai/meta-llama/Llama-3-70b-chat-hf', 'Hi')
    assert.equal(result.text, 'from together')
    const req = togetherMock.lastRequest()
    assert.equal(req.path, '/v1/chat/completions')
    assert.equal(req.headers.authorization, 'Bearer together-env-key')
    assert.equal(req.json.model, 'meta-llama/Llama-3-70b-chat-hf')
    assert.equal(openaiMock.requests.length + groqMock.requests.length, 0)
    assert.equal(manager.getProvider('together').id, 'together_ai', 'the created provider is kept')
  })

  test('autoExecute with a name nobody serves is invalid_input and sends nothing', async () => {
    let err
    try {
      await manager.autoExecute('mixtral-8x7b', 'Hi')
    } catch (e) {
      err = e
    }
    assertSwitchyard(err, 'invalid_input')
    assert.equal(openaiMock.requests.length + groqMock.requests.length, 0)
  })

  test('promise-returning methods reject on bad input instead of throwing synchronously', async () => {
    const calls = {
      autoExecute: () => manager.autoExecute('mixtral-8x7b', 'Hi'),
      execute: () => manager.execute('nope', 'gpt-4o', 'Hi'),
      chat: () => manager.chat({ model: 'llama-3-70b', messages: [{ role: 'user', content: 'x' }] }),
    }
    for (const [name, call] of Object.entries(calls)) {
      let result
      try {
        result = call()
      } catch (e) {
        assert.fail(`${name}() threw synchronously (${e.kind}: ${e.message}); .catch() handlers never see it`)
      }
      assert.ok(result instanceof Promise, `${name}() returns a promise`)
      assertSwitchyard(await rejection(result), 'invalid_input')
    }
  })

  test('autoExecute keeps an OpenRouter model id that itself starts with openrouter/', async () => {
    manager.addProvider('openrouter', { baseURL: `${togetherMock.url}/api/v1`, apiKey: 'sk-or' })
    await manager.autoExecute('openrouter/openrouter/auto', 'Hi')
    assert.equal(togetherMock.lastRequest().json.model, 'openrouter/auto', 'the id OpenRouter knows is openrouter/auto')
    await manager.chat({ model: 'openrouter/openrouter/auto', messages: [{ role: 'user', content: 'x' }] })
    assert.equal(togetherMock.lastRequest().json.model, 'openrouter/auto')
  })

  test('autoStream streams from the routed provider', async () => {
    const pieces = await collect(manager.autoStream('groq/llama-3.1-8b-instant', 'Hi'))
    assert.deepEqual(pieces, ['from', ' groq'])
    assert.equal(groqMock.lastRequest().json.model, 'llama-3.1-8b-instant')
    assert.equal(groqMock.lastRequest().json.stream, true)
  })

  test('chat() routes an OpenAI-shaped request by its model', async () => {
    const messages = [{ role: 'user', content: 'route me' }]
    const resp = await manager.chat({ model: 'groq/x', messages, temperature: 0 })
    assert.equal(resp.object, 'chat.completion')
    assert.equal(resp.choices[0].message.content, 'from groq')
    const req = groqMock.lastRequest()
    assert.equal(req.json.model, 'x')
    assert.deepEqual(req.json.messages, messages)
    assert.equal(req.json.temperature, 0)
    assert.equal(openaiMock.requests.length, 0)
  })

  test('listAllModels() gives each provider its models or its error', async () => {
    const all = await manager.listAllModels()
    assert.deepEqual(Object.keys(all).sort(), ['groq', 'openai'])
    assert.deepEqual(all.openai.map((m) => m.id), ['gpt-4o', 'gpt-4o-mini'])
    assert.ok(all.groq.error instanceof SwitchyardError, util.inspect(all.groq))
    assert.equal(all.groq.error.status, 503)
    assert.equal(all.groq.error.provider, 'groq')
    assert.equal(groqMock.lastRequest().path, '/openai/v1/models')
  })

  test('getAllInfo() has one entry per added provider', () => {
    const info = manager.getAllInfo()
    assert.deepEqual(Object.keys(info).sort(), ['groq', 'openai'])
    assert.equal(info.openai.baseURL, `${openaiMock.url}/v1`)
    assert.equal(info.groq.baseURL, `${groqMock.url}/openai/v1`)
    assert.deepEqual(info.groq.capabilities, capabilitiesOf('groq'))
  })

  test('getProvider() finds added providers by alias and refuses others', () => {
    assert.equal(manager.getProvider('gpt').id, 'openai')
    assert.equal(manager.getProvider('groq').id, 'groq')
    assertSwitchyard(throwsSync(() => manager.getProvider('nope')), 'invalid_input')
    const notAdded = throwsSync(() => manager.getProvider('claude'))
    assertSwitchyard(notAdded, 'invalid_input')
    assert.match(notAdded.message, /claude/)
  })

  test('addProvider with the same id replaces the old one', async () => {
    manager.addProvider('chatgpt', { baseURL: `${togetherMock.url}/v1`, apiKey: 'sk-replaced' })
    assert.deepEqual(Object.keys(manager.getAllInfo()).sort(), ['groq', 'openai'])
    await manager.execute('openai', 'gpt-4o', 'x')
    assert.equal(openaiMock.requests.length, 0)
    assert.equal(togetherMock.lastRequest().headers.authorization, 'Bearer sk-replaced')
  })
})

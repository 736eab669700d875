// Ollama beyond the shared contract: model management (tags, pull with progress, delete),
// embeddings, servers that send no tool-call ids, and Ollama's own request fields — each against a
// loopback mock answering with the bodies of Ollama's API reference (docs/api.md, docs/openapi.yaml).
import { describe, test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { createProvider } = require('../lib/index.js')
const { startMockUpstream } = require('../lib/testing.js')

const API_KEY = 'ollama-extras-key'

const ndjson = (lines, extra = {}) => ({
  sse: lines.map((l) => `${JSON.stringify(l)}\n`),
  done: false,
  headers: { 'content-type': 'application/x-ndjson' },
  ...extra,
})

async function collect(iterable) {
  const out = []
  for await (const item of iterable) out.push(item)
  return out
}

async function rejection(promise) {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (e) => e,
  )
}

describe('ollama extras', () => {
  let mock
  let ollama
  before(async () => {
    mock = await startMockUpstream()
    ollama = createProvider('ollama', { baseURL: mock.url, apiKey: API_KEY }, { maxRetries: 0 })
  })
  after(() => mock.close())
  beforeEach(() => mock.reset())

  const last = () => mock.lastRequest()

  test('listModels reads /api/tags: id is the name, the rest is kept', async () => {
    const details = (family, parameterSize, quantization) => ({
      parent_model: '',
      format: 'gguf',
      family,
      families: [family],
      parameter_size: parameterSize,
      quantization_level: quantization,
    })
    mock.reply({
      json: {
        models: [
          {
            name: 'gemma3',
            model: 'gemma3',
            modified_at: '2025-10-03T23:34:03.409490317-07:00',
            size: 3338801804,
            digest: 'a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a',
            details: details('gemma3', '4.3B', 'Q4_K_M'),
          },
          {
            name: 'deepseek-r1:latest',
            model: 'deepseek-r1:latest',
            modified_at: '2025-05-10T08:06:48.639712648-07:00',
            size: 4683075271,
            digest: '0a8c266910232fd3291e71e5ba1e058cc5af9d411192cf88b6d30e92b6e73163',
            details: details('qwen2', '7.6B', 'Q4_K_M'),
          },
        ],
      },
    })
    const models = await ollama.listModels()
    assert.deepEqual(models.map((m) => m.id), ['gemma3', 'deepseek-r1:latest'])
    assert.equal(models[0].object, 'model')
    assert.equal(models[0].size, 3338801804)
    assert.equal(models[0].modified_at, '2025-10-03T23:34:03.409490317-07:00')
    assert.deepEqual(models[1].details, details('qwen2', '7.6B', 'Q4_K_M'))
    assert.equal(last().method, 'GET')
    assert.equal(last().path, '/api/tags')
    assert.equal(last().headers.authorization, `Bearer ${API_KEY}`)

    mock.reply({ json: { models: [] } })
    assert.deepEqual(await ollama.listModels(), [])
    // What validateConfig uses to tell a reachable server from a dead one.
    mock.reply({ json: { models: [] } })
    assert.deepEqual(await ollama.validateConfig(), { valid: true })
  })

  test('pull streams each progress object as it arrives, then success', async () => {
    const digest = 'sha256:aabd4debf0c8f08881923f2c25fc0fdeed24435271c2b3e92c4af36704040dbc'
    const progress = [
      { status: 'pulling manifest' },
      { status: `pulling ${digest.slice(7, 19)}`, digest, total: 2142590208, completed: 241970 },
      { status: `pulling ${digest.slice(7, 19)}`, digest, total: 2142590208, completed: 1071295104 },
      { status: `pulling ${digest.slice(7, 19)}`, digest, total: 2142590208, completed: 2142590208 },
      { status: 'verifying sha256 digest' },
      { status: 'writing manifest' },
      { status: 'success' },
    ]
    mock.reply(ndjson(progress, { chunkDelayMs: 40 }))
    const seen = []
    for await (const p of ollama.requestStream('POST', '/api/pull', { model: 'llama3.2', stream: true }, 'ndjson')) {
      seen.push({ ...p, at: Date.now() })
    }
    assert.deepEqual(seen.map(({ at, ...p }) => p), progress)
    // Progress is not buffered until the end: the first line arrived well before the last.
    assert.ok(seen.at(-1).at - seen[0].at >= 150, `${seen.at(-1).at - seen[0].at}ms`)
    assert.equal(last().method, 'POST')
    assert.equal(last().path, '/api/pull')
    assert.deepEqual(last().json, { model: 'llama3.2', stream: true })
    assert.equal(last().headers.authorization, `Bearer ${API_KEY}`)

    // createProvider('ollama').pullModel is the same call.
    mock.reply(ndjson([{ status: 'pulling manifest' }, { status: 'success' }]))
    assert.deepEqual(await collect(ollama.pullModel('gemma3')), [{ status: 'pulling manifest' }, { status: 'success' }])
    assert.deepEqual(last().json, { model: 'gemma3', stream: true })
  })

  test('a pull that fails mid-stream rejects after the progress before it', async () => {
    mock.reply(ndjson([{ status: 'pulling manifest' }, { error: 'pull model manifest: file does not exist' }]))
    const seen = []
    const err = await rejection(
      (async () => {
        for await (const p of ollama.pullModel('no-such-model')) seen.push(p)
      })(),
    )
    assert.deepEqual(seen, [{ status: 'pulling manifest' }])
    assert.equal(err.kind, 'upstream_error')
    assert.match(err.message, /file does not exist/)
  })

  test('delete: 200 with no body, 404 for a model that is not there', async () => {
    mock.reply({ raw: '', status: 200 })
    assert.equal(await ollama.request('DELETE', '/api/delete', { model: 'llama3:13b' }), null)
    assert.equal(last().method, 'DELETE')
    assert.equal(last().path, '/api/delete')
    assert.deepEqual(last().json, { model: 'llama3:13b' })

    mock.reply({ error: { status: 404, body: { error: "model 'llama3:13b' not found" } } })
    const err = await rejection(ollama.deleteModel('llama3:13b'))
    assert.equal(err.kind, 'not_found')
    assert.equal(err.status, 404)
    assert.deepEqual(err.body, { error: "model 'llama3:13b' not found" })
    assert.match(err.message, /not found/)
  })

  test('embed: /api/embed in, OpenAI embeddings out', async () => {
    mock.reply({
      json: {
        model: 'embeddinggemma',
        embeddings: [[0.010071029, -0.0017594862, 0.05007221, 0.04692972, 0.054916814]],
        total_duration: 14143917,
        load_duration: 1019500,
        prompt_eval_count: 8,
      },
    })
    const out = await ollama.embed({ model: 'ollama/embeddinggemma', input: 'Generate embeddings for this text', dimensions: 5 })
    assert.deepEqual(out, {
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.010071029, -0.0017594862, 0.05007221, 0.04692972, 0.054916814] }],
      model: 'embeddinggemma',
      usage: { prompt_tokens: 8, total_tokens: 8 },
    })
    assert.equal(last().path, '/api/embed')
    assert.deepEqual(last().json, { model: 'embeddinggemma', input: 'Generate embeddings for this text', dimensions: 5 })

    mock.reset()
    const err = await rejection(ollama.embed({ model: 'embeddinggemma', input: 'x', encoding_format: 'base64' }))
    assert.equal(err.kind, 'invalid_input')
    assert.match(err.message, /encoding_format/)
    assert.equal(mock.requests.length, 0)

    mock.reply({ error: { status: 400, body: { error: 'this model does not support embeddings' } } })
    const unsupported = await rejection(ollama.embed({ model: 'llama3.1', input: 'x' }))
    assert.equal(unsupported.kind, 'invalid_request')
    assert.equal(unsupported.status, 400)
  })

  // The API reference's tool-calling example: servers before tool-call ids send none.
  const callWithoutId = {
    model: 'llama3.2',
    created_at: '2024-07-22T20:33:28.123648Z',
    message: {
      role: 'assistant',
      content: '',
      tool_calls: [{ function: { name: 'get_current_weather', arguments: { format: 'celsius', location: 'Paris, FR' } } }],
    },
    done_reason: 'stop',
    done: true,
    total_duration: 885095291,
    load_duration: 3753500,
    prompt_eval_count: 122,
    prompt_eval_duration: 328493000,
    eval_count: 33,
    eval_duration: 552222000,
  }

  test('calls without ids get one, and the results find their tool by it', async () => {
    mock.reply({ json: callWithoutId })
    const user = { role: 'user', content: 'What is the weather today in Paris?' }
    const answer = await ollama.chat({ model: 'ollama/llama3.2', messages: [user] })
    const call = answer.choices[0].message.tool_calls[0]
    assert.match(call.id, /^call_[A-Za-z0-9]{24}$/)
    assert.deepEqual(call.function, { name: 'get_current_weather', arguments: '{"format":"celsius","location":"Paris, FR"}' })
    assert.equal(answer.choices[0].finish_reason, 'tool_calls')
    assert.equal(answer.choices[0].provider_finish_reason, 'stop')
    assert.deepEqual(answer.usage, { prompt_tokens: 122, completion_tokens: 33, total_tokens: 155 })

    mock.reply({ json: { ...callWithoutId, message: { role: 'assistant', content: 'It is 22 °C.' } } })
    await ollama.chat({
      model: 'ollama/llama3.2',
      messages: [user, answer.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '22' }],
    })
    assert.deepEqual(last().json.messages.slice(1), [
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ id: call.id, function: { index: 0, name: 'get_current_weather', arguments: { format: 'celsius', location: 'Paris, FR' } } }],
      },
      { role: 'tool', content: '22', tool_name: 'get_current_weather', tool_call_id: call.id },
    ])
  })

  test('streamed: thinking, then calls without ids, one id per call throughout', async () => {
    const line = (message, extra = { done: false }) => ({ model: 'qwen3', created_at: '2025-10-26T17:15:24.097767Z', message: { role: 'assistant', ...message }, ...extra })
    mock.reply(
      ndjson([
        line({ content: '', thinking: 'Two cities.' }),
        line({ content: '', tool_calls: [{ function: { index: 0, name: 'get_temperature', arguments: { city: 'New York' } } }] }),
        line({ content: '', tool_calls: [{ function: { index: 1, name: 'get_temperature', arguments: { city: 'London' } } }] }),
        line({ content: '' }, { done: true, done_reason: 'stop', prompt_eval_count: 40, eval_count: 31 }),
      ]),
    )
    const chunks = await collect(ollama.stream({ model: 'ollama/qwen3', messages: [{ role: 'user', content: 'Temperatures in New York and London?' }], reasoning_effort: 'low' }))
    assert.deepEqual(last().json.think, 'low')
    assert.equal(last().json.stream, true)
    const deltas = chunks.map((c) => c.choices[0]?.delta).filter(Boolean)
    assert.equal(deltas.find((d) => d.reasoning_content)?.reasoning_content, 'Two cities.')
    const calls = deltas.flatMap((d) => d.tool_calls ?? [])
    const starts = calls.filter((c) => c.id)
    assert.deepEqual(starts.map((c) => [c.index, c.function.name]), [[0, 'get_temperature'], [1, 'get_temperature']])
    assert.notEqual(starts[0].id, starts[1].id)
    assert.deepEqual(calls.filter((c) => !c.id).map((c) => [c.index, JSON.parse(c.function.arguments)]), [[0, { city: 'New York' }], [1, { city: 'London' }]])
    assert.deepEqual(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].finish_reason), ['tool_calls'])
    assert.deepEqual(chunks.at(-1).usage, { prompt_tokens: 40, completion_tokens: 31, total_tokens: 71 })
  })

  test("Ollama's own fields: ctx_size → options.num_ctx, keep_alive, native options", async () => {
    const done = { model: 'llama3.1', created_at: '2025-10-17T23:14:07.414671Z', message: { role: 'assistant', content: 'Hi.' }, done: true, done_reason: 'stop', prompt_eval_count: 11, eval_count: 3 }
    mock.reply({ json: done })
    const out = await ollama.execute('ollama/llama3.1', 'Hello', { systemPrompt: 'Be brief', parameters: { temp: 0.2, ctx_size: 8192, max_length: 100 } })
    assert.equal(out.text, 'Hi.')
    assert.deepEqual(last().json, {
      model: 'llama3.1',
      messages: [
        { role: 'system', content: 'Be brief' },
        { role: 'user', content: 'Hello' },
      ],
      options: { temperature: 0.2, num_predict: 100, num_ctx: 8192 },
      stream: false,
    })

    mock.reply({ json: done })
    await ollama.chat({ model: 'llama3.1', messages: [{ role: 'user', content: 'Hello' }], keep_alive: '10m', options: { top_k: 20, num_ctx: 4096 } })
    assert.equal(last().json.keep_alive, '10m')
    assert.deepEqual(last().json.options, { top_k: 20, num_ctx: 4096 })

    mock.reset()
    const err = await rejection(ollama.chat({ model: 'llama3.1', messages: [{ role: 'user', content: 'Hello' }], temperature: 0.1, options: { temperature: 0.9 } }))
    assert.equal(err.kind, 'invalid_input')
    assert.match(err.message, /options\.temperature/)
    assert.equal(mock.requests.length, 0)
  })

  test('a model that is not pulled: 404 not_found, Ollama\'s words kept', async () => {
    mock.reply({ error: { status: 404, body: { error: 'model "llama3" not found, try pulling it first' } } })
    const err = await rejection(ollama.chat({ model: 'ollama/llama3', messages: [{ role: 'user', content: 'hi' }] }))
    assert.equal(err.kind, 'not_found')
    assert.equal(err.retryable, false)
    assert.equal(err.provider, 'ollama')
    assert.match(err.message, /try pulling it first/)
    assert.deepEqual(err.body, { error: 'model "llama3" not found, try pulling it first' })
  })
})

// Contract fixture: Ollama's native API. Chat is POST /api/chat, which streams NDJSON
// (`application/x-ndjson`) unless the body says `"stream": false`; embeddings POST /api/embed; the
// model list GET /api/tags. Replies follow Ollama's API reference (docs/api.md, docs/openapi.yaml,
// docs/api/errors.mdx, docs/capabilities/tool-calling.mdx): every line and answer carries `model`,
// `created_at`, `message`, `done`; the last one `done_reason` and the token counts
// (`prompt_eval_count`, `eval_count`) beside the timings; errors are `{ "error": "…" }`.

const MODEL = 'llama3.1'
const EMBED_MODEL = 'nomic-embed-text'
const API_KEY = 'ollama-contract-key'

// Status and text per error kind. Ollama's own words where it has them: 503 is its full request
// queue, the context-length text is what it answers with `truncate: false`; Ollama itself has no
// content filter, so that one is the shape only (a proxy or cloud model in front of it).
const ERRORS = {
  rate_limited: [429, 'too many requests'],
  auth: [401, 'unauthorized'],
  invalid_request: [400, 'model is required'],
  context_length_exceeded: [400, 'the input length exceeds the context length'],
  overloaded: [503, 'server busy, please try again.  maximum pending requests exceeded'],
  content_filter: [400, 'the response was blocked by the content filter'],
}

let clock = Date.parse('2025-10-26T17:15:24.097Z')
const createdAt = () => new Date((clock += 11)).toISOString().replace('Z', '767Z')

const words = (text) => text.split(/(?=\s)/).filter((w) => w.length > 0)

/** The closing counters Ollama puts on its last line (durations in nanoseconds). */
const metrics = (usage) => ({
  total_duration: 4883583458,
  load_duration: 1334875,
  prompt_eval_count: usage?.input ?? 26,
  prompt_eval_duration: 342546000,
  eval_count: usage?.output ?? 282,
  eval_duration: 4535599000,
})

const line = (message, extra = { done: false }) => ({ model: MODEL, created_at: createdAt(), message: { role: 'assistant', ...message }, ...extra })
const last = (message, usage, doneReason = 'stop') => line(message, { done: true, done_reason: doneReason, ...metrics(usage) })

/** Newer servers give each call an id and an index; the arguments are a JSON object. */
const toolCalls = (calls, from = 0) => calls.map((c, i) => ({ id: c.id, function: { index: from + i, name: c.name, arguments: c.args } }))

/** An NDJSON body, one write per line. */
const ndjson = (lines, extra = {}) => ({
  sse: lines.map((l) => `${JSON.stringify(l)}\n`),
  done: false,
  headers: { 'content-type': 'application/x-ndjson' },
  ...extra,
})

const PATHS = new Set(['POST /api/chat', 'POST /api/embed', 'GET /api/tags'])

export default {
  id: 'ollama',
  model: `ollama/${MODEL}`,
  embedModel: `ollama/${EMBED_MODEL}`,
  supports: { structured: 'native', imageUrl: false, seed: true, extraFields: 'reject', embeddings: true, models: true },
  settings: (mock) => ({ baseURL: mock.url, apiKey: API_KEY }),

  /** The reply, in Ollama's wire format, for an abstract scenario. */
  render(scenario, req) {
    if (!PATHS.has(`${req.method} ${req.path}`)) {
      // Ollama's router (gin) answers unknown routes with a plain-text 404.
      return { error: { status: 404, body: '404 page not found', contentType: 'text/plain' } }
    }
    // Ollama streams unless told not to.
    const stream = req.json?.stream !== false
    switch (scenario.kind) {
      case 'text':
      case 'json': {
        const content = scenario.kind === 'json' ? JSON.stringify(scenario.value) : scenario.text
        if (!stream) return { json: last({ content }, scenario.usage) }
        return ndjson([...words(content).map((w) => line({ content: w })), last({ content: '' }, scenario.usage)])
      }
      case 'tools': {
        if (!stream) return { json: last({ content: '', tool_calls: toolCalls(scenario.calls) }, scenario.usage) }
        // Streamed, each call arrives whole on its own line, then the closing line.
        return ndjson([
          ...scenario.calls.map((c, i) => line({ content: '', tool_calls: toolCalls([c], i) })),
          last({ content: '' }, scenario.usage),
        ])
      }
      case 'cut':
        return ndjson([...words(scenario.text).map((w) => line({ content: w })), last({ content: '' })], { disconnectAfter: 3 })
      case 'error': {
        const [status, text] = ERRORS[scenario.error]
        return { error: { status, body: { error: `${text} (${scenario.message})` } } }
      }
      case 'embedding':
        return {
          json: {
            model: EMBED_MODEL,
            embeddings: scenario.vectors,
            total_duration: 14143917,
            load_duration: 1019500,
            prompt_eval_count: scenario.usage.input,
          },
        }
      case 'models':
        return {
          json: {
            models: scenario.ids.map((id, i) => ({
              name: id,
              model: id,
              modified_at: '2025-10-03T23:34:03.409490317-07:00',
              size: 4920753328 + i,
              digest: 'a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a',
              details: {
                parent_model: '',
                format: 'gguf',
                family: 'llama',
                families: ['llama'],
                parameter_size: '8.0B',
                quantization_level: 'Q4_K_M',
              },
            })),
          },
        }
      default:
        throw new Error(`unknown scenario ${scenario.kind}`)
    }
  },

  /** The exact wire request each scenario must produce. */
  checkRequest(name, req, assert, ctx) {
    const body = req.json
    assert.equal(req.headers.authorization, `Bearer ${API_KEY}`)
    assert.match(req.headers['content-type'], /^application\/json/)
    const chat = () => {
      assert.equal(req.method, 'POST')
      assert.equal(req.path, '/api/chat')
      assert.equal(body.model, MODEL)
    }
    switch (name) {
      case 'text':
      case 'stream':
        chat()
        assert.deepEqual(body, {
          model: MODEL,
          messages: [
            { role: 'system', content: ctx.system },
            { role: 'user', content: ctx.user },
          ],
          options: { temperature: ctx.temperature, num_predict: ctx.maxTokens },
          stream: name === 'stream',
        })
        break
      case 'tools':
        chat()
        assert.deepEqual(body.tools, [
          { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: ctx.weatherSchema } },
          { type: 'function', function: { name: 'get_time', description: 'Local time in a city', parameters: ctx.timeSchema } },
        ])
        assert.equal(body.stream, false)
        break
      case 'tool_result':
        chat()
        assert.deepEqual(body.messages, [
          { role: 'system', content: ctx.system },
          { role: 'user', content: ctx.user },
          {
            role: 'assistant',
            content: '',
            tool_calls: ctx.toolCalls.map((c, index) => ({
              id: c.id,
              function: { index, name: c.function.name, arguments: JSON.parse(c.function.arguments) },
            })),
          },
          { role: 'tool', content: ctx.toolResults[0], tool_name: 'get_weather', tool_call_id: ctx.toolCalls[0].id },
          { role: 'tool', content: ctx.toolResults[1], tool_name: 'get_time', tool_call_id: ctx.toolCalls[1].id },
        ])
        // `auto` is Ollama's only behaviour: nothing to send.
        assert.equal('tool_choice' in body, false)
        assert.equal(body.tools.length, 2)
        break
      case 'structured':
        chat()
        assert.deepEqual(body.format, ctx.outputSchema)
        assert.equal('response_format' in body, false)
        break
      case 'image':
        chat()
        assert.deepEqual(body.messages[1], { role: 'user', content: ctx.user, images: [ctx.imageDataUrl.split(',')[1]] })
        break
      case 'params':
        chat()
        assert.deepEqual(body.options, { temperature: 0.2, top_p: 0.9, num_predict: 50, stop: ['END'], seed: 7 })
        assert.equal(body.stream, false)
        break
      case 'embed':
        assert.equal(req.method, 'POST')
        assert.equal(req.path, '/api/embed')
        assert.deepEqual(body, { model: EMBED_MODEL, input: ['alpha', 'beta'] })
        break
      case 'models':
        assert.equal(req.method, 'GET')
        assert.equal(req.path, '/api/tags')
        break
      default:
        throw new Error(`unknown request check ${name}`)
    }
  },
}

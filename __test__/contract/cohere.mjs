// Contract fixture: Cohere v2. Chat is POST /v2/chat (typed SSE events when `stream: true`),
// embeddings POST /v2/embed, the model list GET /v1/models. Replies follow Cohere's API reference
// (docs.cohere.com/reference/chat, /chat-stream, /embed, /list-models, /errors): usage comes as
// `billed_units` beside raw `tokens`, errors as `{ id, message }` with Cohere's status codes.

const MODEL = 'command-a-03-2025'
const EMBED_MODEL = 'embed-v4.0'
const API_KEY = 'co-contract-key'

// Status and message per error kind, in Cohere's words (the scenario's text follows them).
const ERRORS = {
  rate_limited: [429, 'You are past the per minute request limit, please wait and try again later. '],
  auth: [401, 'invalid api token: '],
  invalid_request: [400, 'invalid request: '],
  context_length_exceeded: [400, 'too many tokens: total number of tokens in the prompt cannot exceed 256000 - received 270112. '],
  // 503: "too many users trying to access the service at the same time".
  overloaded: [503, 'Service Unavailable: '],
  // 498: "a request or response contains a deny-listed token" (the safety filter).
  content_filter: [498, 'blocked output: please adjust your prompt and try again. '],
}

const requestId = () => `c14c80c3-18eb-4519-9460-${String(Date.now()).slice(-12).padStart(12, '0')}`

// Cohere bills fewer input tokens than it counts: `tokens` includes its own preamble.
const usageOf = (u) => ({
  billed_units: { input_tokens: u.input, output_tokens: u.output },
  tokens: { input_tokens: u.input + 214, output_tokens: u.output },
})

// One SSE event as Cohere sends it: an `event:` line naming the type, then the JSON.
const event = (obj) => `event: ${obj.type}\ndata: ${JSON.stringify(obj)}\n\n`

const words = (text) => text.split(/(?=\s)/).filter((w) => w.length > 0)

function fragments(text, pieces = 3) {
  const size = Math.max(1, Math.ceil(text.length / pieces))
  const out = []
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size))
  return out
}

const messageStart = (id) => ({
  id,
  type: 'message-start',
  delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } },
})

const messageEnd = (finishReason, usage) => ({
  type: 'message-end',
  delta: { finish_reason: finishReason, ...(usage && { usage }) },
})

function textEvents(text, usage) {
  return [
    messageStart(requestId()),
    { type: 'content-start', index: 0, delta: { message: { content: { type: 'text', text: '' } } } },
    ...words(text).map((w) => ({ type: 'content-delta', index: 0, delta: { message: { content: { text: w } } } })),
    { type: 'content-end', index: 0 },
    messageEnd('COMPLETE', usage),
  ]
}

const TOOL_PLAN = 'I will look up the weather and the local time in Paris.'

function toolEvents(calls, usage) {
  const events = [messageStart(requestId())]
  for (const w of words(TOOL_PLAN)) events.push({ type: 'tool-plan-delta', delta: { message: { tool_plan: w } } })
  calls.forEach((call, index) => {
    events.push({
      type: 'tool-call-start',
      index,
      delta: { message: { tool_calls: { id: call.id, type: 'function', function: { name: call.name, arguments: '' } } } },
    })
    for (const piece of fragments(JSON.stringify(call.args))) {
      events.push({ type: 'tool-call-delta', index, delta: { message: { tool_calls: { function: { arguments: piece } } } } })
    }
    events.push({ type: 'tool-call-end', index })
  })
  events.push(messageEnd('TOOL_CALL', usage))
  return events
}

export default {
  id: 'cohere',
  model: `cohere/${MODEL}`,
  embedModel: EMBED_MODEL,
  supports: { structured: 'native', imageUrl: true, seed: true, extraFields: 'reject', embeddings: true, models: true },
  settings: (mock) => ({ baseURL: mock.url, apiKey: API_KEY }),

  /** The reply, in Cohere's wire format, for an abstract scenario. */
  render(scenario, req) {
    const stream = req.json?.stream === true
    const usage = scenario.usage && usageOf(scenario.usage)
    switch (scenario.kind) {
      case 'text':
      case 'json': {
        const text = scenario.kind === 'json' ? JSON.stringify(scenario.value) : scenario.text
        if (stream) return { sse: textEvents(text, usage).map(event), done: false }
        return {
          json: {
            id: requestId(),
            finish_reason: 'COMPLETE',
            message: { role: 'assistant', content: [{ type: 'text', text }] },
            usage,
          },
        }
      }
      case 'tools': {
        if (stream) return { sse: toolEvents(scenario.calls, usage).map(event), done: false }
        return {
          json: {
            id: requestId(),
            finish_reason: 'TOOL_CALL',
            message: {
              role: 'assistant',
              tool_plan: TOOL_PLAN,
              tool_calls: scenario.calls.map((c) => ({
                id: c.id,
                type: 'function',
                function: { name: c.name, arguments: JSON.stringify(c.args) },
              })),
            },
            usage,
          },
        }
      }
      case 'cut':
        return { sse: textEvents(scenario.text, usageOf({ input: 5, output: 8 })).map(event), done: false, disconnectAfter: 3 }
      case 'error': {
        const [status, prefix] = ERRORS[scenario.error]
        return { error: { status, body: { id: requestId(), message: `${prefix}${scenario.message}` } } }
      }
      case 'embedding':
        return {
          json: {
            id: requestId(),
            embeddings: { float: scenario.vectors },
            texts: req.json.texts,
            meta: { api_version: { version: '2' }, billed_units: { input_tokens: scenario.usage.input } },
            response_type: 'embeddings_by_type',
          },
        }
      case 'models':
        return {
          json: {
            models: scenario.ids.map((name) => ({
              name,
              endpoints: ['chat'],
              finetuned: false,
              context_length: 256000,
              tokenizer_url: `https://storage.googleapis.com/cohere-public/tokenizers/${name}.json`,
              default_endpoints: [],
              features: ['tools', 'json_mode', 'json_schema'],
            })),
            next_page_token: '',
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
    const chat = () => {
      assert.equal(req.method, 'POST')
      assert.equal(req.path, '/v2/chat')
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
          temperature: ctx.temperature,
          max_tokens: ctx.maxTokens,
          stream: name === 'stream',
        })
        // Cohere streams server-sent events to clients that ask for them.
        assert.equal(req.headers.accept, name === 'stream' ? 'text/event-stream' : 'application/json')
        break
      case 'tools':
        chat()
        assert.deepEqual(body.tools, [
          { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: ctx.weatherSchema } },
          { type: 'function', function: { name: 'get_time', description: 'Local time in a city', parameters: ctx.timeSchema } },
        ])
        assert.equal('tool_choice' in body, false)
        break
      case 'tool_result':
        chat()
        assert.deepEqual(body.messages, [
          { role: 'system', content: ctx.system },
          { role: 'user', content: ctx.user },
          // The empty text beside the calls is no tool plan.
          { role: 'assistant', tool_calls: ctx.toolCalls },
          { role: 'tool', tool_call_id: ctx.toolCalls[0].id, content: ctx.toolResults[0] },
          { role: 'tool', tool_call_id: ctx.toolCalls[1].id, content: ctx.toolResults[1] },
        ])
        // JAF's `tool_choice: "auto"` is Cohere's default: nothing is sent.
        assert.equal('tool_choice' in body, false)
        assert.equal(body.tools.length, 2)
        break
      case 'structured':
        chat()
        assert.deepEqual(body.response_format, { type: 'json_object', json_schema: ctx.outputSchema })
        break
      case 'image':
        chat()
        assert.deepEqual(body.messages[1].content, [
          { type: 'text', text: ctx.user },
          { type: 'image_url', image_url: { url: ctx.imageUrl } },
          { type: 'image_url', image_url: { url: ctx.imageDataUrl } },
        ])
        break
      case 'params':
        chat()
        assert.deepEqual(body, {
          model: MODEL,
          messages: [{ role: 'user', content: ctx.user }],
          temperature: 0.2,
          p: 0.9,
          max_tokens: 50,
          stop_sequences: ['END'],
          seed: 7,
          stream: false,
        })
        break
      case 'embed':
        assert.equal(req.method, 'POST')
        assert.equal(req.path, '/v2/embed')
        assert.deepEqual(body, {
          model: EMBED_MODEL,
          texts: ['alpha', 'beta'],
          input_type: 'search_document',
          embedding_types: ['float'],
        })
        break
      case 'models':
        assert.equal(req.method, 'GET')
        assert.equal(req.path, '/v1/models?page_size=1000')
        break
      default:
        throw new Error(`unknown request check ${name}`)
    }
  },
}

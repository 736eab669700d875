// Contract fixture: the Anthropic Messages API (POST /v1/messages, anthropic-version 2023-06-01).
// Replies follow Anthropic's API reference: Message objects with content blocks, the named-event
// SSE stream (message_start … message_stop, pings, no [DONE]) and the `{type:'error'}` envelope
// with each error kind's real status and type.

const MODEL = 'claude-sonnet-4-5-20250929'
const API_KEY = 'sk-ant-contract-anthropic'
const REQUEST_ID = 'req_011CSHoEeqs5C35K2UUqR7Fy'
const JSON_TOOL = 'json_tool_call'

// [status, error.type, message]. The scenario's message rides along with Anthropic's own wording
// where the wording is what tells the kinds apart (context length, content filtering).
const ERRORS = {
  rate_limited: [429, 'rate_limit_error', (m) => `This request would exceed your account's rate limit (${m})`],
  auth: [401, 'authentication_error', (m) => `invalid x-api-key (${m})`],
  invalid_request: [400, 'invalid_request_error', (m) => `messages: roles must alternate between "user" and "assistant" (${m})`],
  context_length_exceeded: [400, 'invalid_request_error', (m) => `prompt is too long: 208310 tokens > 200000 maximum (${m})`],
  content_filter: [400, 'invalid_request_error', (m) => `Output blocked by content filtering policy (${m})`],
  overloaded: [529, 'overloaded_error', (m) => `Overloaded (${m})`],
}

const usageOf = (u, { streamStart = false } = {}) => ({
  input_tokens: u?.input ?? 10,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: u?.cached ?? 0,
  output_tokens: streamStart ? 1 : (u?.output ?? 1),
})

const textBlock = (text) => ({ type: 'text', text })
const toolUse = (id, name, input) => ({ type: 'tool_use', id, name, input })

/** The content blocks and stop reason Anthropic answers a scenario with. */
function answer(scenario) {
  switch (scenario.kind) {
    case 'text':
      return { blocks: [textBlock(scenario.text)], stopReason: scenario.finish ?? 'end_turn' }
    case 'json':
      // response_format travels as a forced tool: the answer is that tool's input.
      return { blocks: [toolUse('toolu_01KFbKqPYSuAKujiL6mTfzYA', JSON_TOOL, scenario.value)], stopReason: 'tool_use' }
    case 'tools':
      return { blocks: scenario.calls.map((c) => toolUse(c.id, c.name, c.args)), stopReason: 'tool_use' }
    default:
      throw new Error(`no answer for ${scenario.kind}`)
  }
}

const message = (blocks, stopReason, usage) => ({
  id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
  type: 'message',
  role: 'assistant',
  model: MODEL,
  content: blocks,
  stop_reason: stopReason,
  stop_sequence: null,
  usage,
})

const event = (data) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`
const words = (text) => text.match(/\S+\s*|\s+/g) ?? ['']
const halves = (s) => [s.slice(0, Math.ceil(s.length / 2)), s.slice(Math.ceil(s.length / 2))]

/** The named events of a streamed answer, each block opened, filled by deltas and closed. */
function streamEvents(blocks, stopReason, usage) {
  const out = [event({ type: 'message_start', message: message([], null, usageOf(usage, { streamStart: true })) })]
  blocks.forEach((block, index) => {
    const opening = block.type === 'text' ? textBlock('') : { ...block, input: {} }
    out.push(event({ type: 'content_block_start', index, content_block: opening }))
    if (index === 0) out.push(event({ type: 'ping' }))
    if (block.type === 'text') {
      for (const text of words(block.text)) out.push(event({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } }))
    } else {
      out.push(event({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } }))
      for (const partial_json of halves(JSON.stringify(block.input))) {
        out.push(event({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } }))
      }
    }
    out.push(event({ type: 'content_block_stop', index }))
  })
  out.push(event({ type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage?.output ?? 1 } }))
  out.push(event({ type: 'message_stop' }))
  return out
}

export default {
  id: 'anthropic',
  model: `anthropic/${MODEL}`,
  supports: { structured: 'tool', imageUrl: true, seed: false, extraFields: 'reject', embeddings: false, models: true },
  settings: (mock) => ({ baseURL: mock.url, apiKey: API_KEY }),

  /** The reply, in Anthropic's wire format, for an abstract scenario. */
  render(scenario, req) {
    const stream = req.json?.stream === true
    switch (scenario.kind) {
      case 'text':
      case 'json':
      case 'tools': {
        const { blocks, stopReason } = answer(scenario)
        if (!stream) return { json: message(blocks, stopReason, usageOf(scenario.usage)), headers: { 'request-id': REQUEST_ID } }
        return { sse: streamEvents(blocks, stopReason, scenario.usage), done: false, headers: { 'request-id': REQUEST_ID } }
      }
      case 'cut':
        // message_start, content_block_start, one text delta: then the connection drops.
        return { sse: streamEvents([textBlock(scenario.text)], 'end_turn'), done: false, disconnectAfter: 3 }
      case 'error': {
        const [status, type, message] = ERRORS[scenario.error]
        const headers = { 'request-id': REQUEST_ID, ...(status === 429 && { 'retry-after': '1' }) }
        return { error: { status, body: { type: 'error', error: { type, message: message(scenario.message) }, request_id: REQUEST_ID }, headers } }
      }
      case 'models':
        return {
          json: {
            data: scenario.ids.map((id, i) => ({ type: 'model', id, display_name: `Model ${i + 1}`, created_at: '2025-02-19T00:00:00Z' })),
            has_more: false,
            first_id: scenario.ids[0],
            last_id: scenario.ids.at(-1),
          },
        }
      default:
        throw new Error(`unknown scenario ${scenario.kind}`)
    }
  },

  /** The exact wire request each scenario must produce. */
  checkRequest(name, req, assert, ctx) {
    const body = req.json
    assert.equal(req.headers['x-api-key'], API_KEY)
    assert.equal(req.headers['anthropic-version'], '2023-06-01')
    assert.equal(req.headers.authorization, undefined)
    if (name !== 'models') {
      assert.equal(req.method, 'POST')
      assert.equal(req.path, '/v1/messages')
      assert.equal(body.model, MODEL)
    }
    const weatherTools = [
      { name: 'get_weather', description: 'Weather for a city', input_schema: ctx.weatherSchema },
      { name: 'get_time', description: 'Local time in a city', input_schema: ctx.timeSchema },
    ]
    switch (name) {
      case 'text':
      case 'stream':
        assert.deepEqual(body, {
          model: MODEL,
          max_tokens: ctx.maxTokens,
          system: ctx.system,
          messages: [{ role: 'user', content: ctx.user }],
          temperature: ctx.temperature,
          ...(name === 'stream' && { stream: true }),
        })
        break
      case 'tools':
        assert.deepEqual(body.tools, weatherTools)
        assert.equal(body.tool_choice, undefined)
        break
      case 'tool_result':
        assert.deepEqual(body.messages, [
          { role: 'user', content: ctx.user },
          {
            role: 'assistant',
            content: ctx.toolCalls.map((c) => ({ type: 'tool_use', id: c.id, name: c.function.name, input: JSON.parse(c.function.arguments) })),
          },
          {
            role: 'user',
            content: ctx.toolCalls.map((c, i) => ({ type: 'tool_result', tool_use_id: c.id, content: ctx.toolResults[i] })),
          },
        ])
        assert.deepEqual(body.tools, weatherTools)
        assert.deepEqual(body.tool_choice, { type: 'auto' })
        break
      case 'structured':
        assert.deepEqual(body.tools, [
          {
            name: JSON_TOOL,
            description: `Respond with the answer (${ctx.agentName}) as this tool's input: the input is the answer.`,
            input_schema: ctx.outputSchema,
          },
        ])
        assert.deepEqual(body.tool_choice, { type: 'tool', name: JSON_TOOL })
        break
      case 'image':
        assert.deepEqual(body.messages, [
          {
            role: 'user',
            content: [
              { type: 'text', text: ctx.user },
              { type: 'image', source: { type: 'url', url: ctx.imageUrl } },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: ctx.imageDataUrl.split(',')[1] } },
            ],
          },
        ])
        break
      case 'params':
        assert.deepEqual(body, {
          model: MODEL,
          max_tokens: 50,
          messages: [{ role: 'user', content: ctx.user }],
          temperature: 0.2,
          top_p: 0.9,
          stop_sequences: ['END'],
        })
        break
      case 'models':
        assert.equal(req.method, 'GET')
        assert.equal(req.path, '/v1/models?limit=1000')
        break
      default:
        throw new Error(`unknown request check ${name}`)
    }
  },
}

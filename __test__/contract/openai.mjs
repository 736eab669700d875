// Contract fixture: OpenAI chat completions (also the wire format of the OpenAI-compatible
// family). Replies follow OpenAI's API reference.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { completion, streamChunks, errorBody } = require('../../lib/testing.js')

const ERRORS = {
  rate_limited: [429, { type: 'requests', code: 'rate_limit_exceeded' }],
  auth: [401, { type: 'invalid_request_error', code: 'invalid_api_key' }],
  invalid_request: [400, { type: 'invalid_request_error', code: null, param: 'messages' }],
  context_length_exceeded: [400, { type: 'invalid_request_error', code: 'context_length_exceeded', param: 'messages' }],
  content_filter: [400, { type: 'invalid_request_error', code: 'content_filter' }],
  overloaded: [503, { type: 'server_error', code: 'overloaded' }],
}

const usageOf = (u) => ({
  prompt_tokens: u.input,
  completion_tokens: u.output,
  total_tokens: u.input + u.output,
  ...(u.cached !== undefined && { prompt_tokens_details: { cached_tokens: u.cached } }),
  ...(u.reasoning !== undefined && { completion_tokens_details: { reasoning_tokens: u.reasoning } }),
})

/**
 * The request body every adapter that forwards OpenAI's format must send, untouched, for each
 * scenario (shared with the Azure fixture, whose URLs and auth differ).
 */
export function checkOpenAiBody(name, body, assert, ctx, wireModel) {
  switch (name) {
    case 'text':
    case 'stream':
      assert.equal(body.model, wireModel)
      assert.deepEqual(body.messages, [
        { role: 'system', content: ctx.system },
        { role: 'user', content: ctx.user },
      ])
      assert.equal(body.temperature, ctx.temperature)
      assert.equal(body.max_tokens, ctx.maxTokens)
      if (name === 'stream') assert.deepEqual([body.stream, body.stream_options], [true, { include_usage: true }])
      else assert.equal(body.stream, undefined)
      break
    case 'tools':
      assert.deepEqual(body.tools, [
        { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: ctx.weatherSchema } },
        { type: 'function', function: { name: 'get_time', description: 'Local time in a city', parameters: ctx.timeSchema } },
      ])
      break
    case 'tool_result': {
      const [, , assistant, tool1, tool2] = body.messages
      assert.deepEqual(assistant.tool_calls, ctx.toolCalls)
      assert.deepEqual([tool1, tool2], [
        { role: 'tool', content: ctx.toolResults[0], tool_call_id: ctx.toolCalls[0].id },
        { role: 'tool', content: ctx.toolResults[1], tool_call_id: ctx.toolCalls[1].id },
      ])
      assert.equal(body.tool_choice, 'auto')
      break
    }
    case 'structured':
      assert.deepEqual(body.response_format, {
        type: 'json_schema',
        json_schema: { name: ctx.agentName, strict: true, schema: ctx.outputSchema },
      })
      break
    case 'image':
      assert.deepEqual(body.messages[1].content, [
        { type: 'text', text: ctx.user },
        { type: 'image_url', image_url: { url: ctx.imageUrl } },
        { type: 'image_url', image_url: { url: ctx.imageDataUrl } },
      ])
      break
    case 'params':
      assert.equal(body.temperature, 0.2)
      assert.equal(body.top_p, 0.9)
      assert.equal(body.max_tokens, 50)
      assert.deepEqual(body.stop, ['END'])
      assert.equal(body.seed, 7)
      break
    case 'embed':
      assert.deepEqual(body, { model: 'text-embedding-3-small', input: ['alpha', 'beta'] })
      break
    case 'models':
      assert.equal(body, undefined)
      break
    default:
      throw new Error(`unknown request check ${name}`)
  }
}

/**
 * The fixture for a provider that speaks OpenAI's format: OpenAI itself and, as configured
 * profiles of the same adapter, the OpenAI-compatible family (see openai-compatible.mjs).
 */
export function openAiFixture({ id, wireModel, basePath = '/v1', apiKey = `sk-contract-${id}` }) {
  return {
    id,
    model: `${id}/${wireModel}`,
    embedModel: 'text-embedding-3-small',
    supports: { structured: 'native', imageUrl: true, seed: true, extraFields: 'forward', embeddings: true, models: true },
    settings: (mock) => ({ baseURL: `${mock.url}${basePath}`, apiKey }),

    /** The reply, in OpenAI's wire format, for an abstract scenario. */
    render(scenario, req) {
      const stream = req.json?.stream === true
      const usage = scenario.usage && usageOf(scenario.usage)
      switch (scenario.kind) {
        case 'text':
        case 'json': {
          const content = scenario.kind === 'json' ? JSON.stringify(scenario.value) : scenario.text
          const finishReason = scenario.finish ?? 'stop'
          if (!stream) return { json: completion({ content, usage, finishReason, model: wireModel }) }
          return { sse: streamChunks({ content, usage, finishReason, model: wireModel }) }
        }
        case 'tools': {
          const toolCalls = scenario.calls.map((c) => ({ id: c.id, name: c.name, arguments: c.args }))
          if (!stream) return { json: completion({ toolCalls, usage, model: wireModel }) }
          return { sse: streamChunks({ toolCalls, usage, model: wireModel }) }
        }
        case 'cut':
          return { sse: streamChunks({ content: scenario.text }), disconnectAfter: 3 }
        case 'error': {
          const [status, fields] = ERRORS[scenario.error]
          return { error: { status, body: errorBody(scenario.message, fields) } }
        }
        case 'embedding':
          return {
            json: {
              object: 'list',
              data: scenario.vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
              model: 'text-embedding-3-small',
              usage: { prompt_tokens: scenario.usage.input, total_tokens: scenario.usage.input },
            },
          }
        case 'models':
          return { json: { object: 'list', data: scenario.ids.map((id) => ({ id, object: 'model', created: 1, owned_by: 'openai' })) } }
        default:
          throw new Error(`unknown scenario ${scenario.kind}`)
      }
    },

    /** The exact wire request each scenario must produce. */
    checkRequest(name, req, assert, ctx) {
      assert.equal(req.headers.authorization, `Bearer ${apiKey}`)
      const operation = { embed: 'embeddings', models: 'models' }[name] ?? 'chat/completions'
      assert.equal(req.path, `${basePath}/${operation}`)
      assert.equal(req.method, name === 'models' ? 'GET' : 'POST')
      checkOpenAiBody(name, req.json, assert, ctx, wireModel)
    },
  }
}

export default openAiFixture({ id: 'openai', wireModel: 'gpt-4o-mini' })

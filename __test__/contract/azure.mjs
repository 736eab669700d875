// Contract fixture: Azure OpenAI. OpenAI's wire format at per-deployment URLs
// (`/openai/deployments/{deployment}/…?api-version=…`) with an `api-key` header. Replies follow
// Azure's REST reference (2024-10-21): completions and chunks carry `content_filter_results`,
// streams open with a `prompt_filter_results` chunk, and errors use Azure's own bodies.
import { createRequire } from 'node:module'

import { checkOpenAiBody } from './openai.mjs'

const require = createRequire(import.meta.url)
const { completion, streamChunks, errorBody } = require('../../lib/testing.js')

const API_KEY = 'azure-contract-key-0123456789'
const API_VERSION = '2025-01-01-preview'
const DEPLOYMENT = 'gpt-4o-mini'
// Azure answers with the model behind the deployment, not the deployment name.
const SERVED_MODEL = 'gpt-4o-mini-2024-07-18'

const SAFE = { filtered: false, severity: 'safe' }
const choiceFilters = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE }
const promptFilters = [{ prompt_index: 0, content_filter_results: { ...choiceFilters, jailbreak: { filtered: false, detected: false } } }]

// Azure's error bodies: `code` is a string (sometimes a status number as text), `type` often null.
const ERRORS = {
  rate_limited: (message) => [429, { error: { code: '429', message } }, { 'retry-after': '6' }],
  auth: (message) => [401, { error: { code: '401', message } }],
  invalid_request: (message) => [400, errorBody(message, { type: 'invalid_request_error', param: 'messages' })],
  context_length_exceeded: (message) => [
    400,
    errorBody(message, { type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' }),
  ],
  // Azure's documented content-filter refusal of a prompt.
  content_filter: (message) => [
    400,
    {
      error: {
        message,
        type: null,
        param: 'prompt',
        code: 'content_filter',
        status: 400,
        innererror: {
          code: 'ResponsibleAIPolicyViolation',
          content_filter_result: { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: { filtered: true, severity: 'medium' } },
        },
      },
    },
  ],
  overloaded: (message) => [503, { error: { message, type: 'server_error', param: null, code: null } }],
}

const usageOf = (u) => ({
  prompt_tokens: u.input,
  completion_tokens: u.output,
  total_tokens: u.input + u.output,
  prompt_tokens_details: { audio_tokens: 0, cached_tokens: u.cached ?? 0 },
  completion_tokens_details: { audio_tokens: 0, reasoning_tokens: u.reasoning ?? 0 },
})

/** A completion as Azure returns it: OpenAI's, with filter annotations. */
function azureCompletion(options) {
  const body = completion({ ...options, model: SERVED_MODEL })
  body.choices = body.choices.map((c) => ({ ...c, content_filter_results: c.message.tool_calls ? {} : choiceFilters }))
  body.prompt_filter_results = promptFilters
  body.system_fingerprint = 'fp_a42ed5ff0c'
  return body
}

/** A chunk stream as Azure sends it: a prompt-filter chunk first, then OpenAI's chunks. */
function azureChunks(options) {
  const chunks = streamChunks({ ...options, model: SERVED_MODEL }).map((c) => ({
    ...c,
    choices: c.choices.map((choice) => ({ ...choice, content_filter_results: choice.delta.content ? choiceFilters : {} })),
  }))
  return [{ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: promptFilters }, ...chunks]
}

const deploymentPath = (deployment, operation) => `/openai/deployments/${deployment}/${operation}?api-version=${API_VERSION}`

export default {
  id: 'azure',
  model: `azure/${DEPLOYMENT}`,
  embedModel: 'azure/text-embedding-3-small',
  supports: { structured: 'native', imageUrl: true, seed: true, extraFields: 'forward', embeddings: true, models: true },
  settings: (mock) => ({ baseURL: mock.url, apiKey: API_KEY, apiVersion: API_VERSION }),

  /** The reply, in Azure's wire format, for an abstract scenario. */
  render(scenario, req) {
    const stream = req.json?.stream === true
    const usage = scenario.usage && usageOf(scenario.usage)
    switch (scenario.kind) {
      case 'text':
      case 'json': {
        const content = scenario.kind === 'json' ? JSON.stringify(scenario.value) : scenario.text
        const finishReason = scenario.finish ?? 'stop'
        if (!stream) return { json: azureCompletion({ content, usage, finishReason }) }
        return { sse: azureChunks({ content, usage, finishReason }) }
      }
      case 'tools': {
        const toolCalls = scenario.calls.map((c) => ({ id: c.id, name: c.name, arguments: c.args }))
        if (!stream) return { json: azureCompletion({ toolCalls, usage }) }
        return { sse: azureChunks({ toolCalls, usage }) }
      }
      case 'cut':
        return { sse: azureChunks({ content: scenario.text }), disconnectAfter: 4 }
      case 'error': {
        const [status, body, headers] = ERRORS[scenario.error](scenario.message)
        return { error: { status, body, headers } }
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
        // `GET /openai/models`: what the resource can deploy, with capabilities and lifecycle.
        return {
          json: {
            data: scenario.ids.map((id) => ({
              status: 'succeeded',
              capabilities: { fine_tune: false, inference: true, completion: false, chat_completion: true, embeddings: false },
              lifecycle_status: 'generally-available',
              deprecation: { inference: 1752192000 },
              id,
              created_at: 1721001600,
              object: 'model',
            })),
            object: 'list',
          },
        }
      default:
        throw new Error(`unknown scenario ${scenario.kind}`)
    }
  },

  /** The exact wire request each scenario must produce: Azure's URLs and key, OpenAI's body. */
  checkRequest(name, req, assert, ctx) {
    assert.equal(req.headers['api-key'], API_KEY)
    assert.equal(req.headers.authorization, undefined)
    const path = {
      embed: deploymentPath('text-embedding-3-small', 'embeddings'),
      models: `/openai/models?api-version=${API_VERSION}`,
    }[name] ?? deploymentPath(DEPLOYMENT, 'chat/completions')
    assert.equal(req.path, path)
    assert.equal(req.method, name === 'models' ? 'GET' : 'POST')
    checkOpenAiBody(name, req.json, assert, ctx, DEPLOYMENT)
  },
}

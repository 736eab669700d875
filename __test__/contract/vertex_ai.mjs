// Contract fixture: Gemini on Vertex AI. The same GenerateContent wire format as the Gemini API
// (see gemini.mjs) under `https://{location}-aiplatform.googleapis.com/v1/projects/{project}/
// locations/{location}/publishers/google/models/{model}:generateContent`, with an OAuth access
// token as `Authorization: Bearer`. Differences kept here: no function call ids on the wire, the
// blocked-prompt blockReasonMessage, a 401 UNAUTHENTICATED for a bad token, and embeddings
// through the text-embedding models' `:predict` (instances → predictions with statistics).

import { MODEL, GEMINI_ERRORS, renderGemini, checkGeminiBody } from './gemini.mjs'

const PROJECT = 'contract-project'
const LOCATION = 'us-central1'
const TOKEN = 'ya29.a0AcM612contract-vertex-access-token'
const BASE_PATH = `/v1/projects/${PROJECT}/locations/${LOCATION}/publishers/google`
const EMBED_MODEL = 'text-embedding-005'

const VERTEX_ERRORS = {
  ...GEMINI_ERRORS,
  rate_limited: [429, 'RESOURCE_EXHAUSTED', (m) => `Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details. (${m})`],
  auth: [401, 'UNAUTHENTICATED', (m) => `Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. (${m})`, [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'ACCESS_TOKEN_TYPE_UNSUPPORTED',
      metadata: { service: 'aiplatform.googleapis.com', method: 'google.cloud.aiplatform.v1.PredictionService.GenerateContent' },
    },
  ]],
}

export default {
  id: 'vertex_ai',
  model: `vertex_ai/${MODEL}`,
  embedModel: `vertex_ai/${EMBED_MODEL}`,
  // Vertex AI lists publisher models through Model Garden (v1beta1, another API): no model list.
  supports: { structured: 'native', imageUrl: true, seed: true, extraFields: 'reject', embeddings: true, models: false },
  settings: (mock) => ({ baseURL: `${mock.url}${BASE_PATH}`, apiKey: TOKEN, project: PROJECT, region: LOCATION }),

  render(scenario, req) {
    if (scenario?.kind === 'embedding') {
      return {
        json: {
          predictions: scenario.vectors.map((values, i) => ({
            embeddings: { statistics: { truncated: false, token_count: i === 0 ? scenario.usage.input - 2 : 2 }, values },
          })),
          metadata: { billableCharacterCount: 9 },
        },
      }
    }
    return renderGemini(scenario, req, { errors: VERTEX_ERRORS, vertex: true })
  },

  checkRequest(name, req, assert, ctx) {
    assert.equal(req.headers.authorization, `Bearer ${TOKEN}`)
    assert.equal(req.headers['x-goog-api-key'], undefined)
    assert.equal(req.method, 'POST')
    switch (name) {
      case 'stream':
        assert.equal(req.path, `${BASE_PATH}/models/${MODEL}:streamGenerateContent?alt=sse`)
        break
      case 'embed':
        assert.equal(req.path, `${BASE_PATH}/models/${EMBED_MODEL}:predict`)
        assert.deepEqual(req.json, { instances: [{ content: 'alpha' }, { content: 'beta' }] })
        return
      default:
        assert.equal(req.path, `${BASE_PATH}/models/${MODEL}:generateContent`)
    }
    checkGeminiBody(name, req.json, assert, ctx, { vertex: true })
  },
}

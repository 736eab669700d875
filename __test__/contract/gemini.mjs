// Contract fixture: the Gemini API (generativelanguage.googleapis.com, v1beta).
// Replies follow Google's API reference: GenerateContentResponse objects (candidates with content
// parts, finishReason, usageMetadata, modelVersion, responseId), `:streamGenerateContent?alt=sse`
// as one `data:` GenerateContentResponse per event and no [DONE] (the body just ends), a blocked
// prompt as a 200 with promptFeedback.blockReason and no candidates, and the google.rpc error
// envelope `{error: {code, message, status, details}}` with each kind's real status.
//
// vertex_ai.mjs reuses this file's wire helpers: Vertex AI speaks the same format under another
// URL, with bearer auth.

export const MODEL = 'gemini-2.5-flash'

let responses = 0
const responseId = () => `GmNtaPXcK9bEz7IP${String(++responses).padStart(4, '0')}`

/** A scenario's usage as usageMetadata (candidatesTokenCount excludes thoughts, as Gemini counts). */
export const usageOf = (u) =>
  u && {
    promptTokenCount: u.input,
    candidatesTokenCount: u.output - (u.reasoning ?? 0),
    totalTokenCount: u.input + u.output,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: u.input }],
    ...(u.cached !== undefined && { cachedContentTokenCount: u.cached }),
    ...(u.reasoning !== undefined && { thoughtsTokenCount: u.reasoning }),
  }

const words = (text) => text.match(/\S+\s*/g) ?? ['']

const candidate = (parts, finishReason) => ({
  content: { parts, role: 'model' },
  ...(finishReason && { finishReason }),
  index: 0,
})

// [HTTP status, google.rpc status, message, details]. The scenario's message rides along with
// Google's own wording where the wording is what tells the kinds apart (context length).
const QUOTA_DETAILS = [
  {
    '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
    violations: [
      {
        quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
        quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
        quotaDimensions: { location: 'global', model: MODEL },
        quotaValue: '10',
      },
    ],
  },
  { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }] },
  { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '13s' },
]

export const GEMINI_ERRORS = {
  rate_limited: [429, 'RESOURCE_EXHAUSTED', (m) => `You exceeded your current quota, please check your plan and billing details. (${m})`, QUOTA_DETAILS],
  // An invalid key is a 400 INVALID_ARGUMENT whose ErrorInfo reason says API_KEY_INVALID.
  auth: [400, 'INVALID_ARGUMENT', (m) => `API key not valid. Please pass a valid API key. (${m})`, [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
    { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' },
  ]],
  invalid_request: [400, 'INVALID_ARGUMENT', (m) => `* GenerateContentRequest.contents: contents is not specified (${m})`],
  context_length_exceeded: [400, 'INVALID_ARGUMENT', (m) => `The input token count (1196266) exceeds the maximum number of tokens allowed (1048576). (${m})`],
  overloaded: [503, 'UNAVAILABLE', (m) => `The model is overloaded. Please try again later. (${m})`],
}

/**
 * The reply, in Gemini's wire format, for an abstract scenario. `vertex` switches the few things
 * Vertex AI says differently (its blocked-prompt message, createTime, its 401 for a bad token).
 */
export function renderGemini(scenario, req, { model = MODEL, errors = GEMINI_ERRORS, vertex = false } = {}) {
  const stream = req.path.includes(':streamGenerateContent')
  const id = responseId()
  const meta = { modelVersion: model, responseId: id, ...(vertex && { createTime: '2025-06-01T10:00:00.000000Z' }) }
  const usage = scenario.usage && usageOf(scenario.usage)
  switch (scenario.kind) {
    case 'text':
    case 'json': {
      const text = scenario.kind === 'json' ? JSON.stringify(scenario.value) : scenario.text
      const finish = scenario.finish ?? 'STOP'
      if (!stream) return { json: { candidates: [candidate([{ text }], finish)], usageMetadata: usage, ...meta } }
      // Each event carries the new text and the running usage; the last one the finish reason.
      const tokens = words(text)
      return {
        sse: tokens.map((token, i) => {
          const last = i === tokens.length - 1
          const soFar = Math.min(i + 1, usage?.candidatesTokenCount ?? i + 1)
          return {
            candidates: [candidate([{ text: token }], last ? finish : undefined)],
            usageMetadata: last
              ? usage
              : { promptTokenCount: usage?.promptTokenCount ?? 10, candidatesTokenCount: soFar, totalTokenCount: (usage?.promptTokenCount ?? 10) + soFar },
            ...meta,
          }
        }),
        done: false,
      }
    }
    case 'tools': {
      // Newer Gemini models give each function call an id, to be echoed in its functionResponse.
      const parts = scenario.calls.map((c) => ({ functionCall: { id: c.id, name: c.name, args: c.args } }))
      if (!stream) return { json: { candidates: [candidate(parts, 'STOP')], usageMetadata: usage, ...meta } }
      return {
        sse: parts.map((part, i) => {
          const last = i === parts.length - 1
          return { candidates: [candidate([part], last ? 'STOP' : undefined)], ...(last && { usageMetadata: usage }), ...meta }
        }),
        done: false,
      }
    }
    case 'cut':
      return {
        sse: words(scenario.text).map((token) => ({ candidates: [candidate([{ text: token }])], ...meta })),
        done: false,
        disconnectAfter: 3,
      }
    case 'error': {
      if (scenario.error === 'content_filter') {
        // A blocked prompt: 200, no candidates, promptFeedback says why. Only Vertex AI adds a
        // readable blockReasonMessage; the Gemini API sends the reason and the ratings alone.
        return {
          json: {
            promptFeedback: {
              blockReason: 'SAFETY',
              ...(vertex && { blockReasonMessage: scenario.message }),
              safetyRatings: [
                { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
                { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
                { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
                { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true },
              ],
            },
            usageMetadata: { promptTokenCount: 9, totalTokenCount: 9, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 9 }] },
            ...meta,
          },
        }
      }
      const [status, rpcStatus, message, details] = errors[scenario.error]
      return {
        error: {
          status,
          body: { error: { code: status, message: message(scenario.message), status: rpcStatus, ...(details && { details }) } },
        },
      }
    }
    case 'embedding':
      return { json: { embeddings: scenario.vectors.map((values) => ({ values })) } }
    case 'models':
      return {
        json: {
          models: scenario.ids.map((id) => ({
            name: `models/${id}`,
            version: '001',
            displayName: id,
            description: `The ${id} model`,
            inputTokenLimit: 1048576,
            outputTokenLimit: 65536,
            supportedGenerationMethods: ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'],
            temperature: 1,
            topP: 0.95,
            topK: 64,
            maxTemperature: 2,
            thinking: true,
          })),
        },
      }
    default:
      throw new Error(`unknown scenario ${scenario.kind}`)
  }
}

// ---- the exact wire request -------------------------------------------------------------------

// The JSON Schemas of the suite's tools and output codec, as Gemini's OpenAPI-subset Schema:
// upper-case types, no additionalProperties.
const WEATHER_PARAMETERS = {
  type: 'OBJECT',
  properties: {
    city: { type: 'STRING', description: 'City name' },
    unit: { type: 'STRING', enum: ['c', 'f'] },
  },
  required: ['city'],
}
const TIME_PARAMETERS = { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] }
const OUTPUT_SCHEMA = {
  type: 'OBJECT',
  properties: { city: { type: 'STRING' }, tempC: { type: 'NUMBER' } },
  required: ['city', 'tempC'],
}

/**
 * Asserts the request body for each named scenario. `vertex`: no function call ids (Vertex AI
 * matches responses by name and order).
 */
export function checkGeminiBody(name, body, assert, ctx, { vertex = false } = {}) {
  const user = { role: 'user', parts: [{ text: ctx.user }] }
  const system = { parts: [{ text: ctx.system }] }
  const sampling = { temperature: ctx.temperature, maxOutputTokens: ctx.maxTokens }
  const tools = [
    {
      functionDeclarations: [
        { name: 'get_weather', description: 'Weather for a city', parameters: WEATHER_PARAMETERS },
        { name: 'get_time', description: 'Local time in a city', parameters: TIME_PARAMETERS },
      ],
    },
  ]
  const withId = (id, value) => (vertex ? value : { id, ...value })
  switch (name) {
    case 'text':
    case 'stream':
      assert.deepEqual(body, { contents: [user], systemInstruction: system, generationConfig: sampling })
      break
    case 'tools':
      assert.deepEqual(body, { contents: [user], systemInstruction: system, tools, generationConfig: sampling })
      break
    case 'tool_result': {
      const [call1, call2] = ctx.toolCalls
      assert.deepEqual(body, {
        contents: [
          user,
          {
            role: 'model',
            parts: [
              { functionCall: withId(call1.id, { name: 'get_weather', args: { city: 'Paris' } }) },
              { functionCall: withId(call2.id, { name: 'get_time', args: { city: 'Paris' } }) },
            ],
          },
          {
            role: 'user',
            parts: [
              // A JSON object result is the response itself.
              { functionResponse: withId(call1.id, { name: 'get_weather', response: JSON.parse(ctx.toolResults[0]) }) },
              { functionResponse: withId(call2.id, { name: 'get_time', response: JSON.parse(ctx.toolResults[1]) }) },
            ],
          },
        ],
        systemInstruction: system,
        tools,
        toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
        generationConfig: sampling,
      })
      break
    }
    case 'structured':
      assert.deepEqual(body, {
        contents: [user],
        systemInstruction: system,
        generationConfig: { ...sampling, responseMimeType: 'application/json', responseSchema: OUTPUT_SCHEMA },
      })
      break
    case 'image':
      assert.deepEqual(body.contents, [
        {
          role: 'user',
          parts: [
            { text: ctx.user },
            { fileData: { mimeType: 'image/png', fileUri: ctx.imageUrl } },
            { inlineData: { mimeType: 'image/png', data: ctx.imageDataUrl.split(',')[1] } },
          ],
        },
      ])
      break
    case 'params':
      assert.deepEqual(body, {
        contents: [user],
        generationConfig: { temperature: 0.2, topP: 0.9, maxOutputTokens: 50, stopSequences: ['END'], seed: 7 },
      })
      break
    default:
      throw new Error(`unknown request check ${name}`)
  }
}

const API_KEY = 'AIzaSyContract-gemini-key-000000000000'

export default {
  id: 'gemini',
  model: `gemini/${MODEL}`,
  embedModel: 'gemini/gemini-embedding-001',
  supports: { structured: 'native', imageUrl: true, seed: true, extraFields: 'reject', embeddings: true, models: true },
  // A blocked prompt is a 200 with promptFeedback.blockReason and no text to carry the marker
  // (Google documents blockReasonMessage as Vertex-only).
  wordlessErrors: ['content_filter'],
  settings: (mock) => ({ baseURL: mock.url, apiKey: API_KEY }),

  render: (scenario, req) => renderGemini(scenario, req),

  /** The exact wire request each scenario must produce. */
  checkRequest(name, req, assert, ctx) {
    // The key travels in x-goog-api-key, never in the URL or an Authorization header.
    assert.equal(req.headers['x-goog-api-key'], API_KEY)
    assert.equal(req.headers.authorization, undefined)
    assert.ok(!req.path.includes(API_KEY) && !req.path.includes('key='), req.path)
    switch (name) {
      case 'stream':
        assert.equal(req.method, 'POST')
        assert.equal(req.path, `/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`)
        break
      case 'embed':
        assert.equal(req.method, 'POST')
        assert.equal(req.path, '/v1beta/models/gemini-embedding-001:batchEmbedContents')
        assert.deepEqual(req.json, {
          requests: ['alpha', 'beta'].map((text) => ({ model: 'models/gemini-embedding-001', content: { parts: [{ text }] } })),
        })
        return
      case 'models':
        assert.equal(req.method, 'GET')
        assert.equal(req.path, '/v1beta/models?pageSize=1000')
        return
      default:
        assert.equal(req.method, 'POST')
        assert.equal(req.path, `/v1beta/models/${MODEL}:generateContent`)
    }
    checkGeminiBody(name, req.json, assert, ctx)
  },
}

// Contract fixture: Replicate predictions. A chat is a prediction of a language model:
// `POST /v1/models/{owner}/{name}/predictions` with `{ input: { prompt, system_prompt, … } }`.
// Whole answers ask for sync mode (`Prefer: wait`); here the model takes longer than that, so the
// prediction comes back `processing` and is polled at `urls.get` until it has `succeeded`.
// Streams create the prediction with `stream: true` and read its `urls.stream` as server-sent
// events (`output` tokens, then `done`, no `[DONE]`). Errors are problem details
// (`{ title, detail, status }`) or failed predictions with Replicate's `(E####)` codes.
// Replies follow Replicate's HTTP API reference and streaming guide.
import { randomBytes } from 'node:crypto'

const API_TOKEN = 'r8_contractReplicateToken0123456789'
const OWNER = 'meta'
const NAME = 'meta-llama-3-70b-instruct'
const CREATE_PATH = `/v1/models/${OWNER}/${NAME}/predictions`
const VERSION = 'fbfb20b472b2f3bdd101412a9f70a0ed4fc0ced78a77ff00970ee7a2383c575d'

// Every request the mock answered, so a check can look at the prediction that was created even
// when the last request was the poll or the stream that followed it.
let creates = []

const predictionId = () => randomBytes(13).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, 'x').slice(0, 26)
const tokenize = (text) => String(text).split(/(?=\s)/).filter((t) => t.length > 0)

/** A prediction object as every Replicate endpoint returns it. */
function prediction(req, id, fields) {
  const base = `http://${req.headers.host}`
  const created = creates.find((c) => c.id === id)
  return {
    id,
    model: `${OWNER}/${NAME}`,
    version: VERSION,
    input: created?.req.json?.input ?? {},
    logs: '',
    output: null,
    data_removed: false,
    error: null,
    status: 'starting',
    created_at: new Date().toISOString(),
    urls: {
      cancel: `${base}/v1/predictions/${id}/cancel`,
      get: `${base}/v1/predictions/${id}`,
      stream: `${base}/v1/files/bcwr-${id}`,
      web: `https://replicate.com/p/${id}`,
    },
    ...fields,
  }
}

function succeeded(req, id, text, usage) {
  return prediction(req, id, {
    status: 'succeeded',
    output: tokenize(text),
    started_at: new Date().toISOString(),
    completed_at: new Date().toISOString(),
    metrics: {
      ...(usage && { input_token_count: usage.input, output_token_count: usage.output }),
      predict_time: 0.4,
      time_to_first_token: 0.05,
      tokens_per_second: 31.5,
    },
  })
}

/** The event stream at `urls.stream`: one `output` event per token, then `done`. */
function events(text) {
  const stamp = Math.floor(Date.now() / 1000)
  const out = tokenize(text).map((token, i) => {
    const data = token.split('\n').map((line) => `data: ${line}`).join('\n')
    return `event: output\nid: ${stamp}:${i}\n${data}\n\n`
  })
  return [...out, `event: done\nid: ${stamp}:${out.length}\ndata: {}\n\n`]
}

// Platform refusals come back as problem details with an HTTP status; what the model run hit
// comes back as a failed prediction (201 in sync mode) whose `error` carries Replicate's code.
const problem = (status, title, detail, extra, headers) => ({
  error: { status, body: { title, detail, status, ...extra }, contentType: 'application/problem+json', headers },
})
const ERRORS = {
  rate_limited: (message) => problem(429, 'Request was throttled', message, {}, { 'retry-after': '7' }),
  auth: (message) => problem(401, 'Unauthenticated', message),
  invalid_request: (message) =>
    problem(422, 'Input validation failed', `- input.max_tokens: ${message}\n`, {
      invalid_fields: [{ type: 'greater_equal', field: 'input.max_tokens', description: message }],
    }),
  context_length_exceeded: (message) => `${message}: Input prompt (8705 tokens) is too long and exceeds limit of 8192`,
  content_filter: (message) => `${message}. The input or output was flagged as sensitive. (E005)`,
  overloaded: (message) => `${message}: Timeout starting prediction (E6716)`,
}

export default {
  id: 'replicate',
  model: `replicate/${OWNER}/${NAME}`,
  // Streams carry no token counts, language models take no tools or images and have no
  // structured output, and there is no uniform embeddings endpoint.
  supports: {
    structured: false,
    tools: false,
    imageUrl: false,
    seed: true,
    extraFields: 'reject',
    embeddings: false,
    models: true,
    streamUsage: false,
  },
  settings: (mock) => ({ baseURL: `${mock.url}/v1`, apiKey: API_TOKEN }),

  /** The reply, in Replicate's wire format, for an abstract scenario. */
  render(scenario, req) {
    const path = req.path.split('?')[0]
    if (req.method === 'POST' && path === CREATE_PATH) {
      const id = predictionId()
      creates.push({ id, req })
      const stream = req.json?.stream === true
      switch (scenario.kind) {
        case 'text':
        case 'json':
        case 'cut':
          // Streams start right away; sync mode gave up waiting, so the answer is polled for.
          return { status: 201, json: prediction(req, id, { status: stream ? 'starting' : 'processing' }) }
        case 'error': {
          const failure = ERRORS[scenario.error](scenario.message)
          if (typeof failure !== 'string') return failure
          return { status: 201, json: prediction(req, id, { status: 'failed', error: failure, completed_at: new Date().toISOString() }) }
        }
        default:
          throw new Error(`unknown scenario ${scenario.kind}`)
      }
    }
    const poll = path.match(/^\/v1\/predictions\/([a-z0-9]+)$/)
    if (req.method === 'GET' && poll) {
      const text = scenario.kind === 'json' ? JSON.stringify(scenario.value) : scenario.text
      return { json: succeeded(req, poll[1], text, scenario.usage) }
    }
    if (req.method === 'GET' && path.startsWith('/v1/files/bcwr-')) {
      const text = scenario.kind === 'json' ? JSON.stringify(scenario.value) : scenario.text
      if (scenario.kind === 'cut') return { sse: events(text), done: false, disconnectAfter: 3 }
      return { sse: events(text), done: false }
    }
    if (req.method === 'GET' && path === '/v1/models' && scenario.kind === 'models') {
      return {
        json: {
          next: null,
          previous: null,
          results: scenario.ids.map((id) => {
            const [owner, name] = id.split('/')
            return {
              url: `https://replicate.com/${id}`,
              owner,
              name,
              description: `The ${name} language model`,
              visibility: 'public',
              github_url: null,
              paper_url: null,
              license_url: null,
              run_count: 1200,
              cover_image_url: null,
              default_example: null,
              latest_version: null,
            }
          }),
        },
      }
    }
    return problem(404, 'Not found', 'The requested resource could not be found.')
  },

  /** The exact wire requests each scenario must produce. */
  checkRequest(name, req, assert, ctx) {
    assert.equal(req.headers.authorization, `Bearer ${API_TOKEN}`)
    const created = creates.at(-1)?.req
    const input = created?.json?.input
    switch (name) {
      case 'text':
        // The last request polled the prediction the chat created.
        assert.equal(req.method, 'GET')
        assert.equal(req.path, `/v1/predictions/${creates.at(-1).id}`)
        assert.equal(created.method, 'POST')
        assert.equal(created.path, CREATE_PATH)
        assert.equal(created.headers.prefer, 'wait')
        assert.equal(created.headers.authorization, `Bearer ${API_TOKEN}`)
        assert.deepEqual(created.json, {
          input: { prompt: ctx.user, system_prompt: ctx.system, max_tokens: ctx.maxTokens, temperature: ctx.temperature },
        })
        break
      case 'stream':
        // The last request read the stream of the prediction the chat created.
        assert.equal(req.method, 'GET')
        assert.equal(req.path, `/v1/files/bcwr-${creates.at(-1).id}`)
        assert.equal(req.headers.accept, 'text/event-stream')
        assert.equal(req.headers['cache-control'], 'no-store')
        assert.equal(created.path, CREATE_PATH)
        assert.equal(created.headers.prefer, undefined)
        assert.deepEqual(created.json, {
          input: { prompt: ctx.user, system_prompt: ctx.system, max_tokens: ctx.maxTokens, temperature: ctx.temperature },
          stream: true,
        })
        break
      case 'params':
        assert.equal(created.path, CREATE_PATH)
        assert.deepEqual(input, { prompt: ctx.user, temperature: 0.2, top_p: 0.9, max_tokens: 50, stop_sequences: 'END', seed: 7 })
        break
      case 'models':
        assert.equal(req.method, 'GET')
        assert.equal(req.path, '/v1/models')
        break
      default:
        // tools, tool_result, structured, image and embed are refused before anything is sent.
        throw new Error(`unknown request check ${name}`)
    }
  },
}

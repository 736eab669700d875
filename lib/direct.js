'use strict'

// One provider by name, with OpenAI-shaped requests and answers: the seed "AI Router" surface
// (create_provider('gpt', …)) over the same native adapters the JAF providers use.

const { invalidInput } = require('./errors.js')
const { providerId } = require('./aliases.js')
const native = require('./native.js')
const { sharedTransport, wireModel } = require('./model-routing.js')
const { normalizeParameters } = require('./parameters.js')
const { capabilitiesOf } = require('./capabilities.js')
const { displayUrl } = require('./secrets.js')
const v = require('./validate.js')

/** `{ signal }` call options. */
function callOptions(opts, path) {
  if (v.optObject(opts, path) === undefined) return {}
  return { signal: v.optSignal(v.read(opts, 'signal', `${path}.signal`), `${path}.signal`) }
}

/** A request object with a model: checked as JSON data, then serialised once. */
function requestBody(id, request, extra) {
  v.object(request, 'request')
  const model = v.read(request, 'model', 'request.model')
  v.string(model, 'request.model', { nonEmpty: true })
  v.jsonValue(request, 'request')
  return { model, body: v.jsonText({ ...request, model: wireModel(id, model), ...extra }, 'request') }
}

/** A JSON payload for a provider endpoint, or `undefined`. */
const payloadText = (payload) => (payload === undefined ? undefined : v.jsonText(payload, 'payload'))

function endpointPath(method, path) {
  v.string(method, 'method', { nonEmpty: true, maxBytes: 32, headerSafe: true })
  v.string(path, 'path', { headerSafe: true })
  if (!path.startsWith('/')) throw invalidInput('path must start with "/"')
}

/**
 * One provider. `settings`: `{ apiKey, baseURL, headers, apiVersion, region, project,
 * awsAccessKeyId, awsSecretAccessKey, awsSessionToken, appName, appUrl, credentials }`;
 * `options`: timeouts, retries, proxy.
 */
function createProvider(name, settings, options) {
  try {
    v.string(name, 'name', { nonEmpty: true, maxBytes: 256 })
    const id = providerId(name)
    return makeProvider(id, native.providerSettings(settings, 'settings'), sharedTransport(options, 'options'))
  } catch (err) {
    throw v.typed(err, 'createProvider')
  }
}

function makeProvider(id, settings, transport) {
  const profile = native.listProviders().find((p) => p.id === id)
  const clientNow = native.clientSource(id, settings, transport)
  const call = (method, model, signal, ...args) => native.callNative(async (h) => (await clientNow())[method](...args, h), { provider: id, model, signal })
  const fetchJson = async (method, ...args) => JSON.parse(await native.callNative(async () => (await clientNow())[method](...args), { provider: id, model: '' }))

  /** An OpenAI request from seed-style arguments: a prompt, a system prompt, loose parameters. */
  const promptRequest = (model, prompt, opts) => {
    v.string(prompt, 'prompt', { maxBytes: v.LIMITS.bodyBytes })
    if (v.optObject(opts, 'opts') === undefined) return { model, messages: [{ role: 'user', content: prompt }] }
    const systemPrompt = v.optString(v.read(opts, 'systemPrompt', 'opts.systemPrompt'), 'opts.systemPrompt', { maxBytes: v.LIMITS.bodyBytes })
    const parameters = v.optObject(v.read(opts, 'parameters', 'opts.parameters'), 'opts.parameters')
    return {
      model,
      messages: [...(systemPrompt ? [{ role: 'system', content: systemPrompt }] : []), { role: 'user', content: prompt }],
      ...normalizeParameters(parameters, id),
    }
  }

  const provider = {
    id,

    /** One prompt in, `{ text, finishReason, usage, raw }` out. */
    async execute(model, prompt, opts) {
      const raw = await provider.chat(promptRequest(model, prompt, opts), opts)
      const choice = raw.choices[0]
      return { text: choice.message.content ?? '', finishReason: choice.finish_reason, usage: raw.usage, raw }
    },

    /** One prompt in, the answer's text pieces out as they arrive. */
    async *streamExecute(model, prompt, opts) {
      for await (const chunk of provider.stream(promptRequest(model, prompt, opts), opts)) {
        const text = chunk.choices?.[0]?.delta?.content
        if (text) yield text
      }
    },

    /** Models whose id, name or description mentions `query`, optionally from one vendor (`openai/…`). */
    async searchModels(filter) {
      v.optObject(filter, 'filter')
      const query = (filter && v.optString(v.read(filter, 'query', 'filter.query'), 'filter.query')) ?? ''
      const vendor = filter && v.optString(v.read(filter, 'provider', 'filter.provider'), 'filter.provider')
      const needle = query.toLowerCase()
      return (await provider.listModels()).filter((m) => {
        const text = [m.id, m.name, m.description].filter((s) => typeof s === 'string').join(' ').toLowerCase()
        return text.includes(needle) && (!vendor || String(m.id).startsWith(`${vendor}/`))
      })
    },

    /** Whether the configuration reaches the provider: credentials present and a cheap call answered. */
    async validateConfig() {
      try {
        if (id === 'llamacpp') await provider.health()
        else await provider.listModels()
        return { valid: true }
      } catch (error) {
        return { valid: false, error: v.typed(error, 'validateConfig') }
      }
    },

    /** What this provider is and can do. */
    getInfo() {
      return { id, adapter: profile.adapter, baseURL: displayUrl(settings.baseURL ?? resolveBase(profile)), capabilities: capabilitiesOf(id) }
    },

    /** A chat completion (OpenAI's request and response shapes). */
    async chat(request, opts) {
      const { signal } = callOptions(opts, 'opts')
      const { model, body } = requestBody(id, request)
      return JSON.parse(await call('complete', model, signal, body, model))
    },

    /** A streamed chat completion: an async iterable of OpenAI `chat.completion.chunk`s. */
    async *stream(request, opts) {
      const { signal } = callOptions(opts, 'opts')
      const { model, body } = requestBody(id, request, { stream: true, stream_options: { include_usage: true } })
      yield* native.streamNative(async (h) => (await clientNow()).stream(body, model, h), { provider: id, model, signal })
    },

    /** Embeddings for `input` (a string or strings), in OpenAI's shape. */
    async embed(request, opts) {
      const { signal } = callOptions(opts, 'opts')
      const { model, body } = requestBody(id, request)
      return JSON.parse(await call('embed', model, signal, body, model))
    },

    /** The provider's models: `[{ id, … }]`, each with what the provider says of it. */
    async listModels() {
      return (await fetchJson('listModels')).data
    },

    /** Any other JSON endpoint of the provider, with the same credentials, retries and errors. */
    async request(method, path, payload) {
      endpointPath(method, path)
      return fetchJson('request', method, path, payloadText(payload))
    },

    /** An endpoint that streams JSON values (`ndjson` or `sse`): an async iterable of them. */
    async *requestStream(method, path, payload, framing = 'ndjson') {
      endpointPath(method, path)
      v.optOneOf(framing, 'framing', ['ndjson', 'sse'])
      const text = payloadText(payload)
      yield* native.streamNative(async () => (await clientNow()).requestStream(method, path, text, framing), { provider: id, model: '' })
    },
  }
  Object.assign(provider, EXTRAS[id]?.(provider, { settings, transport }))
  return v.typedMethods(provider, id)
}

function resolveBase(profile) {
  for (const name of profile.baseUrlEnv) if (process.env[name]?.trim()) return process.env[name]
  return profile.defaultBaseUrl ?? null
}

/** Endpoints only some providers have. */
const EXTRAS = {
  openrouter: (provider) => ({
    /** `{ credits, totalCredits, totalUsage }` in USD. */
    async getCredits() {
      const { data } = await provider.request('GET', '/credits')
      return { credits: data.total_credits - data.total_usage, totalCredits: data.total_credits, totalUsage: data.total_usage }
    },
  }),
  llamacpp: (provider, { settings, transport }) => {
    // llama-server serves /health and /props at its root, beside the OpenAI routes under /v1.
    let root
    const rootClient = () => {
      if (!root) {
        const base = (settings.baseURL ?? resolveBase(native.listProviders().find((p) => p.id === 'llamacpp'))).replace(/\/v1\/?$/, '')
        root = makeProvider('llamacpp', { ...settings, baseURL: base }, transport)
      }
      return root
    }
    return {
      /** `{ status: 'ok' }` when the server is ready; rejects with status 503 while it loads. */
      health: () => rootClient().request('GET', '/health'),
      /** The server's settings: the loaded model, context size, chat template, … */
      props: () => rootClient().request('GET', '/props'),
    }
  },
  ollama: (provider) => ({
    /** Download a model; yields Ollama's progress objects as they arrive. */
    pullModel: (model) => provider.requestStream('POST', '/api/pull', { model: v.string(model, 'model', { nonEmpty: true }), stream: true }, 'ndjson'),
    deleteModel: (model) => provider.request('DELETE', '/api/delete', { model: v.string(model, 'model', { nonEmpty: true }) }),
  }),
}

module.exports = { createProvider }

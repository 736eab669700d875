'use strict'

// One provider by name, with OpenAI-shaped requests and answers: the seed "AI Router" surface
// (create_provider('gpt', …)) over the same native adapters the JAF providers use.

const { invalidInput } = require('./errors.js')
const { providerId } = require('./aliases.js')
const { nativeClient, linkSignal, toSwitchyardError } = require('./provider.js')
const { providerClientOptions, resolveModel } = require('./router.js')
const { normalizeParameters } = require('./parameters.js')
const { capabilitiesOf } = require('./capabilities.js')
const { vertexCredentials } = require('./google-auth.js')
const native = require('../index.js')

async function callNative(fn, provider, model, signal) {
  const link = linkSignal(signal, provider, model)
  try {
    return await fn(link.handle)
  } catch (err) {
    throw toSwitchyardError(err)
  } finally {
    link.unlink()
  }
}

/** Every value of a native stream, batch by batch; stopping early closes the upstream request. */
async function* drain(stream, signal) {
  const onAbort = () => stream.abort()
  signal?.addEventListener('abort', onAbort, { once: true })
  let complete = false
  try {
    for (let batch = await stream.next(); batch !== null; batch = await stream.next()) yield* JSON.parse(batch)
    complete = true
  } catch (err) {
    throw toSwitchyardError(err)
  } finally {
    signal?.removeEventListener('abort', onAbort)
    if (!complete) stream.abort()
  }
}

/**
 * One provider. `settings`: `{ apiKey, baseURL, headers, apiVersion, region, project,
 * awsAccessKeyId, awsSecretAccessKey, awsSessionToken }`; `options`: timeouts, retries, proxy.
 */
function createProvider(name, settings = {}, options = {}) {
  const id = providerId(name)
  const profile = native.listProviders().find((p) => p.id === id)
  const clientSettings = withAppHeaders(id, settings)
  const makeClient = (s) => nativeClient(id, providerClientOptions(s, options))
  // Decided once: a Vertex AI service account's token expires, so that client is looked up per call.
  const vertex = id === 'vertex_ai' ? vertexCredentials(clientSettings, makeClient) : null
  const client = vertex ? refreshingClient(vertex.clientNow) : makeClient(clientSettings)
  const wireModel = (model) => {
    if (typeof model !== 'string' || model.length === 0) throw invalidInput('the request needs a model', { provider: id })
    return model.startsWith(`${id}/`) ? model.slice(id.length + 1) : model
  }
  const body = (request, extra) => JSON.stringify({ ...request, model: wireModel(request.model), ...extra })

  /** An OpenAI request from seed-style arguments: a prompt, a system prompt, loose parameters. */
  const promptRequest = (model, prompt, { systemPrompt, parameters } = {}) => ({
    model,
    messages: [...(systemPrompt ? [{ role: 'system', content: systemPrompt }] : []), { role: 'user', content: prompt }],
    ...normalizeParameters(parameters, id),
  })

  const provider = {
    id,

    /** One prompt in, `{ text, finishReason, usage, raw }` out. */
    async execute(model, prompt, opts = {}) {
      const raw = await provider.chat(promptRequest(model, prompt, opts), opts)
      const choice = raw.choices[0]
      return { text: choice.message.content ?? '', finishReason: choice.finish_reason, usage: raw.usage, raw }
    },

    /** One prompt in, the answer's text pieces out as they arrive. */
    async *streamExecute(model, prompt, opts = {}) {
      for await (const chunk of provider.stream(promptRequest(model, prompt, opts), opts)) {
        const text = chunk.choices?.[0]?.delta?.content
        if (text) yield text
      }
    },

    /** Models whose id, name or description mentions `query`, optionally from one vendor (`openai/…`). */
    async searchModels({ query = '', provider: vendor } = {}) {
      const needle = query.toLowerCase()
      return (await provider.listModels()).filter((m) => {
        const text = [m.id, m.name, m.description].filter(Boolean).join(' ').toLowerCase()
        return text.includes(needle) && (!vendor || m.id.startsWith(`${vendor}/`))
      })
    },

    /** Whether the configuration reaches the provider: credentials present and a cheap call answered. */
    async validateConfig() {
      try {
        if (id === 'llamacpp') await provider.health()
        else await provider.listModels()
        return { valid: true }
      } catch (error) {
        return { valid: false, error: toSwitchyardError(error) }
      }
    },

    /** What this provider is and can do. */
    getInfo() {
      return {
        id,
        adapter: profile.adapter,
        baseURL: settings.baseURL ?? resolveBase(profile),
        capabilities: capabilitiesOf(id),
      }
    },

    /** A chat completion (OpenAI's request and response shapes). */
    async chat(request, { signal } = {}) {
      const text = await callNative((h) => client.complete(body(request), request.model, h), id, request.model, signal)
      return JSON.parse(text)
    },

    /** A streamed chat completion: an async iterable of OpenAI `chat.completion.chunk`s. */
    async *stream(request, { signal } = {}) {
      const json = body(request, { stream: true, stream_options: { include_usage: true } })
      const stream = await callNative((h) => client.stream(json, request.model, h), id, request.model, signal)
      yield* drain(stream, signal)
    },

    /** Embeddings for `input` (a string or strings), in OpenAI's shape. */
    async embed(request, { signal } = {}) {
      const text = await callNative((h) => client.embed(body(request), request.model, h), id, request.model, signal)
      return JSON.parse(text)
    },

    /** The provider's models: `[{ id, … }]`, each with what the provider says of it. */
    async listModels() {
      const text = await callNative(() => client.listModels(), id, '', undefined)
      return JSON.parse(text).data
    },

    /** Any other JSON endpoint of the provider, with the same credentials, retries and errors. */
    async request(method, path, payload) {
      const text = await callNative(
        () => client.request(method, path, payload === undefined ? undefined : JSON.stringify(payload)),
        id,
        '',
        undefined,
      )
      return JSON.parse(text)
    },

    /** An endpoint that streams JSON values (`ndjson` or `sse`): an async iterable of them. */
    async *requestStream(method, path, payload, framing = 'ndjson') {
      const stream = await callNative(
        () => client.requestStream(method, path, payload === undefined ? undefined : JSON.stringify(payload), framing),
        id,
        '',
        undefined,
      )
      yield* drain(stream)
    },
  }
  Object.assign(provider, EXTRAS[id]?.(provider, { settings, options }))
  return provider
}

/** A native client's face whose calls first await `clientNow()` for the current client. */
function refreshingClient(clientNow) {
  const via =
    (method) =>
    async (...args) =>
      (await clientNow())[method](...args)
  return {
    complete: via('complete'),
    stream: via('stream'),
    embed: via('embed'),
    listModels: via('listModels'),
    request: via('request'),
    requestStream: via('requestStream'),
  }
}

function resolveBase(profile) {
  for (const name of profile.baseUrlEnv) if (process.env[name]?.trim()) return process.env[name]
  return profile.defaultBaseUrl ?? null
}

/** OpenRouter ranks apps by these headers (seed 003's `app_name` / `app_url`). */
function withAppHeaders(id, settings) {
  if (id !== 'openrouter' || !(settings.appName || settings.appUrl)) return settings
  const headers = { ...settings.headers }
  if (settings.appUrl) headers['HTTP-Referer'] = settings.appUrl
  if (settings.appName) headers['X-Title'] = settings.appName
  return { ...settings, headers }
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
  llamacpp: (provider, { settings, options }) => {
    // llama-server serves /health and /props at its root, beside the OpenAI routes under /v1.
    let root
    const rootClient = () => {
      if (!root) {
        const base = (settings.baseURL ?? resolveBase(native.listProviders().find((p) => p.id === 'llamacpp'))).replace(/\/v1\/?$/, '')
        root = createProvider('llamacpp', { ...settings, baseURL: base }, options)
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
    pullModel: (model) => provider.requestStream('POST', '/api/pull', { model, stream: true }, 'ndjson'),
    deleteModel: (model) => provider.request('DELETE', '/api/delete', { model }),
  }),
}

module.exports = { createProvider }

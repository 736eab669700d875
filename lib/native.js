'use strict'

// The one module that talks to the native addon. It builds clients from checked settings, links
// AbortSignals, turns native failures (plain data) into SwitchyardErrors, drains streams and
// asks the core for usage and cost. The public faces (makeLiteLLMProvider, makeModelProvider,
// createProvider, ProviderManager) are thin layers over it.

const binding = require('./binding.js')
const { SwitchyardError, invalidInput } = require('./errors.js')
const { registerSecret } = require('./secrets.js')
const v = require('./validate.js')

/** Whether a native result is a failure (every native call resolves; failures are data). */
const isFailure = (value) =>
  value !== null && typeof value === 'object' && typeof value.kind === 'string' && !(value instanceof binding.NativeStream)

/** A native result's value; a failure becomes the SwitchyardError it describes. */
function settle(value, extra) {
  if (!isFailure(value)) return value
  throw new SwitchyardError({ ...value, ...extra })
}

// napi's own conversion messages quote the value they could not convert: keep only the field.
function conversionError(err) {
  if (err instanceof SwitchyardError) return err
  const field = /\bon ([\w.]+)\s*$/.exec(String(err?.message ?? ''))?.[1]
  return invalidInput(`${field ?? 'an argument'} has a type the native layer cannot take`)
}

/** A synchronous native call's value. */
function nativeSync(fn) {
  let value
  try {
    value = fn()
  } catch (err) {
    throw conversionError(err)
  }
  return settle(value)
}

/** An asynchronous native call's value. */
async function nativeAsync(fn) {
  let value
  try {
    value = await fn()
  } catch (err) {
    throw conversionError(err)
  }
  return settle(value)
}

/** Links an AbortSignal to a native AbortHandle for the life of one call. */
function linkSignal(signal, provider, model) {
  if (!signal) return { handle: undefined, onAbort: () => {}, unlink: () => {} }
  if (v.read(signal, 'aborted', 'signal.aborted')) throw new SwitchyardError({ kind: 'aborted', message: 'Request was aborted.', provider, model })
  const handle = new binding.AbortHandle()
  const listeners = [() => handle.abort()]
  const fire = () => listeners.forEach((l) => l())
  v.callUser(() => signal.addEventListener('abort', fire, { once: true }), [], 'signal.addEventListener')
  return {
    handle,
    onAbort: (listener) => listeners.push(listener),
    unlink: () => {
      try {
        signal.removeEventListener('abort', fire)
      } catch {
        // A signal that cannot unlink only keeps a spent listener.
      }
    },
  }
}

/** One native call under `signal`: `start(abortHandle)` returns the native promise. */
async function callNative(start, { provider, model, signal }) {
  const link = linkSignal(signal, provider, model)
  try {
    return await nativeAsync(() => start(link.handle))
  } finally {
    link.unlink()
  }
}

/** What a stream has handed to its consumer, reported with every stream error. */
const newDelivered = () => ({ chunks: 0, contentChars: 0, toolCallDeltas: 0, finishReason: null })

function count(delivered, chunk) {
  delivered.chunks++
  const choice = chunk?.choices?.[0]
  const delta = choice?.delta
  if (typeof delta?.content === 'string') delivered.contentChars += delta.content.length
  if (Array.isArray(delta?.tool_calls)) delivered.toolCallDeltas += delta.tool_calls.length
  if (choice?.finish_reason) delivered.finishReason = choice.finish_reason
}

/**
 * Opens a stream under `signal` and yields its chunks in batches (arrays), as the core hands
 * them over: a consumer pays one async step per batch, not per chunk. `progress` (optional)
 * collects `delivered`, the first chunk (`head`: the answer's id and model) and the last `usage`
 * seen. Stopping early, an abort or an error closes the upstream request; an error carries what
 * was delivered.
 */
async function* streamBatches(start, { provider, model, signal }, progress = { delivered: newDelivered(), usage: null }) {
  const link = linkSignal(signal, provider, model)
  let stream
  let complete = false
  try {
    stream = await nativeAsync(() => start(link.handle))
    progress.stream = stream
    link.onAbort(() => stream.abort())
    for (let batch = settle(await stream.next()); batch !== null; batch = settle(await stream.next())) {
      const chunks = JSON.parse(batch)
      progress.head ??= chunks[0]
      for (const chunk of chunks) {
        count(progress.delivered, chunk)
        if (chunk?.usage) progress.usage = chunk.usage
      }
      yield chunks
    }
    complete = true
  } catch (err) {
    throw Object.assign(v.typed(err, `${provider} stream`), {
      delivered: { ...progress.delivered },
      ...(progress.usage && { usage: progress.usage }),
    })
  } finally {
    if (!complete) stream?.abort()
    link.unlink()
  }
}

/** [`streamBatches`], chunk by chunk. */
async function* streamNative(start, label, progress) {
  for await (const chunks of streamBatches(start, label, progress)) yield* chunks
}

// ---- clients -------------------------------------------------------------------------------

/** The transport options every factory takes: timeouts, retries. */
function transportOptions(options, path) {
  return {
    timeoutMs: v.optNumber(v.read(options, 'timeoutMs', `${path}.timeoutMs`), `${path}.timeoutMs`, { min: 1, max: 2 ** 31 - 1, integer: true }),
    connectTimeoutMs: v.optNumber(v.read(options, 'connectTimeoutMs', `${path}.connectTimeoutMs`), `${path}.connectTimeoutMs`, {
      min: 1,
      max: 2 ** 31 - 1,
      integer: true,
    }),
    maxRetries: v.optNumber(v.read(options, 'maxRetries', `${path}.maxRetries`), `${path}.maxRetries`, { min: 0, max: 100, integer: true }),
  }
}

/** `{ httpProxy, httpsProxy, noProxy }` as the native client takes them. */
function proxyOptions(proxyConfig, path) {
  if (v.optObject(proxyConfig, path) === undefined) return {}
  const field = (key) => v.read(proxyConfig, key, `${path}.${key}`)
  return {
    httpProxy: v.optHttpUrl(field('httpProxy'), `${path}.httpProxy`),
    httpsProxy: v.optHttpUrl(field('httpsProxy'), `${path}.httpsProxy`),
    noProxy: v.optString(field('noProxy'), `${path}.noProxy`, { headerSafe: true }),
  }
}

const SETTING_STRINGS = ['apiVersion', 'region', 'project', 'awsAccessKeyId', 'awsSecretAccessKey', 'awsSessionToken', 'appName', 'appUrl']

/**
 * A provider's settings, checked: `{ apiKey, baseURL, headers, apiVersion, region, project,
 * awsAccessKeyId, awsSecretAccessKey, awsSessionToken, appName, appUrl, credentials }`.
 */
function providerSettings(settings, path) {
  if (v.optObject(settings, path) === undefined) return {}
  const field = (key) => v.read(settings, key, `${path}.${key}`)
  const out = {
    apiKey: v.optString(field('apiKey'), `${path}.apiKey`, { headerSafe: true }),
    baseURL: v.optHttpUrl(field('baseURL'), `${path}.baseURL`),
    headers: field('headers'),
    credentials: field('credentials'),
  }
  v.optHeaders(out.headers, `${path}.headers`)
  for (const key of SETTING_STRINGS) out[key] = v.optString(field(key), `${path}.${key}`, { headerSafe: true })
  if (typeof out.credentials === 'string') v.string(out.credentials, `${path}.credentials`, { maxBytes: 256 * 1024 })
  else if (v.isObject(out.credentials, `${path}.credentials`)) out.credentials = serviceAccountFields(out.credentials, `${path}.credentials`)
  else if (out.credentials !== undefined && out.credentials !== null) {
    throw invalidInput(`${path}.credentials must be a service-account object, JSON text or a file path, got ${v.typeOf(out.credentials)}`)
  }
  return out
}

const SERVICE_ACCOUNT_FIELDS = ['type', 'client_email', 'private_key', 'private_key_id', 'project_id', 'token_uri']

/** The fields of a service-account object that are used, read once (google-auth checks them). */
function serviceAccountFields(doc, path) {
  return Object.fromEntries(SERVICE_ACCOUNT_FIELDS.map((key) => [key, v.read(doc, key, `${path}.${key}`)]))
}

/** OpenRouter ranks apps by these headers (seed 003's `app_name` / `app_url`). */
function appHeaders(id, settings) {
  if (id !== 'openrouter' || !(settings.appName || settings.appUrl)) return settings.headers
  return {
    ...settings.headers,
    ...(settings.appUrl && { 'HTTP-Referer': settings.appUrl }),
    ...(settings.appName && { 'X-Title': settings.appName }),
  }
}

/** A native client for provider `id` (or `litellm`) from checked settings and options. */
function createClient(id, settings, transport) {
  for (const secret of [settings.apiKey, settings.awsSecretAccessKey, settings.awsSessionToken]) registerSecret(secret)
  const options = {
    baseUrl: settings.baseURL,
    apiKey: settings.apiKey,
    headers: v.optHeaders(appHeaders(id, settings), 'headers'),
    apiVersion: settings.apiVersion,
    region: settings.region,
    project: settings.project,
    awsAccessKeyId: settings.awsAccessKeyId,
    awsSecretAccessKey: settings.awsSecretAccessKey,
    awsSessionToken: settings.awsSessionToken,
    ...transport,
  }
  for (const header of options.headers ?? []) if (/auth|key|token|secret/i.test(header.name)) registerSecret(header.value)
  return nativeSync(() => binding.createClient(id, options))
}

/**
 * The client for provider `id`: `() => client`, or for Vertex AI with a service account
 * `() => Promise<client>` whose token is refreshed before it expires.
 */
function clientSource(id, settings, transport) {
  if (id === 'vertex_ai') {
    // Loaded only for Vertex AI: it reads key files.
    const { vertexCredentials } = require('./google-auth.js')
    const vertex = vertexCredentials(settings, (s) => createClient(id, s, transport))
    if (vertex) return vertex.clientNow
  }
  const client = createClient(id, settings, transport)
  return () => client
}

// ---- the rest of the native surface ----------------------------------------------------------

/** A native router from LiteLLM-shaped config JSON and its transport settings. */
function createRouter(configJson, transport) {
  return nativeSync(() => binding.createRouter(configJson, transport))
}

/** Where a model name leads: `{ provider, model, baseURL, hasApiKey, apiKeyEnv, baseURLEnv }`. */
function resolveModel(model) {
  v.string(model, 'model', { nonEmpty: true })
  const { baseUrl, baseUrlEnv, ...rest } = nativeSync(() => binding.resolveModel(model))
  return { ...rest, baseURL: baseUrl ?? null, baseURLEnv: baseUrlEnv }
}

/** The provider id a name or alias stands for, from the core's registry. */
const providerId = (name) => nativeSync(() => binding.providerId(name))

let providers
/** Every provider id and its defaults (from the core's registry). */
const listProviders = () => (providers ??= Object.freeze(binding.listProviders().map(Object.freeze)))

/** A price as the core takes it, checked: USD per million tokens. */
function price(value, path) {
  if (v.optObject(value, path) === undefined) return undefined
  const rate = (key, required) => {
    const at = `${path}.${key}`
    const r = v.optNumber(v.read(value, key, at), at, { min: 0 })
    if (required && r === undefined) throw invalidInput(`${at} must be a finite number from 0, got undefined`)
    return r
  }
  return { input: rate('input', true), output: rate('output', true), cachedInput: rate('cachedInput'), reasoning: rate('reasoning') }
}

/**
 * The usage and cost of one call, computed by the core: the upstream's counts, or an estimate
 * from what was sent and delivered, priced at `price` or the model's list price.
 */
function usageReport(model, rawUsage, requestChars, deliveredChars, customPrice) {
  let usageJson
  try {
    usageJson = rawUsage ? JSON.stringify(rawUsage) : undefined
  } catch {
    usageJson = undefined // reported as an estimate, which says so
  }
  const r = nativeSync(() => binding.usageReport({ model, usageJson, requestChars, deliveredChars, price: customPrice }))
  const usage = { prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.totalTokens }
  if (r.cachedTokens > 0) usage.prompt_tokens_details = { cached_tokens: r.cachedTokens }
  if (r.reasoningTokens > 0) usage.completion_tokens_details = { reasoning_tokens: r.reasoningTokens }
  return { usage, estimated: r.estimated, cost: r.cost ?? null }
}

/** List-price cost in USD of a call to `model`, or `null` when the model has no known price. */
function estimateCost(model, promptTokens, completionTokens, cachedTokens) {
  v.string(model, 'model')
  const count = (value, path) => v.optNumber(value, path, { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? 0
  return nativeSync(() =>
    binding.estimateCost(model, count(promptTokens, 'promptTokens'), count(completionTokens, 'completionTokens'), count(cachedTokens, 'cachedTokens')),
  )
}

module.exports = {
  nativeAsync,
  callNative,
  streamBatches,
  streamNative,
  newDelivered,
  transportOptions,
  proxyOptions,
  providerSettings,
  createClient,
  clientSource,
  createRouter,
  resolveModel,
  providerId,
  listProviders,
  price,
  usageReport,
  estimateCost,
}

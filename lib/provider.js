'use strict'

// The JAF `ModelProvider` face of the native client: request building in JS (zod schemas and
// instructions live here), everything on the wire in Rust. One boundary crossing per call, one
// per stream batch.

const native = require('../index.js')
const { SwitchyardError, invalidInput } = require('./errors.js')
const { buildChatRequest } = require('./request.js')

const PROVIDER_LABEL = 'litellm'

const NATIVE_ERROR_MARKER = 'SWITCHYARD_ERROR:'

/** Turn a native rejection (a marked JSON payload in the message) into a `SwitchyardError`. */
function toSwitchyardError(err, extra) {
  if (err instanceof SwitchyardError) return Object.assign(err, extra)
  const message = err?.message
  if (typeof message === 'string' && message.startsWith(NATIVE_ERROR_MARKER)) {
    return new SwitchyardError({ ...JSON.parse(message.slice(NATIVE_ERROR_MARKER.length)), ...extra })
  }
  return err
}

function headerList(defaultHeaders) {
  if (!defaultHeaders) return undefined
  return Object.entries(defaultHeaders).map(([name, value]) => ({
    name,
    value: value === null || value === undefined ? undefined : String(value),
  }))
}

function checkBaseURL(baseURL) {
  try {
    const url = new URL(baseURL)
    if (url.protocol === 'http:' || url.protocol === 'https:') return
  } catch {
    // Reported below.
  }
  throw invalidInput(`baseURL must be an absolute http(s) URL, got ${JSON.stringify(String(baseURL))}`, {
    provider: PROVIDER_LABEL,
  })
}

/** Links an AbortSignal to a native AbortHandle for the life of one call. */
function linkSignal(signal, provider, model) {
  if (!signal) return { handle: undefined, onAbort: () => {}, unlink: () => {} }
  if (signal.aborted) {
    throw new SwitchyardError({ kind: 'aborted', message: 'Request was aborted.', provider, model })
  }
  const handle = new native.AbortHandle()
  const listeners = [() => handle.abort()]
  const fire = () => listeners.forEach((l) => l())
  signal.addEventListener('abort', fire, { once: true })
  return {
    handle,
    onAbort: (listener) => listeners.push(listener),
    unlink: () => signal.removeEventListener('abort', fire),
  }
}

function usageOf(raw) {
  if (!raw) return null
  return {
    prompt_tokens: raw.prompt_tokens ?? 0,
    completion_tokens: raw.completion_tokens ?? 0,
    total_tokens: raw.total_tokens ?? (raw.prompt_tokens ?? 0) + (raw.completion_tokens ?? 0),
  }
}

function costOf(model, usage, pricing) {
  if (!usage) return null
  const price = pricing?.[model]
  if (price) {
    return (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1_000_000
  }
  return native.estimateCost(model, usage.prompt_tokens, usage.completion_tokens, null)
}

/**
 * Calls `onUsage` once per call, on every exit path. When a stream ends before the upstream
 * reported usage (abort, error), the counts are estimated (≈4 characters a token) and marked so.
 */
function makeReporter(onUsage, pricing) {
  if (!onUsage) return undefined
  return (report) => {
    let usage = usageOf(report.rawUsage)
    let estimated = false
    if (!usage) {
      const prompt = Math.ceil(report.requestChars / 4)
      const completion = Math.ceil((report.delivered?.contentChars ?? 0) / 4)
      usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
      estimated = true
    }
    const event = {
      provider: report.provider,
      model: report.model,
      stream: report.stream,
      outcome: report.outcome,
      usage,
      estimated,
      cost: costOf(report.model, usage, pricing),
      durationMs: performance.now() - report.started,
      ...(report.delivered && { delivered: report.delivered }),
      ...(report.error && { error: report.error }),
    }
    try {
      onUsage(event)
    } catch (err) {
      process.emitWarning(`switchyard: onUsage threw: ${err?.message ?? err}`)
    }
  }
}

const outcomeOf = (err) => (err?.kind === 'aborted' ? 'aborted' : 'error')

/** The native client options shared by every provider: timeouts, retries, proxy. */
function transportOptions(options, proxyConfig) {
  return {
    timeoutMs: options.timeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
    maxRetries: options.maxRetries,
    httpProxy: proxyConfig?.httpProxy,
    httpsProxy: proxyConfig?.httpsProxy,
    noProxy: proxyConfig?.noProxy,
  }
}

function nativeClient(provider, clientOptions) {
  try {
    return new native.NativeClient(provider, clientOptions)
  } catch (err) {
    throw toSwitchyardError(err)
  }
}

/**
 * A JAF `ModelProvider` over native clients. `route(model)` names the provider, its native
 * client and the model id to send for JAF's model name (directly, or as a promise).
 */
function makeJafProvider(route, options) {
  const report = makeReporter(options.onUsage, options.pricing)

  /**
   * The request body for `model` on its route: the provider's own model id goes on the wire.
   * `route` may answer with a promise (a client whose credentials are refreshed).
   */
  async function prepare(model, params, extra) {
    const target = await route(model)
    const wire = target.model === model ? params : { ...params, model: target.model }
    return { target, body: JSON.stringify(extra ? { ...wire, ...extra } : wire) }
  }

  return {
    async getCompletion(state, agent, config) {
      const { model, params } = await buildChatRequest(state, agent, config)
      const { target, body } = await prepare(model, params)
      const { provider, client } = target
      const started = performance.now()
      const link = linkSignal(config?.signal ?? options.signal, provider, model)
      try {
        const resp = JSON.parse(await client.complete(body, model, link.handle))
        report?.({ provider, model, stream: false, outcome: 'ok', rawUsage: resp.usage, requestChars: body.length, started })
        // Some providers (Bedrock) do not name the model in their answers.
        return { ...resp.choices[0], usage: resp.usage, model: resp.model || target.model, id: resp.id, created: resp.created }
      } catch (err) {
        const error = toSwitchyardError(err)
        report?.({ provider, model, stream: false, outcome: outcomeOf(error), requestChars: body.length, started, error })
        throw error
      } finally {
        link.unlink()
      }
    },

    async *getCompletionStream(state, agent, config) {
      const { model, params } = await buildChatRequest(state, agent, config)
      const { target, body } = await prepare(model, params, { stream: true, stream_options: { include_usage: true } })
      const { provider, client } = target
      const started = performance.now()
      const link = linkSignal(config?.signal ?? options.signal, provider, model)
      const delivered = { chunks: 0, contentChars: 0, toolCallDeltas: 0, finishReason: null }
      let streamUsage = null
      let outcome = 'aborted'
      let failure
      let stream
      try {
        stream = await client.stream(body, model, link.handle)
        link.onAbort(() => stream.abort())
        for (let batch = await stream.next(); batch !== null; batch = await stream.next()) {
          for (const chunk of JSON.parse(batch)) {
            delivered.chunks++
            if (chunk?.usage) streamUsage = chunk.usage
            const choice = chunk?.choices?.[0]
            const delta = choice?.delta
            if (delta) {
              if (delta.content) {
                delivered.contentChars += delta.content.length
                yield { delta: delta.content, raw: chunk }
              }
              if (Array.isArray(delta.tool_calls)) {
                for (const call of delta.tool_calls) {
                  const fn = call.function || {}
                  delivered.toolCallDeltas++
                  yield {
                    toolCallDelta: {
                      index: call.index ?? 0,
                      id: call.id,
                      type: 'function',
                      function: { name: fn.name, argumentsDelta: fn.arguments },
                    },
                    raw: chunk,
                  }
                }
              }
            }
            if (choice?.finish_reason) {
              delivered.finishReason = choice.finish_reason
              yield { isDone: true, finishReason: choice.finish_reason, usage: streamUsage, raw: chunk }
            }
          }
        }
        outcome = 'ok'
        if (streamUsage) yield { isDone: true, usage: streamUsage }
      } catch (err) {
        failure = toSwitchyardError(err, { delivered: { ...delivered }, ...(streamUsage && { usage: streamUsage }) })
        outcome = outcomeOf(failure)
        throw failure
      } finally {
        // Reached early when the consumer stops iterating: close the upstream request.
        if (outcome !== 'ok') stream?.abort()
        link.unlink()
        report?.({
          provider,
          model,
          stream: true,
          outcome,
          rawUsage: streamUsage,
          requestChars: body.length,
          started,
          delivered,
          error: failure,
        })
      }
    },
  }
}

/**
 * A drop-in for `@xynehq/jaf`'s `makeLiteLLMProvider`. `baseURL` defaults to LITELLM_URL,
 * NEXT_PUBLIC_LITELLM_URL, then http://localhost:4000; `apiKey` to LITELLM_API_KEY, then 'anything'.
 */
function makeLiteLLMProvider(baseURL, apiKey, proxyConfig, defaultHeaders, options = {}) {
  baseURL ??= process.env.LITELLM_URL || process.env.NEXT_PUBLIC_LITELLM_URL || 'http://localhost:4000'
  apiKey ??= process.env.LITELLM_API_KEY || 'anything'
  checkBaseURL(baseURL)
  const client = nativeClient(PROVIDER_LABEL, {
    baseUrl: baseURL,
    apiKey,
    headers: headerList(defaultHeaders),
    ...transportOptions(options, proxyConfig),
  })
  return makeJafProvider((model) => ({ provider: PROVIDER_LABEL, client, model }), options)
}

module.exports = { makeLiteLLMProvider, makeJafProvider, nativeClient, transportOptions, headerList, linkSignal, toSwitchyardError }

'use strict'

// The JAF `ModelProvider` face of the native client: request building in JS (zod schemas and
// instructions live here), everything on the wire in Rust. One boundary crossing per call, one
// per stream batch.

const native = require('./native.js')
const otel = require('./otel.js')
const { buildChatRequest } = require('./request.js')
const v = require('./validate.js')

const PROVIDER_LABEL = 'litellm'

/** The options every JAF provider takes beside its transport: `signal`, `onUsage`, `pricing`. */
function jafOptions(options, path) {
  if (v.optObject(options, path) === undefined) return { transport: {} }
  const field = (key) => v.read(options, key, `${path}.${key}`)
  const pricing = v.optObject(field('pricing'), `${path}.pricing`)
  return {
    transport: native.transportOptions(options, path),
    signal: v.optSignal(field('signal'), `${path}.signal`),
    onUsage: v.optFunction(field('onUsage'), `${path}.onUsage`),
    pricing: pricing && Object.fromEntries(v.entries(pricing, `${path}.pricing`, 10_000).map(([model, p]) => [model, native.price(p, `${path}.pricing[${JSON.stringify(model)}]`)])),
  }
}

/**
 * Calls `onUsage` once per call, on every exit path, with usage and cost from the core. When a
 * stream ends before the upstream reported usage (abort, error), the counts are estimates and
 * marked so. What `onUsage` throws is reported as a warning: the call's own outcome stands.
 */
function makeReporter(onUsage, pricing) {
  if (!onUsage) return undefined
  return (report) => {
    // A routed stream carries its deployment's price, so even an aborted one is priced right.
    const { usage, estimated, cost: listCost } = native.usageReport(
      report.model,
      report.rawUsage,
      report.requestChars,
      report.delivered?.contentChars ?? 0,
      pricing?.[report.model] ?? report.price ?? undefined,
    )
    const event = {
      provider: report.provider,
      model: report.model,
      stream: report.stream,
      outcome: report.outcome,
      usage,
      estimated,
      // A routed call is priced at the deployment that served it.
      cost: report.cost ?? listCost,
      ...(report.deployment && { deployment: report.deployment }),
      durationMs: performance.now() - report.started,
      ...(report.delivered && { delivered: report.delivered }),
      ...(report.error && { error: report.error }),
    }
    // The warning names what was thrown by type only: its text could hold anything.
    const warn = (err) => process.emitWarning(`switchyard: onUsage failed (${v.typeOf(err)})`)
    try {
      v.observe(onUsage(event), warn)
    } catch (err) {
      warn(err)
    }
  }
}

const outcomeOf = (err) => (err?.kind === 'aborted' ? 'aborted' : 'error')

// Asks a router for its events, to rebuild its attempts as spans; a provider's own client takes
// no fourth argument and ignores it.
const TRACED = Object.freeze({ events: true })

/** JAF's stream events for one canonical chunk. */
function* jafEvents(chunk, usage) {
  const choice = chunk?.choices?.[0]
  const delta = choice?.delta
  if (delta) {
    if (delta.content) yield { delta: delta.content, raw: chunk }
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls) {
        const fn = call.function || {}
        yield {
          toolCallDelta: { index: call.index ?? 0, id: call.id, type: 'function', function: { name: fn.name, argumentsDelta: fn.arguments } },
          raw: chunk,
        }
      }
    }
  }
  if (choice?.finish_reason) yield { isDone: true, finishReason: choice.finish_reason, usage, raw: chunk }
}

/**
 * A JAF `ModelProvider` over native clients. `route(model)` names the provider, its native
 * client and the model id to send for JAF's model name (directly, or as a promise).
 */
function makeJafProvider(route, options) {
  const report = makeReporter(options.onUsage, options.pricing)
  // What a router's client is told beside the body: its events when a span needs them, and
  // `options.callOptions(state)` (the router's governance identity).
  const callFor = (state, span) => {
    const extra = options.callOptions?.(state)
    if (extra === undefined) return span && TRACED
    return span ? { ...extra, ...TRACED } : extra
  }

  /** The checked request, its route and its body: the provider's own model id goes on the wire. */
  async function prepare(state, agent, config, extra) {
    const { model, params, signal } = await buildChatRequest(state, agent, config, options.defaults)
    const target = await route(model)
    const wire = target.model === model ? params : { ...params, model: target.model }
    const body = v.bodyText(JSON.stringify(extra ? { ...wire, ...extra } : wire), 'the request')
    return { model, target, body, signal: signal ?? options.signal }
  }

  return {
    async getCompletion(state, agent, config) {
      let prepared
      try {
        prepared = await prepare(state, agent, config)
      } catch (err) {
        throw v.typed(err, 'getCompletion')
      }
      const { model, target, body, signal } = prepared
      const { provider, client } = target
      const span = otel.startCall('chat', target.model, provider)
      const started = performance.now()
      try {
        const call = callFor(state, span)
        const answer = await native.callNative((h) => client.complete(body, model, h, call), { provider, model, signal })
        // A router answers with how it served the call beside the JSON.
        const routed = typeof answer === 'string' ? undefined : answer
        const resp = JSON.parse(routed ? routed.json : answer)
        report?.({ provider, model, stream: false, outcome: 'ok', rawUsage: resp.usage, requestChars: body.length, started, cost: routed?.cost, deployment: routed?.deployment })
        if (span) otel.endCall(span, resp, routed)
        // Some providers (Bedrock) do not name the model in their answers.
        return { ...resp.choices[0], usage: resp.usage, model: resp.model || target.model, id: resp.id, created: resp.created }
      } catch (err) {
        const error = v.typed(err, 'getCompletion')
        report?.({ provider, model, stream: false, outcome: outcomeOf(error), requestChars: body.length, started, error })
        if (span) otel.failCall(span, error)
        throw error
      }
    },

    async *getCompletionStream(state, agent, config) {
      let prepared
      try {
        prepared = await prepare(state, agent, config, { stream: true, stream_options: { include_usage: true } })
      } catch (err) {
        throw v.typed(err, 'getCompletionStream')
      }
      const { model, target, body, signal } = prepared
      const { provider, client } = target
      const span = otel.startCall('chat', target.model, provider)
      const started = performance.now()
      const progress = { delivered: native.newDelivered(), usage: null }
      let outcome = 'aborted'
      let failure
      try {
        const call = callFor(state, span)
        const batches = native.streamBatches((h) => client.stream(body, model, h, call), { provider, model, signal }, progress)
        // Usage as seen up to each chunk: it usually arrives after the finish reason.
        let seen = null
        for await (const chunks of batches) {
          for (const chunk of chunks) {
            if (chunk?.usage) seen = chunk.usage
            yield* jafEvents(chunk, seen)
          }
        }
        outcome = 'ok'
        if (progress.usage) yield { isDone: true, usage: progress.usage }
      } catch (err) {
        failure = err
        outcome = outcomeOf(err)
        throw err
      } finally {
        report?.({
          provider,
          model,
          stream: true,
          outcome,
          rawUsage: progress.usage,
          requestChars: body.length,
          started,
          delivered: progress.delivered,
          error: failure,
          price: progress.stream?.price ?? undefined,
          deployment: progress.stream?.deployment ?? undefined,
        })
        if (span) otel.endStream(span, progress, failure)
      }
    },
  }
}

/**
 * A drop-in for `@xynehq/jaf`'s `makeLiteLLMProvider`. `baseURL` defaults to LITELLM_URL,
 * NEXT_PUBLIC_LITELLM_URL, then http://localhost:4000; `apiKey` to LITELLM_API_KEY, then 'anything'.
 */
function makeLiteLLMProvider(baseURL, apiKey, proxyConfig, defaultHeaders, options) {
  try {
    const opts = jafOptions(options, 'options')
    const settings = {
      baseURL: v.optHttpUrl(baseURL ?? (process.env.LITELLM_URL || process.env.NEXT_PUBLIC_LITELLM_URL || 'http://localhost:4000'), 'baseURL'),
      apiKey: v.optString(apiKey ?? (process.env.LITELLM_API_KEY || 'anything'), 'apiKey', { headerSafe: true }),
      headers: defaultHeaders,
    }
    v.optHeaders(defaultHeaders, 'defaultHeaders')
    const client = native.createClient(PROVIDER_LABEL, settings, { ...opts.transport, ...native.proxyOptions(proxyConfig, 'proxyConfig') })
    return makeJafProvider((model) => ({ provider: PROVIDER_LABEL, client, model }), opts)
  } catch (err) {
    throw v.typed(err, 'makeLiteLLMProvider')
  }
}

module.exports = { makeLiteLLMProvider, makeJafProvider, jafOptions }

'use strict'

// OpenTelemetry spans after the GenAI semantic conventions: a CLIENT span per call and, for a
// routed call, one per attempt, rebuilt from the router's events when the call ends.
// `@opentelemetry/api` is an optional peer, looked for on the first call (never at load), so
// spans join the app's own tracer provider and context. Without it, or when nothing records the
// span, a call costs one check and the router is not asked for its events.

const v = require('./validate.js')

// The conventions' names for providers whose Switchyard id differs; `router` is no provider: a
// routed call is named after the deployment that answered it.
const PROVIDER_NAMES = new Map([
  ['litellm', 'openai'], // a LiteLLM proxy speaks OpenAI's API
  ['router', undefined],
  ['azure', 'azure.ai.openai'],
  ['bedrock', 'aws.bedrock'],
  ['gemini', 'gcp.gemini'],
  ['vertex_ai', 'gcp.vertex_ai'],
  ['mistral', 'mistral_ai'],
  ['xai', 'x_ai'],
])
const providerName = (id) => (PROVIDER_NAMES.has(id) ? PROVIDER_NAMES.get(id) : id)

let api // undefined until the first call looks for it; null when it is not installed
let version

function lookUp() {
  try {
    api = require('@opentelemetry/api')
  } catch {
    return (api = null)
  }
  version = require('../package.json').version
  return api
}

// A span processor or exporter of the app's that throws must not fail the call.
function quietly(fn) {
  try {
    return fn()
  } catch (err) {
    process.emitWarning(`switchyard: tracing failed (${v.typeOf(err)})`)
    return undefined
  }
}

/**
 * The span of one call (`operation`: `chat` or `embeddings`), a child of the active context; or
 * undefined when the API is absent or the span records nothing.
 */
function startCall(operation, model, provider) {
  if (api === null || (api === undefined && lookUp() === null)) return undefined
  return quietly(() => {
    const attributes = { 'gen_ai.operation.name': operation, 'gen_ai.request.model': model }
    const name = providerName(provider)
    if (name !== undefined) attributes['gen_ai.provider.name'] = name
    const tracer = api.trace.getTracer('switchyard-llm', version)
    const span = tracer.startSpan(`${operation} ${model}`, { kind: api.SpanKind.CLIENT, attributes }, api.context.active())
    return span.isRecording() ? { span, tracer, operation } : undefined
  })
}

const tokens = (n) => (Number.isFinite(n) ? n : undefined)

/** Ends a call's span: what answered (`response`, parsed JSON) and the router's answer. */
function endCall(call, response, routed) {
  finish(call, {
    model: response?.model,
    id: response?.id,
    usage: response?.usage,
    finishReason: response?.choices?.[0]?.finish_reason,
    events: routed?.events,
    deployment: routed?.deployment,
  })
}

/** Ends a stream's span when it ends, fails or is left: from what `progress` collected. */
function endStream(call, progress, error) {
  const stream = progress.stream
  finish(call, {
    model: progress.head?.model,
    id: progress.head?.id,
    usage: progress.usage,
    finishReason: progress.delivered.finishReason,
    // A failure before the stream was handed over carries the events; after, the stream does.
    events: error?.events ?? stream?.events,
    deployment: stream?.deployment,
    error,
  })
}

/** Ends a failed call's span. */
function failCall(call, error) {
  finish(call, { events: error?.events, error })
}

function finish(call, { model, id, usage, finishReason, events, deployment, error }) {
  quietly(() => {
    const { span } = call
    const attributes = {
      'gen_ai.response.model': model || undefined,
      'gen_ai.response.id': id || undefined,
      'gen_ai.response.finish_reasons': typeof finishReason === 'string' ? [finishReason] : undefined,
      'gen_ai.usage.input_tokens': tokens(usage?.prompt_tokens),
      'gen_ai.usage.output_tokens': tokens(usage?.completion_tokens),
      'switchyard.deployment': deployment || undefined,
    }
    if (Array.isArray(events)) Object.assign(attributes, attempts(call, events, error))
    if (error) {
      attributes['error.type'] = errorType(error)
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: error.message })
    }
    for (const [key, value] of Object.entries(attributes)) if (value !== undefined) span.setAttribute(key, value)
    span.end()
  })
}

const errorType = (err) => (typeof err?.kind === 'string' ? err.kind : '_OTHER')

/**
 * A span per attempt the router made, placed by the events' wall-clock times: each runs from
 * its `request` to the `retry`, `fallback` or `request` after it (the attempt failed), or to the
 * call's end. Returns the call's routing attributes.
 */
function attempts(call, events, error) {
  const parent = api.trace.setSpan(api.ROOT_CONTEXT, call.span)
  const routing = { 'switchyard.retries': 0, 'switchyard.fallbacks': 0, 'switchyard.cache_hit': false }
  let open // the attempt in flight: { span, at }
  const close = (at, kind) => {
    if (!open) return
    if (kind !== undefined) {
      open.span.setAttribute('error.type', kind)
      open.span.setStatus({ code: api.SpanStatusCode.ERROR })
    }
    open.span.end(Math.max(at, open.at))
    open = undefined
  }
  for (const e of events) {
    switch (e.type) {
      case 'request': {
        close(e.atMs, '_OTHER')
        const attributes = {
          'gen_ai.operation.name': call.operation,
          'gen_ai.request.model': e.model,
          'gen_ai.provider.name': providerName(e.provider),
          'switchyard.group': e.group,
          'switchyard.deployment': e.deployment,
          'switchyard.attempt': e.attempt,
        }
        const span = call.tracer.startSpan(`${call.operation} ${e.model}`, { kind: api.SpanKind.CLIENT, startTime: e.atMs, attributes }, parent)
        open = { span, at: e.atMs }
        routing['gen_ai.provider.name'] = attributes['gen_ai.provider.name']
        break
      }
      case 'retry':
        routing['switchyard.retries']++
        close(e.atMs, e.errorKind)
        break
      case 'fallback':
        routing['switchyard.fallbacks']++
        close(e.atMs, e.errorKind)
        break
      case 'hedge':
        open?.span.addEvent('switchyard.hedge', { 'switchyard.deployment': e.hedge }, e.atMs)
        break
      case 'rate_limited':
        call.span.addEvent('switchyard.rate_limited', { 'switchyard.group': e.group }, e.atMs)
        break
      case 'cache_hit':
        routing['switchyard.cache_hit'] = true
        break
      case 'state_unavailable':
        call.span.addEvent('switchyard.state_unavailable', { 'switchyard.backend': e.backend }, e.atMs)
        break
      // Governance refusals mark the call; allowed decisions are the normal path. Any other
      // type (a newer core's) is skipped.
      case 'policy':
      case 'budget':
        if (e.decision === 'denied') call.span.addEvent(`switchyard.${e.type}_denied`, { 'switchyard.rule': e.rule ?? e.budget }, e.atMs)
        break
    }
  }
  // Wall-clock, as the events are.
  close(Date.now(), error === undefined ? undefined : errorType(error))
  return routing
}

module.exports = { startCall, endCall, endStream, failCall }

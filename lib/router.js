'use strict'

// The Router: LiteLLM's Router in process. It is itself a JAF `ModelProvider` (routing by the
// agent's model name, a model group or a task type), and offers OpenAI-shaped `complete` and
// `stream`, `stats()` and `close()`. Every decision is made in the Rust core; what it did comes
// back with each call as events for `onEvent`.

const native = require('./native.js')
const otel = require('./otel.js')
const { makeJafProvider, jafOptions } = require('./provider.js')
const { loadRouterConfig, withLine } = require('./router-config.js')
const { invalidInput } = require('./errors.js')
const v = require('./validate.js')

const PROVIDER = 'router'

/** JAF's defaults from the environment (`JAF_DEFAULT_MODEL`, `_TEMPERATURE`, `_MAX_TOKENS`). */
function envDefaults() {
  const number = (name) => {
    const raw = process.env[name]
    if (raw === undefined || raw.trim() === '') return undefined
    const n = Number(raw)
    if (!Number.isFinite(n)) throw invalidInput(`${name} must be a number`)
    return n
  }
  return {
    model: process.env.JAF_DEFAULT_MODEL || undefined,
    temperature: number('JAF_DEFAULT_TEMPERATURE'),
    maxTokens: number('JAF_DEFAULT_MAX_TOKENS'),
  }
}

/**
 * Who a call is for, as governance rules see it: `key` (an app-level caller id, never a
 * provider credential; the core hashes it before it names anything), `tags` and `runId`.
 */
function identity(value, path) {
  if (v.optObject(value, path) === undefined) return {}
  const field = (key) => v.read(value, key, `${path}.${key}`)
  const out = {}
  const key = v.optString(field('key'), `${path}.key`, { nonEmpty: true, maxBytes: 1024 })
  if (key !== undefined) out.key = key
  const tags = field('tags')
  if (tags !== undefined && tags !== null) {
    out.tags = v.mapArray(tags, `${path}.tags`, (tag, at) => v.string(tag, at, { nonEmpty: true, maxBytes: 256 }), 64)
  }
  const runId = v.optString(field('runId'), `${path}.runId`, { nonEmpty: true, maxBytes: 1024 })
  if (runId !== undefined) out.runId = runId
  return out
}

/** JAF's own run id, which `max_cost_per_run` counts an agent run by. */
function jafRunId(state) {
  const runId = v.isObject(state, 'state') ? v.read(state, 'runId', 'state.runId') : undefined
  return typeof runId === 'string' && runId.length > 0 ? runId : undefined
}

/**
 * `options`: `onEvent`, `onUsage`, `signal`, `deadlineMs` (per call), `connectTimeoutMs`,
 * `proxyConfig`, and the governance identity of every call (`key`, `tags`, `runId`).
 */
function routerOptions(options) {
  if (v.optObject(options, 'options') === undefined) return { jaf: { transport: {} }, identity: {} }
  const field = (key) => v.read(options, key, `options.${key}`)
  const proxy = native.proxyOptions(field('proxyConfig'), 'options.proxyConfig')
  return {
    identity: identity(options, 'options'),
    jaf: jafOptions(options, 'options'),
    onEvent: v.optFunction(field('onEvent'), 'options.onEvent'),
    deadlineMs: v.optNumber(field('deadlineMs'), 'options.deadlineMs', { min: 1, max: 2 ** 31 - 1, integer: true }),
    transport: {
      connectTimeoutMs: v.optNumber(field('connectTimeoutMs'), 'options.connectTimeoutMs', { min: 1, max: 2 ** 31 - 1, integer: true }),
      ...proxy,
    },
  }
}

/**
 * A router from a LiteLLM-shaped config object (`{ model_list, router_settings,
 * litellm_settings }`) or the path of a YAML, TOML or JSON file.
 */
function makeRouter(configOrPath, options) {
  try {
    return buildRouter(configOrPath, options)
  } catch (err) {
    throw v.typed(err, 'makeRouter')
  }
}

/**
 * A routed answer as an object: it crosses as one string, the header line `[deployment, cost,
 * events]` (JSON, so free of raw newlines) before the response JSON. Anything else (a native
 * failure, a cache miss's `null`) as it is.
 */
function answerOf(answer) {
  if (typeof answer !== 'string') return answer
  const cut = answer.indexOf('\n')
  const [deployment, cost, events] = JSON.parse(answer.slice(0, cut))
  return { json: answer.slice(cut + 1), deployment, cost, events }
}

function buildRouter(configOrPath, options) {
  if (typeof configOrPath !== 'string' && !v.isObject(configOrPath, 'config')) {
    throw invalidInput(`config must be a config object or a file path, got ${v.typeOf(configOrPath)}`)
  }
  const opts = routerOptions(options)
  const { text, defaults, warnings, where } = loadRouterConfig(configOrPath)
  let nativeRouter
  try {
    nativeRouter = native.createRouter(text, opts.transport ?? {})
  } catch (err) {
    throw withLine(err, where)
  }
  let closed = false
  // Events cross the boundary only when someone listens, or a call's span asks for them.
  const listening = opts.onEvent !== undefined
  const emit = (events) => {
    if (!opts.onEvent || !Array.isArray(events)) return
    for (const event of events) {
      try {
        v.observe(opts.onEvent(event), () => process.emitWarning('switchyard: onEvent failed'))
      } catch (err) {
        process.emitWarning(`switchyard: onEvent failed (${v.typeOf(err)})`)
      }
    }
  }
  const open = () => {
    if (closed) throw invalidInput('the router was closed')
  }
  // A hit in this process's cache is answered on this thread, without a trip through the runtime.
  const caching = nativeRouter.caching
  /**
   * One routed call: `native` runs it, `cached` (when given) answers it at once from the cache.
   * Options cross as JSON text and an answer comes back as one string (see `answerOf`): both
   * cost less at the boundary than objects read and built by name.
   */
  const routed = (native, cached) =>
    async function (body, group, handle, call) {
      open()
      const options = JSON.stringify({ deadlineMs: opts.deadlineMs, events: listening, ...call })
      const hit = cached && caching && call?.noCache !== true ? answerOf(cached(group, body, options)) : null
      if (hit) {
        emit(hit.events)
        return hit
      }
      // A failure carries its events too: they are emitted here, once, before it is raised.
      const answer = answerOf(await native(group, body, options, handle))
      emit(answer.events)
      return answer
    }
  // The native router behind the face every JAF provider uses: answers carry their events.
  const client = {
    complete: routed(nativeRouter.complete.bind(nativeRouter), nativeRouter.completeCached.bind(nativeRouter)),
    stream: routed(nativeRouter.stream.bind(nativeRouter), nativeRouter.streamCached.bind(nativeRouter)),
    embed: routed(nativeRouter.embed.bind(nativeRouter)),
  }
  const defaultsNow = { ...envDefaults(), ...Object.fromEntries(Object.entries(defaults).filter(([, x]) => x !== undefined)) }
  const route = (model) => ({ provider: PROVIDER, client, model })

  /**
   * An OpenAI request whose `model` names a group or task type. LiteLLM's per-request cache
   * controls (`cache: { 'no-cache': true, 'no-store': true }`) are read, not forwarded.
   */
  const body = (request, who, extra) => {
    v.object(request, 'request')
    const model = v.string(v.read(request, 'model', 'request.model'), 'request.model', { nonEmpty: true })
    v.jsonValue(request, 'request')
    const { cache, ...forwarded } = request
    const controls = v.optObject(cache, 'request.cache')
    const flag = (key) => v.optBoolean(controls && v.read(controls, key, `request.cache.${key}`), `request.cache.${key}`)
    const call = { ...who, noCache: flag('no-cache'), noStore: flag('no-store') }
    // Checked above. `model` goes first: the router swaps it for each deployment's in place.
    return { model, call, text: v.checkedJsonText({ model, ...forwarded, ...extra }, 'request') }
  }
  const signalOf = (opts2) => (v.optObject(opts2, 'opts') ? v.optSignal(v.read(opts2, 'signal', 'opts.signal'), 'opts.signal') : undefined) ?? opts.jaf.signal
  // A call's span rebuilds its attempts from the router's events.
  const traced = (call, span) => (span ? { ...call, events: true } : call)

  /** A routed call answered in one piece (`method`: complete or embed), under its span. */
  const once = async (operation, method, { model, call, text }, callOptions) => {
    const span = otel.startCall(operation, model, PROVIDER)
    let answer
    try {
      answer = await native.callNative((h) => client[method](text, model, h, traced(call, span)), { provider: PROVIDER, model, signal: signalOf(callOptions) })
    } catch (err) {
      if (span) otel.failCall(span, err)
      throw err
    }
    const resp = JSON.parse(answer.json)
    if (span) otel.endCall(span, resp, answer)
    return resp
  }

  /** The router's face for calls on behalf of `who`: every face shares one native router. */
  const face = (who) => {
    // A JAF run's calls carry its run id, unless the face names one.
    const jaf = makeJafProvider(route, { ...opts.jaf, defaults: defaultsNow, callOptions: (state) => ({ runId: jafRunId(state), ...who }) })
    // Per-call identity fields replace the face's.
    const callWho = (callOptions) => ({ ...who, ...identity(callOptions, 'opts') })
    // JAF's calls go to the provider face as they are, with no wrapper to pass through: it types
    // its own errors.
    const { getCompletion, getCompletionStream } = jaf
    return Object.assign(v.typedMethods(methods(who, callWho), 'router'), { getCompletion, getCompletionStream })
  }

  const methods = (who, callWho) => ({
    /** An OpenAI chat completion through the group (or task type) `request.model` names. */
    async complete(request, callOptions) {
      return once('chat', 'complete', body(request, callWho(callOptions)), callOptions)
    },

    /** A streamed OpenAI chat completion: failover happens before the first chunk is yielded. */
    async *stream(request, callOptions) {
      const { model, call, text } = body(request, callWho(callOptions), { stream: true, stream_options: { include_usage: true } })
      const span = otel.startCall('chat', model, PROVIDER)
      const progress = { delivered: native.newDelivered(), usage: null }
      let failure
      try {
        yield* native.streamNative((h) => client.stream(text, model, h, traced(call, span)), { provider: PROVIDER, model, signal: signalOf(callOptions) }, progress)
      } catch (err) {
        failure = err
        throw err
      } finally {
        if (span) otel.endStream(span, progress, failure)
      }
    },

    /** Embeddings (OpenAI's `{ model, input }`) through the group `request.model` names. */
    async embed(request, callOptions) {
      return once('embeddings', 'embed', body(request, callWho(callOptions)), callOptions)
    },

    /**
     * This router for calls on behalf of `who` (`key`, `tags`, `runId`), sharing its state,
     * budgets and cache: hand it to JAF as the `modelProvider` of one caller's runs.
     */
    withIdentity(more) {
      return face({ ...who, ...identity(more, 'identity') })
    },

    /** Seed 002's `model_stats`: per group and deployment, calls, errors, tokens, cost, latency. */
    stats() {
      return nativeRouter.stats()
    },

    /** Config keys the router does not act on (logging callbacks, proxy-only settings). */
    get warnings() {
      return [...nativeRouter.warnings, ...warnings]
    },

    /** Refuse further calls; calls in flight finish. */
    close() {
      closed = true
    },
  })
  return face(opts.identity)
}

module.exports = { makeRouter }

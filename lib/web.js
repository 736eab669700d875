'use strict'

// Web-standard streaming for route handlers (Next.js app router, Remix, Hono, …): a Switchyard
// stream, a router stream or a JAF `runStream` as a Web ReadableStream, or as an SSE Response.
// Pull-based: the source is read only when the client reads. A client disconnect (the request's
// signal, or the stream being cancelled) aborts the upstream request.

const { SwitchyardError, invalidInput } = require('./errors.js')
const v = require('./validate.js')

const DEFAULT_HEARTBEAT_MS = 15_000

function assertNodeRuntime(where) {
  // Next.js defines EdgeRuntime in its Edge runtime, where a native addon cannot load.
  if (typeof EdgeRuntime === 'string') {
    throw new SwitchyardError({
      kind: 'invalid_input',
      message: `${where}: switchyard-llm needs the Node.js runtime, not the Edge runtime: add \`export const runtime = 'nodejs'\` to the route.`,
    })
  }
}

/** `source` checked: an async iterable, or a function of an AbortSignal returning one. */
function checkSource(source, path) {
  if (typeof source === 'function') return source
  if (source !== null && typeof source === 'object' && typeof v.read(source, Symbol.asyncIterator, path) === 'function') return () => source
  throw invalidInput(`${path} must be an async iterable (a stream) or a function (signal) => async iterable, got ${v.typeOf(source)}`)
}

function checkOptions(options, where) {
  v.optObject(options, `${where} options`)
  const field = (key) => v.read(options ?? {}, key, `options.${key}`)
  return {
    signal: v.optSignal(field('signal'), 'options.signal'),
    map: v.optFunction(field('map'), 'options.map'),
    heartbeatMs: v.optNumber(field('heartbeatMs'), 'options.heartbeatMs', { min: 1, max: 2 ** 31 - 1, integer: true }) ?? DEFAULT_HEARTBEAT_MS,
    headers: field('headers'),
  }
}

/**
 * One pull at a time over `open(signal)`'s iterator. `signal` (the request's) and `cancel()` both
 * abort the signal handed to `open`, then close the iterator (a Switchyard stream's `return()`
 * aborts its upstream request too).
 */
function puller(open, signal) {
  const controller = new AbortController()
  const abort = () => controller.abort(signal?.reason ?? new SwitchyardError({ kind: 'aborted', message: 'The client went away.' }))
  if (signal?.aborted) abort()
  else signal?.addEventListener('abort', abort, { once: true })
  let iterator
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    signal?.removeEventListener('abort', abort)
    await iterator?.return?.()
  }
  return {
    async next() {
      if (closed) return { done: true }
      if (controller.signal.aborted) throw new SwitchyardError({ kind: 'aborted', message: 'The client went away.' })
      if (!iterator) {
        const source = await open(controller.signal)
        if (typeof source?.[Symbol.asyncIterator] !== 'function') throw invalidInput(`the source function must return an async iterable, got ${v.typeOf(source)}`)
        iterator = source[Symbol.asyncIterator]()
      }
      const step = await iterator.next()
      if (step.done) await close()
      return step
    },
    // A pending next() holds return() back; the aborted signal is what stops the upstream now.
    cancel() {
      abort()
      close().catch(() => {})
    },
    close,
  }
}

/**
 * A Web ReadableStream of the source's items (objects). Nothing is read ahead of the reader;
 * cancelling it, or `options.signal` aborting, aborts the upstream request.
 */
function toReadableStream(source, options) {
  const where = 'toReadableStream'
  let pull, opts
  try {
    assertNodeRuntime(where)
    opts = checkOptions(options, where)
    pull = puller(checkSource(source, 'source'), opts.signal)
  } catch (err) {
    throw v.typed(err, where)
  }
  return new ReadableStream(
    {
      // Each pull enqueues one item (a read that gets nothing is not pulled again).
      async pull(controller) {
        try {
          for (;;) {
            const step = await pull.next()
            if (step.done) return controller.close()
            const item = opts.map ? v.callUser(opts.map, [step.value], 'options.map') : step.value
            if (item !== undefined) return controller.enqueue(item)
          }
        } catch (err) {
          await pull.close().catch(() => {})
          controller.error(v.typed(err, where))
        }
      },
      cancel: () => pull.cancel(),
    },
    { highWaterMark: 0 },
  )
}

const num = (n) => (typeof n === 'number' && Number.isFinite(n) ? n : 0)

/** The token usage an item reports: an OpenAI/Switchyard chunk's `usage` or JAF's `token_usage` event. */
function usageOf(item) {
  if (item?.type === 'token_usage' && item.data) {
    const { prompt, completion, total } = item.data
    return { prompt_tokens: num(prompt), completion_tokens: num(completion), total_tokens: num(total ?? num(prompt) + num(completion)) }
  }
  const u = item?.usage
  if (!u || typeof u !== 'object') return null
  return { prompt_tokens: num(u.prompt_tokens), completion_tokens: num(u.completion_tokens), total_tokens: num(u.total_tokens) }
}

const event = (name, data) => `${name ? `event: ${name}\n` : ''}data: ${JSON.stringify(data)}\n\n`

function errorData(err) {
  const e = v.typed(err, 'stream')
  return { kind: e.kind, message: e.message, ...(e.status !== undefined && { status: e.status }) }
}

/**
 * A `text/event-stream` Response: one `data:` JSON event per item (after `options.map`; an item
 * mapped to `undefined` is skipped), a `: heartbeat` comment whenever the source is quiet for
 * `heartbeatMs`, then `event: done` with the summed usage, or `event: error` with the failure.
 */
function toSSEResponse(source, options) {
  const where = 'toSSEResponse'
  let pull, opts, headers
  try {
    assertNodeRuntime(where)
    opts = checkOptions(options, where)
    headers = new Headers(v.optObject(opts.headers, 'options.headers'))
    pull = puller(checkSource(source, 'source'), opts.signal)
  } catch (err) {
    throw v.typed(err, where)
  }
  const encoder = new TextEncoder()
  let usage = null
  let pending = null
  let finished = false
  const body = new ReadableStream(
    {
      // Each pull enqueues exactly one event: an item, a heartbeat, or the last event.
      async pull(controller) {
        if (finished) return controller.close()
        pending ??= pull.next()
        let timer
        const beat = new Promise((resolve) => {
          timer = setTimeout(resolve, opts.heartbeatMs, 'heartbeat')
        })
        try {
          for (;;) {
            const step = await Promise.race([pending, beat])
            if (step === 'heartbeat') return controller.enqueue(encoder.encode(': heartbeat\n\n'))
            pending = null
            if (step.done) {
              finished = true
              return controller.enqueue(encoder.encode(event('done', { usage })))
            }
            const u = usageOf(step.value)
            if (u) usage = usage ? sumUsage(usage, u) : u
            const data = opts.map ? v.callUser(opts.map, [step.value], 'options.map') : step.value
            if (data !== undefined) return controller.enqueue(encoder.encode(event(null, data)))
            pending = pull.next()
          }
        } catch (err) {
          finished = true
          await pull.close().catch(() => {})
          controller.enqueue(encoder.encode(event('error', errorData(err))))
        } finally {
          clearTimeout(timer)
        }
      },
      cancel: () => pull.cancel(),
    },
    { highWaterMark: 0 },
  )
  headers.set('content-type', 'text/event-stream; charset=utf-8')
  if (!headers.has('cache-control')) headers.set('cache-control', 'no-cache, no-transform')
  // Proxies such as nginx buffer responses unless told not to.
  if (!headers.has('x-accel-buffering')) headers.set('x-accel-buffering', 'no')
  return new Response(body, { status: 200, headers })
}

const sumUsage = (a, b) => ({
  prompt_tokens: a.prompt_tokens + b.prompt_tokens,
  completion_tokens: a.completion_tokens + b.completion_tokens,
  total_tokens: a.total_tokens + b.total_tokens,
})

module.exports = { toReadableStream, toSSEResponse }

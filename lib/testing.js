'use strict'

// `switchyard-llm/testing`: a real loopback mock of an OpenAI-compatible upstream.
//
// Switchyard's HTTP client lives in Rust (reqwest), so nock/msw cannot intercept it. Tests instead
// point the provider's baseURL at this server, queue replies, and inspect the recorded requests.
// Node built-ins plus Switchyard's own input checks, so mistakes are typed errors like everywhere else.

const http = require('node:http')
const crypto = require('node:crypto')
const { SwitchyardError, invalidInput } = require('./errors.js')
const v = require('./validate.js')

const DEFAULT_MODEL = 'gpt-4o-mini'
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

function randomId(length) {
  const bytes = crypto.randomBytes(length)
  let out = ''
  for (let i = 0; i < length; i++) out += ID_ALPHABET[bytes[i] % ID_ALPHABET.length]
  return out
}

const completionId = () => `chatcmpl-${randomId(29)}`
const toolCallId = () => `call_${randomId(24)}`
const unixSeconds = () => Math.floor(Date.now() / 1000)

// Rough token estimate (~4 characters per token) for default usage numbers.
const estimateTokens = (text) => (text ? Math.max(1, Math.ceil(text.length / 4)) : 0)

function argumentsString(args) {
  if (args === undefined || args === null) return '{}'
  return typeof args === 'string' ? args : JSON.stringify(args)
}

function normaliseToolCalls(toolCalls) {
  if (toolCalls === undefined || toolCalls === null) return []
  if (!Array.isArray(toolCalls)) throw new TypeError('toolCalls must be an array')
  return toolCalls.map((call, i) => {
    if (!call || typeof call.name !== 'string') throw new TypeError(`toolCalls[${i}].name must be a string`)
    return { id: call.id ?? toolCallId(), name: call.name, arguments: argumentsString(call.arguments) }
  })
}

function buildUsage(usage, contentText, toolCalls) {
  const generated = contentText + toolCalls.map((c) => c.name + c.arguments).join('')
  const prompt = usage?.prompt_tokens ?? 10
  const completionTokens = usage?.completion_tokens ?? estimateTokens(generated)
  return {
    ...usage,
    prompt_tokens: prompt,
    completion_tokens: completionTokens,
    total_tokens: usage?.total_tokens ?? prompt + completionTokens,
  }
}

/**
 * A non-streaming chat completion exactly as OpenAI returns it.
 */
function completion(options = {}) {
  const toolCalls = normaliseToolCalls(options.toolCalls)
  const content = options.content ?? (toolCalls.length ? null : '')
  const message = { role: 'assistant', content }
  if (toolCalls.length) {
    message.tool_calls = toolCalls.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: c.arguments },
    }))
  }
  message.refusal = null
  return {
    id: completionId(),
    object: 'chat.completion',
    created: unixSeconds(),
    model: options.model ?? DEFAULT_MODEL,
    choices: [
      {
        index: 0,
        message,
        logprobs: null,
        finish_reason: options.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop'),
      },
    ],
    usage: buildUsage(options.usage, content ?? '', toolCalls),
  }
}

// Split text into token-like pieces that concatenate back to the input ("Hello", " world", ...).
function tokenize(content) {
  if (content === undefined || content === null) return []
  if (Array.isArray(content)) return content.map(String)
  return String(content)
    .split(/(?=\s)/)
    .filter((piece) => piece.length > 0)
}

// Split tool-call arguments into a few fragments, the way OpenAI streams them.
function fragments(text, pieces = 3) {
  if (!text) return []
  const size = Math.max(1, Math.ceil(text.length / pieces))
  const out = []
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size))
  return out
}

/**
 * The chunks of a streamed chat completion exactly as OpenAI sends them
 * (`stream: true`, and `stream_options.include_usage` when `includeUsage`).
 */
function streamChunks(options = {}) {
  const includeUsage = options.includeUsage ?? true
  const tokens = tokenize(options.content)
  const toolCalls = normaliseToolCalls(options.toolCalls)
  const id = completionId()
  const created = unixSeconds()
  const model = options.model ?? DEFAULT_MODEL

  const chunk = (delta, finishReason = null) => {
    const c = {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    }
    if (includeUsage) c.usage = null
    return c
  }

  const chunks = [chunk({ role: 'assistant', content: '', refusal: null })]
  for (const token of tokens) chunks.push(chunk({ content: token }))
  toolCalls.forEach((call, index) => {
    chunks.push(
      chunk({
        tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
      }),
    )
    for (const piece of fragments(call.arguments)) {
      chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }))
    }
  })
  chunks.push(chunk({}, options.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop')))
  if (includeUsage) {
    chunks.push({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [],
      usage: buildUsage(options.usage, tokens.join(''), toolCalls),
    })
  }
  return chunks
}

/**
 * An OpenAI-format error body: `{ error: { message, type, param, code } }`.
 */
function errorBody(message, options = {}) {
  return {
    error: {
      message: String(message),
      type: options.type ?? 'invalid_request_error',
      param: options.param ?? null,
      code: options.code ?? null,
    },
  }
}

const ERROR_TYPES_BY_STATUS = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  403: 'invalid_request_error',
  404: 'invalid_request_error',
  429: 'requests',
}

function defaultErrorBody(status) {
  const type = ERROR_TYPES_BY_STATUS[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error')
  return errorBody(http.STATUS_CODES[status] ?? `HTTP ${status}`, { type })
}

const CHAT_PATHS = new Set(['/chat/completions', '/v1/chat/completions'])

function defaultReply(req) {
  const pathname = req.path.split('?')[0]
  if (req.method === 'POST' && CHAT_PATHS.has(pathname)) {
    const model = typeof req.json?.model === 'string' ? req.json.model : undefined
    if (req.json?.stream === true) {
      const includeUsage = req.json.stream_options?.include_usage === true
      return { sse: streamChunks({ content: 'ok', model, includeUsage }) }
    }
    return { json: completion({ content: 'ok', model }) }
  }
  return {
    error: {
      status: 404,
      body: errorBody(`Invalid URL (${req.method} ${req.path})`, { type: 'invalid_request_error' }),
    },
  }
}

function recordHeaders(raw) {
  const headers = {}
  for (const [name, value] of Object.entries(raw)) {
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value)
  }
  return headers
}

class MockUpstream {
  constructor(server, options) {
    const { port } = server.address()
    this.url = `http://127.0.0.1:${port}`
    this.baseURL = this.url
    this.requests = []
    // Non-enumerable internals keep `console.log(mock)` and assertions readable.
    Object.defineProperties(this, {
      _server: { value: server },
      _handler: { value: options.handler },
      _queue: { value: [], writable: true },
      _unscripted: { value: [] },
      _mismatches: { value: [] },
      _inFlight: { value: 0, writable: true },
      _sockets: { value: new Set() },
      _timers: { value: new Map() },
      _closed: { value: false, writable: true },
      _closing: { value: null, writable: true },
    })
  }

  /** Enqueue replies; each request consumes the oldest one. */
  reply(...replies) {
    replies.forEach((r, i) => checkReply(r, `reply[${i}]`))
    this._queue.push(...replies)
    return this
  }

  lastRequest() {
    return this.requests[this.requests.length - 1]
  }

  reset() {
    this._queue.length = 0
    this.requests.length = 0
    this._unscripted.length = 0
    this._mismatches.length = 0
  }

  /**
   * Rejects unless every queued reply was used, every request had a scripted reply (queued or
   * from the handler) and was answered within `timeoutMs`, and no reply was in the wrong form.
   */
  async assertDone(options) {
    v.optObject(options, 'options')
    const timeoutMs = v.optNumber(options && v.read(options, 'timeoutMs', 'options.timeoutMs'), 'options.timeoutMs', { min: 0, max: 60_000 }) ?? 1000
    // A client may finish reading before the mock's last write has settled.
    for (const end = Date.now() + timeoutMs; this._inFlight && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 5))
    const problems = [...this._mismatches]
    const left = this._queue.length
    if (left) problems.push(`${left} queued ${left === 1 ? 'reply was' : 'replies were'} never used`)
    const list = (reqs) => reqs.map((r) => `${r.method} ${r.path}`).join(', ')
    if (this._unscripted.length) problems.push(`${this._unscripted.length} request(s) had no reply queued (${list(this._unscripted)})`)
    if (this._inFlight) problems.push(`${this._inFlight} request(s) are still being answered`)
    if (problems.length) throw new SwitchyardError({ kind: 'invalid_input', message: `mock upstream: ${problems.join('; ')}` })
  }

  close() {
    if (this._closing) return this._closing
    this._closed = true
    this._queue.length = 0
    for (const [timer, resolve] of this._timers) {
      clearTimeout(timer)
      resolve()
    }
    this._timers.clear()
    this._closing = new Promise((resolve) => {
      this._server.close(() => resolve())
      for (const socket of this._sockets) socket.destroy()
      this._sockets.clear()
      this._server.closeAllConnections?.()
    })
    return this._closing
  }

  // A delay that close() cuts short, so pending replies never hold the event loop open.
  _sleep(ms) {
    if (!ms || ms <= 0 || this._closed) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this._timers.delete(timer)
        resolve()
      }, ms)
      this._timers.set(timer, resolve)
    })
  }

  async _dispatch(req, res, recorded) {
    this._inFlight++
    res.on('close', () => {
      if (!res.writableFinished) recorded.disconnected = true
    })
    try {
      let reply = this._queue.shift()
      if (reply === undefined && this._handler) reply = await this._handler(recorded)
      if (reply === undefined || reply === null) {
        this._unscripted.push(recorded)
        reply = defaultReply(recorded)
      }
      // After a reply in the wrong form every request fails, so a caller's quiet fallback (JAF
      // retries a failed stream as a plain call) cannot make the test pass anyway.
      const mismatch = formMismatch(reply, recorded) ?? this._mismatches[0]
      if (mismatch) {
        if (!this._mismatches.includes(mismatch)) this._mismatches.push(mismatch)
        reply = { error: { status: 400, body: errorBody(`mock upstream: ${mismatch}`, { type: 'mock_error' }) } }
      }
      await this._send(req, res, 'turn' in reply ? turnReply(reply, recorded) : reply)
    } finally {
      this._inFlight--
    }
  }

  async _send(req, res, reply) {
    let gone = false
    res.on('close', () => {
      gone = true
    })
    const alive = () => !gone && !this._closed && !res.destroyed

    const setHeaders = (headers) => {
      if (!headers) return
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
    }

    if (reply.hang) return // never answer; close() destroys the socket
    if (reply.destroy) {
      req.socket.destroy()
      return
    }

    await this._sleep(reply.delayMs)
    if (!alive()) return

    if ('json' in reply) {
      const body = JSON.stringify(reply.json)
      res.statusCode = reply.status ?? 200
      res.setHeader('content-type', 'application/json')
      res.setHeader('content-length', Buffer.byteLength(body))
      setHeaders(reply.headers)
      res.end(body)
      return
    }

    if ('error' in reply) {
      const spec = reply.error ?? {}
      const status = spec.status ?? 500
      let body = spec.body === undefined ? defaultErrorBody(status) : spec.body
      let contentType = spec.contentType
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        if (!contentType) {
          contentType = /^\s*</.test(body.toString()) ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8'
        }
      } else {
        body = JSON.stringify(body)
        contentType ??= 'application/json'
      }
      res.statusCode = status
      res.setHeader('content-type', contentType)
      res.setHeader('content-length', Buffer.byteLength(body))
      setHeaders(spec.headers)
      res.end(body)
      return
    }

    if ('sse' in reply) {
      const events = (reply.sse ?? []).map((e) => (typeof e === 'string' ? e : `data: ${JSON.stringify(e)}\n\n`))
      if (reply.done !== false) events.push('data: [DONE]\n\n')
      res.statusCode = reply.status ?? 200
      res.setHeader('content-type', 'text/event-stream')
      res.setHeader('cache-control', 'no-cache')
      setHeaders(reply.headers)
      const cut = reply.disconnectAfter
      const count = cut === undefined ? events.length : Math.max(0, Math.min(cut, events.length))
      await this._writeAll(res, events.slice(0, count), reply.chunkDelayMs, alive)
      if (!alive()) return
      if (cut === undefined) {
        res.end()
      } else {
        // Mid-stream disconnect: drop the connection without the terminating chunk.
        res.flushHeaders()
        await this._sleep(5)
        res.socket?.destroy()
      }
      return
    }

    if ('raw' in reply) {
      const parts = Array.isArray(reply.raw) ? reply.raw : [reply.raw]
      res.statusCode = reply.status ?? 200
      setHeaders(reply.headers)
      await this._writeAll(res, parts, reply.chunkDelayMs, alive)
      if (alive()) res.end()
      return
    }

    throw new TypeError(`unrecognised mock reply: ${JSON.stringify(Object.keys(reply))}`)
  }

  async _writeAll(res, parts, chunkDelayMs, alive) {
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) await this._sleep(chunkDelayMs)
      if (!alive()) return
      // Wait until each write is handed to the socket so it leaves as its own TCP write.
      await new Promise((resolve) => {
        res.once('close', resolve)
        res.write(parts[i], () => {
          res.off('close', resolve)
          resolve()
        })
      })
    }
  }
}

const REPLY_FORMS = ['turn', 'json', 'error', 'sse', 'raw', 'hang', 'destroy']

/** Why `reply` cannot answer chat request `req`: JSON for a stream request, or SSE for a plain call. */
function formMismatch(reply, req) {
  if (!CHAT_PATHS.has(req.path.split('?')[0]) || !Array.isArray(req.json?.messages)) return undefined
  const stream = req.json?.stream === true
  if ('json' in reply && stream) return 'a { json } reply answered a stream request (stream: true); queue a { turn } to answer in the form asked'
  if ('sse' in reply && !stream) {
    return 'an { sse } reply answered a request without stream: true; queue a { turn } to answer in the form asked'
  }
  return undefined
}

/** A turn as the request asks for it: SSE chunks for a stream request, a completion otherwise. */
function turnReply(reply, req) {
  const { turn, ...rest } = reply
  const model = turn.model ?? (typeof req.json?.model === 'string' ? req.json.model : undefined)
  if (req.json?.stream === true) {
    const includeUsage = req.json.stream_options?.include_usage === true
    return { ...rest, sse: streamChunks({ ...turn, model, includeUsage }) }
  }
  return { ...rest, json: completion({ ...turn, model }) }
}

/** A reply is checked when queued, so a mistake fails the test that wrote it, not a request. */
function checkReply(reply, path) {
  v.object(reply, path)
  const forms = REPLY_FORMS.filter((form) => v.read(reply, form, `${path}.${form}`) !== undefined)
  if (forms.length !== 1) throw invalidInput(`${path} must have exactly one of ${REPLY_FORMS.join(', ')} (it has ${forms.length})`)
  const at = (key) => `${path}.${key}`
  v.optNumber(v.read(reply, 'status', at('status')), at('status'), { min: 100, max: 999, integer: true })
  for (const key of ['delayMs', 'chunkDelayMs', 'disconnectAfter']) v.optNumber(v.read(reply, key, at(key)), at(key), { min: 0, max: 2 ** 31 - 1 })
  v.optHeaders(v.read(reply, 'headers', at('headers')), at('headers'))
  if (forms[0] === 'sse') v.array(reply.sse, at('sse'))
  if (forms[0] === 'error') {
    const spec = v.object(reply.error, at('error'))
    v.optNumber(v.read(spec, 'status', at('error.status')), at('error.status'), { min: 100, max: 999, integer: true })
    v.optHeaders(v.read(spec, 'headers', at('error.headers')), at('error.headers'))
  }
  if (forms[0] === 'json') v.jsonValue(reply.json, at('json'))
  if (forms[0] === 'turn') checkTurn(reply.turn, at('turn'))
}

function checkTurn(turn, path) {
  v.object(turn, path)
  const at = (key) => `${path}.${key}`
  const content = v.read(turn, 'content', at('content'))
  if (content !== undefined && content !== null && typeof content !== 'string') v.array(content, at('content'))
  v.optArray(v.read(turn, 'toolCalls', at('toolCalls')), at('toolCalls'))?.forEach((call, i) => {
    v.object(call, `${at('toolCalls')}[${i}]`)
    v.string(call.name, `${at('toolCalls')}[${i}].name`, { nonEmpty: true })
  })
  v.optObject(v.read(turn, 'usage', at('usage')), at('usage'))
  v.optString(v.read(turn, 'finishReason', at('finishReason')), at('finishReason'))
  v.optString(v.read(turn, 'model', at('model')), at('model'))
}

/**
 * Start a mock OpenAI-compatible upstream on 127.0.0.1 (an ephemeral port unless `port` is given).
 */
function startMockUpstream(options) {
  try {
    v.optObject(options, 'options')
    v.optNumber(options && v.read(options, 'port', 'options.port'), 'options.port', { min: 0, max: 65535, integer: true })
    v.optFunction(options && v.read(options, 'handler', 'options.handler'), 'options.handler')
  } catch (err) {
    return Promise.reject(v.typed(err, 'startMockUpstream'))
  }
  return listen(options ?? {})
}

function listen(options) {
  let mock
  const server = http.createServer((req, res) => {
    const receivedAt = Date.now()
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('error', () => {})
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      let json
      if (body.length) {
        try {
          json = JSON.parse(body)
        } catch {
          json = undefined
        }
      }
      const recorded = {
        method: req.method,
        path: req.url,
        headers: recordHeaders(req.headers),
        body,
        json,
        receivedAt,
        disconnected: false,
      }
      mock.requests.push(recorded)
      mock._dispatch(req, res, recorded).catch((err) => {
        if (res.headersSent || res.destroyed) {
          res.destroy()
          return
        }
        const payload = JSON.stringify(errorBody(`mock upstream: ${err?.message ?? err}`, { type: 'mock_error' }))
        res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) })
        res.end(payload)
      })
    })
  })
  server.on('connection', (socket) => {
    mock?._sockets.add(socket)
    socket.on('close', () => mock?._sockets.delete(socket))
    if (mock?._closed) socket.destroy()
  })
  server.on('clientError', (_err, socket) => socket.destroy())

  return new Promise((resolve, reject) => {
    server.once('error', (cause) => reject(new SwitchyardError({ kind: 'network', message: `the mock upstream could not listen on 127.0.0.1 (${cause.code})`, cause })))
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.removeAllListeners('error')
      mock = new MockUpstream(server, options)
      resolve(mock)
    })
  })
}

module.exports = {
  startMockUpstream,
  completion,
  streamChunks,
  errorBody,
}

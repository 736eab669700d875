// Tests of the JAF-compatible provider (`makeLiteLLMProvider`) against real loopback servers:
// error shapes, retries, timeouts, streams, aborts, usage reports, secrets, headers, env
// defaults, bad input, panics and proxies.
import { test, describe, before, beforeEach, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import http from 'node:http'
import net from 'node:net'
import util from 'node:util'
import { rejection } from './support/assertions.mjs'

const require = createRequire(import.meta.url)
const { makeLiteLLMProvider, SwitchyardError } = require('../lib/index.js')
const { nativeAsync } = require('../lib/native.js')
const native = require('../index.js')
const { startMockUpstream, completion, streamChunks, errorBody } = require('../lib/testing.js')

// The suite must not depend on the proxy settings of whoever runs it.
const PROXY_ENV = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy']
const savedProxyEnv = Object.fromEntries(PROXY_ENV.map((k) => [k, process.env[k]]))
for (const k of PROXY_ENV) delete process.env[k]
after(() => restoreEnv(savedProxyEnv))

function restoreEnv(saved) {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
}

// ---- helpers ----------------------------------------------------------------------------------

const MODEL = 'gpt-4o-mini'
const agent = (extra = {}) => ({
  name: 'TestAgent',
  instructions: () => 'You are a test.',
  modelConfig: { name: MODEL },
  ...extra,
})
const state = (messages = [{ role: 'user', content: 'Hello' }]) => ({ messages })
const FAST = { 'retry-after-ms': '1' }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))


/** Drain a stream: every yielded chunk and the error it ended with (if any). */
async function drain(gen, onChunk) {
  const chunks = []
  let error
  try {
    for await (const chunk of gen) {
      chunks.push(chunk)
      onChunk?.(chunk, chunks)
    }
  } catch (err) {
    error = err
  }
  return { chunks, error, deltas: chunks.filter((c) => c.delta !== undefined).map((c) => c.delta) }
}

const withTimeout = (promise, ms, what) =>
  Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} did not settle within ${ms}ms`)), ms).unref()),
  ])

async function waitFor(predicate, ms = 2000) {
  const deadline = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > deadline) return false
    await sleep(5)
  }
  return true
}

function assertSwitchyard(err, kind) {
  assert.ok(err instanceof Error, `not an Error: ${util.inspect(err)}`)
  assert.ok(err instanceof SwitchyardError, `not a SwitchyardError: ${util.inspect(err)}`)
  assert.equal(err.kind, kind, `kind: ${err.kind} (${err.message})`)
}

/** A port nothing listens on. */
async function deadPort() {
  const srv = net.createServer()
  await new Promise((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address()
  await new Promise((r) => srv.close(r))
  return port
}

/**
 * A tiny server of our own that answers with a slow, endless SSE stream (or hangs), and records
 * when the client's connection closes.
 */
async function startSlowServer({ hang = false, intervalMs = 40 } = {}) {
  const requests = []
  const server = http.createServer((req, res) => {
    const rec = { closedAt: undefined, receivedAt: Date.now() }
    requests.push(rec)
    req.resume()
    let timer
    res.on('close', () => {
      clearInterval(timer)
      rec.closedAt = Date.now()
    })
    if (hang) return
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    let i = 0
    const chunks = streamChunks({ content: Array.from({ length: 1000 }, (_, n) => `t${n} `) })
    timer = setInterval(() => {
      if (i < chunks.length) res.write(`data: ${JSON.stringify(chunks[i++])}\n\n`)
    }, intervalMs)
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => {
      server.closeAllConnections()
      return new Promise((r) => server.close(r))
    },
  }
}

/** A plain HTTP forward proxy: absolute-form requests are recorded and forwarded. */
async function startForwardProxy() {
  const seen = []
  const connects = []
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers })
    let target
    try {
      target = new URL(req.url)
    } catch {
      res.writeHead(400).end('proxy: not an absolute-form request')
      return
    }
    const headers = { ...req.headers, host: target.host }
    delete headers['proxy-connection']
    delete headers['proxy-authorization']
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers },
      (upRes) => {
        res.writeHead(upRes.statusCode, upRes.headers)
        upRes.pipe(res)
      },
    )
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  server.on('connect', (req, socket) => {
    connects.push(req.url)
    socket.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n')
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    connects,
    close: () => {
      server.closeAllConnections()
      return new Promise((r) => server.close(r))
    },
  }
}

// ---- the suite --------------------------------------------------------------------------------

let mock
before(async () => {
  mock = await startMockUpstream()
})
beforeEach(() => mock.reset())
after(() => mock.close())

const provider = (opts = {}, apiKey = 'sk-test', proxyConfig, defaultHeaders) =>
  makeLiteLLMProvider(mock.baseURL, apiKey, proxyConfig, defaultHeaders, opts)

describe('upstream HTTP errors keep the openai SDK shape', () => {
  const cases = [
    { status: 400, name: 'BadRequestError', kind: 'invalid_request', retryable: false },
    { status: 401, name: 'AuthenticationError', kind: 'auth', retryable: false },
    { status: 404, name: 'NotFoundError', kind: 'not_found', retryable: false },
    { status: 429, name: 'RateLimitError', kind: 'rate_limited', retryable: true },
    { status: 500, name: 'InternalServerError', kind: 'upstream_error', retryable: true },
  ]
  for (const c of cases) {
    test(`${c.status} → ${c.name} / ${c.kind}`, async () => {
      const body = errorBody(`Something about ${c.status} went wrong`, {
        type: 'some_error_type',
        code: `code_${c.status}`,
        param: 'messages',
      })
      mock.reply({ error: { status: c.status, body, headers: { 'X-Request-Id': `req_${c.status}` } } })
      const err = await rejection(provider({ maxRetries: 0 }).getCompletion(state(), agent(), {}))
      assertSwitchyard(err, c.kind)
      assert.equal(err.status, c.status)
      assert.deepEqual(err.error, body.error)
      assert.equal(err.code, `code_${c.status}`)
      assert.equal(err.type, 'some_error_type')
      assert.equal(err.param, 'messages')
      assert.equal(err.message, `${c.status} Something about ${c.status} went wrong`)
      assert.equal(err.name, c.name)
      assert.equal(err.retryable, c.retryable)
      assert.equal(err.provider, 'litellm')
      assert.equal(err.model, MODEL)
      assert.deepEqual(err.body, body)
      // Headers: a plain object with lower-case names.
      assert.equal(typeof err.headers, 'object')
      assert.ok(!(err.headers instanceof Map))
      for (const k of Object.keys(err.headers)) assert.equal(k, k.toLowerCase(), `header name ${k}`)
      assert.equal(err.headers['x-request-id'], `req_${c.status}`)
      assert.match(err.headers['content-type'], /application\/json/)
      assert.equal(err.request_id, `req_${c.status}`)
      assert.equal(mock.requests.length, 1)
    })
  }

  test('an HTML error page (502) keeps the text', async () => {
    const html = '<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>'
    mock.reply({ error: { status: 502, body: html } })
    const err = await rejection(provider({ maxRetries: 0 }).getCompletion(state(), agent(), {}))
    assertSwitchyard(err, 'upstream_error')
    assert.equal(err.status, 502)
    assert.equal(err.message, `502 ${html}`)
    assert.equal(err.error, undefined)
    assert.equal(err.body, html)
    assert.equal(err.name, 'InternalServerError')
    assert.match(err.headers['content-type'], /text\/html/)
  })

  test('malformed JSON with a 200 is bad_response and not retried', async () => {
    mock.reply({ raw: '{"id": "chatcmpl-1", "choices": [', headers: { 'content-type': 'application/json' } })
    const err = await rejection(provider().getCompletion(state(), agent(), {}))
    assertSwitchyard(err, 'bad_response')
    assert.equal(err.retryable, false)
    assert.equal(err.provider, 'litellm')
    await sleep(50)
    assert.equal(mock.requests.length, 1)
  })

  test('a 200 JSON without choices is bad_response', async () => {
    mock.reply({ json: { id: 'chatcmpl-x', object: 'chat.completion', created: 1, model: MODEL, choices: [] } })
    const err = await rejection(provider().getCompletion(state(), agent(), {}))
    assertSwitchyard(err, 'bad_response')
    mock.reply({ json: { id: 'chatcmpl-y', object: 'chat.completion' } })
    const err2 = await rejection(provider().getCompletion(state(), agent(), {}))
    assertSwitchyard(err2, 'bad_response')
  })

  test('a 200 JSON {"error":{...}} rejects with that message', async () => {
    mock.reply({ json: errorBody('The model is overloaded right now', { type: 'server_error' }) })
    const err = await rejection(provider().getCompletion(state(), agent(), {}))
    assert.ok(err instanceof SwitchyardError)
    assert.equal(err.message, 'The model is overloaded right now')
    assert.deepEqual(err.error, errorBody('The model is overloaded right now', { type: 'server_error' }).error)
  })
})

describe('connection failures and timeouts', () => {
  test('connection refused → network, retryable, no retries with maxRetries: 0', async () => {
    const port = await deadPort()
    const p = makeLiteLLMProvider(`http://127.0.0.1:${port}`, 'k', undefined, undefined, { maxRetries: 0 })
    const started = Date.now()
    const err = await rejection(p.getCompletion(state(), agent(), {}))
    assertSwitchyard(err, 'network')
    assert.equal(err.retryable, true)
    assert.equal(err.status, undefined)
    assert.equal(err.name, 'APIConnectionError')
    assert.equal(err.provider, 'litellm')
    assert.equal(err.model, MODEL)
    // No backoff happened (the SDK-style first backoff is ≥ 375 ms).
    assert.ok(Date.now() - started < 350, `took ${Date.now() - started}ms`)
  })

  test('connection refused with maxRetries: 1 retries once (one backoff) then fails', async () => {
    const port = await deadPort()
    const p = makeLiteLLMProvider(`http://127.0.0.1:${port}`, 'k', undefined, undefined, { maxRetries: 1 })
    const started = Date.now()
    const err = await rejection(p.getCompletion(state(), agent(), {}))
    const took = Date.now() - started
    assertSwitchyard(err, 'network')
    assert.equal(err.retryable, true)
    // One retry means exactly one backoff of 375–500 ms; two would be ≥ 1.1 s.
    assert.ok(took >= 350 && took < 1100, `took ${took}ms`)
  })

  test('connection reset counts 1 + maxRetries attempts', async () => {
    mock.reply({ destroy: true }, { destroy: true }, { destroy: true })
    const err = await rejection(provider({ maxRetries: 1 }).getCompletion(state(), agent(), {}))
    assertSwitchyard(err, 'network')
    assert.equal(err.retryable, true)
    assert.equal(mock.requests.length, 2)
  })

  test('hanging upstream → timeout', async () => {
    mock.reply({ hang: true })
    const started = Date.now()
    const err = await rejection(provider({ timeoutMs: 200, maxRetries: 0 }).getCompletion(state(), agent(), {}))
    const took = Date.now() - started
    assertSwitchyard(err, 'timeout')
    assert.equal(err.retryable, true)
    assert.equal(err.name, 'APIConnectionTimeoutError')
    assert.ok(took >= 190 && took < 1000, `took ${took}ms`)
    assert.equal(mock.requests.length, 1)
  })

  test('timeout with maxRetries: 1 → two requests', async () => {
    mock.reply({ hang: true }, { hang: true }, { hang: true })
    const err = await rejection(provider({ timeoutMs: 200, maxRetries: 1 }).getCompletion(state(), agent(), {}))
    assertSwitchyard(err, 'timeout')
    await sleep(30)
    assert.equal(mock.requests.length, 2)
  })
})

describe('retries', () => {
  test('429 with retry-after-ms then success resolves after 2 requests', async () => {
    mock.reply(
      { error: { status: 429, headers: { 'retry-after-ms': '10' } } },
      { json: completion({ content: 'after retry' }) },
    )
    const res = await provider().getCompletion(state(), agent(), {})
    assert.equal(res.message.content, 'after retry')
    assert.equal(mock.requests.length, 2)
  })

  test('500 ×3 rejects after exactly 3 requests (default maxRetries 2)', async () => {
    const e500 = { error: { status: 500, headers: FAST } }
    mock.reply(e500, e500, e500, e500, { json: completion({ content: 'too late' }) })
    const started = Date.now()
    const err = await rejection(provider().getCompletion(state(), agent(), {}))
    assertSwitchyard(err, 'upstream_error')
    assert.equal(err.status, 500)
    assert.ok(Date.now() - started < 350, `server delay not honoured: ${Date.now() - started}ms`)
    await sleep(30)
    assert.equal(mock.requests.length, 3)
  })

  for (const status of [400, 401]) {
    test(`${status} is not retried`, async () => {
      const e = { error: { status, headers: FAST } }
      mock.reply(e, { json: completion() })
      const err = await rejection(provider().getCompletion(state(), agent(), {}))
      assert.equal(err.status, status)
      assert.equal(err.retryable, false)
      await sleep(30)
      assert.equal(mock.requests.length, 1)
    })
  }

  test('x-should-retry: false on a 500 → 1 request', async () => {
    mock.reply({ error: { status: 500, headers: { ...FAST, 'x-should-retry': 'false' } } }, { json: completion() })
    const err = await rejection(provider().getCompletion(state(), agent(), {}))
    assert.equal(err.status, 500)
    assert.equal(err.retryable, false)
    await sleep(30)
    assert.equal(mock.requests.length, 1)
  })

  test('x-should-retry: true on a 400 → retried', async () => {
    mock.reply(
      { error: { status: 400, headers: { ...FAST, 'x-should-retry': 'true' } } },
      { json: completion({ content: 'retried 400' }) },
    )
    const res = await provider().getCompletion(state(), agent(), {})
    assert.equal(res.message.content, 'retried 400')
    assert.equal(mock.requests.length, 2)
  })

  test('retry-after: 0 (seconds) is honoured', async () => {
    mock.reply({ error: { status: 429, headers: { 'retry-after': '0' } } }, { json: completion({ content: 'now' }) })
    const started = Date.now()
    const res = await provider().getCompletion(state(), agent(), {})
    const took = Date.now() - started
    assert.equal(res.message.content, 'now')
    assert.equal(mock.requests.length, 2)
    // Our own backoff would have waited ≥ 375 ms.
    assert.ok(took < 300, `took ${took}ms`)
  })

  for (const status of [408, 409]) {
    test(`${status} is retried`, async () => {
      mock.reply({ error: { status, headers: FAST } }, { json: completion({ content: `after ${status}` }) })
      const res = await provider().getCompletion(state(), agent(), {})
      assert.equal(res.message.content, `after ${status}`)
      assert.equal(mock.requests.length, 2)
    })
  }

  test('retried request bodies are identical', async () => {
    mock.reply(
      { error: { status: 503, headers: FAST } },
      { error: { status: 429, headers: FAST } },
      { json: completion({ content: 'third time' }) },
    )
    const res = await provider().getCompletion(
      state([{ role: 'user', content: 'Repeat after me: ü ✓ "quoted"' }]),
      agent({ modelConfig: { name: MODEL, temperature: 0.3 } }),
      {},
    )
    assert.equal(res.message.content, 'third time')
    assert.equal(mock.requests.length, 3)
    const [a, b, c] = mock.requests
    assert.ok(a.body.length > 0)
    assert.equal(b.body, a.body)
    assert.equal(c.body, a.body)
    assert.equal(a.json.temperature, 0.3)
  })
})

describe('streams', () => {
  test('mid-stream disconnect: delivered chunks first, then a network error saying what was delivered', async () => {
    mock.reply({ sse: streamChunks({ content: 'Hello brave new world' }), disconnectAfter: 3 })
    const { deltas, error } = await drain(provider().getCompletionStream(state(), agent(), {}))
    assert.deepEqual(deltas, ['Hello', ' brave'])
    assertSwitchyard(error, 'network')
    assert.equal(error.retryable, true)
    assert.equal(error.provider, 'litellm')
    assert.equal(error.model, MODEL)
    assert.ok(error.delivered, 'delivered is missing')
    assert.equal(error.delivered.chunks, 3)
    assert.equal(error.delivered.contentChars, 'Hello brave'.length)
    assert.equal(error.delivered.finishReason, null)
    assert.equal(mock.requests.length, 1, 'a stream that already delivered must not be retried')
  })

  test('a garbage SSE line mid-stream → earlier chunks, then bad_response', async () => {
    const chunks = streamChunks({ content: 'one two three' })
    mock.reply({ sse: [chunks[0], chunks[1], 'data: {not json\n\n', ...chunks.slice(2)] })
    const { deltas, error } = await drain(provider().getCompletionStream(state(), agent(), {}))
    assert.deepEqual(deltas, ['one'])
    assertSwitchyard(error, 'bad_response')
    assert.equal(error.delivered.chunks, 2)
    assert.equal(error.delivered.contentChars, 3)
  })

  test('an {"error":{...}} data object mid-stream rejects with its message after earlier chunks', async () => {
    const chunks = streamChunks({ content: 'alpha beta gamma' })
    mock.reply({
      sse: [chunks[0], chunks[1], chunks[2], errorBody('Upstream overloaded mid-stream', { type: 'server_error' }), ...chunks.slice(3)],
    })
    const { deltas, error } = await drain(provider().getCompletionStream(state(), agent(), {}))
    assert.deepEqual(deltas, ['alpha', ' beta'])
    assert.ok(error instanceof SwitchyardError, util.inspect(error))
    assert.equal(error.message, 'Upstream overloaded mid-stream')
    assert.equal(error.error?.message, 'Upstream overloaded mid-stream')
    assert.equal(error.delivered.chunks, 3)
  })

  test('comments, CRLF, multi-line data, split writes and no [DONE] after a finish_reason complete normally', async () => {
    const chunks = streamChunks({ content: ['Hel', 'lo', ' the', 're'], usage: { prompt_tokens: 7, completion_tokens: 4 } })
    const [role, c1, c2, c3, c4, finish, usage] = chunks.map((c) => JSON.stringify(c))
    mock.reply({
      sse: [
        ': keep-alive comment\n\n',
        `data: ${role}\r\n\r\n`,
        // Multi-line data: the lines join with "\n", which is JSON whitespace here.
        `data: ${c1.slice(0, 1)}\ndata: ${c1.slice(1)}\n\n`,
        ': ping\r\n\r\n',
        `data: ${c2}\r\n\r\n`,
        // One event split across two writes.
        `data: ${c3.slice(0, 10)}`,
        `${c3.slice(10)}\n\n`,
        `event: message\ndata: ${c4}\n\n`,
        `data: ${finish}\n\n`,
        `data: ${usage}\n\n`,
      ],
      done: false,
      chunkDelayMs: 2,
    })
    const { chunks: out, deltas, error } = await drain(provider().getCompletionStream(state(), agent(), {}))
    assert.equal(error, undefined, `unexpected error: ${error?.message}`)
    assert.deepEqual(deltas, ['Hel', 'lo', ' the', 're'])
    const done = out.filter((c) => c.isDone)
    assert.equal(done.length, 2)
    assert.equal(done[0].finishReason, 'stop')
    assert.deepEqual(done[1].usage, { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 })
  })

  test('a stream that ends cleanly without finish_reason or [DONE] is bad_response saying what was delivered', async () => {
    const chunks = streamChunks({ content: 'a b c' })
    mock.reply({ sse: chunks.slice(0, 3), done: false })
    const { deltas, error } = await drain(provider().getCompletionStream(state(), agent(), {}))
    assert.deepEqual(deltas, ['a', ' b'])
    assertSwitchyard(error, 'bad_response')
    assert.match(error.message, /3 chunks/)
    assert.equal(error.delivered.chunks, 3)
    assert.equal(error.delivered.contentChars, 3)
  })

  test('a stream request that gets a 429 is retried before any chunk', async () => {
    mock.reply(
      { error: { status: 429, headers: FAST } },
      { sse: streamChunks({ content: 'streamed after retry' }) },
    )
    const { deltas, error } = await drain(provider().getCompletionStream(state(), agent(), {}))
    assert.equal(error, undefined, error?.message)
    assert.equal(deltas.join(''), 'streamed after retry')
    assert.equal(mock.requests.length, 2)
    assert.equal(mock.requests[0].body, mock.requests[1].body)
    assert.equal(mock.requests[1].json.stream, true)
    assert.deepEqual(mock.requests[1].json.stream_options, { include_usage: true })
  })

  test('a stream HTTP 500 rejects on the first next()', async () => {
    mock.reply({ error: { status: 500, body: errorBody('stream refused', { type: 'server_error' }) } })
    const gen = provider({ maxRetries: 0 }).getCompletionStream(state(), agent(), {})
    const err = await rejection(gen.next())
    assertSwitchyard(err, 'upstream_error')
    assert.equal(err.status, 500)
    assert.equal(err.message, '500 stream refused')
    assert.equal(err.name, 'InternalServerError')
    assert.deepEqual(await gen.next(), { value: undefined, done: true })
  })

  test('a stream that stalls between chunks times out', async () => {
    mock.reply({ sse: streamChunks({ content: 'slow stream here' }), chunkDelayMs: 600 })
    const started = Date.now()
    const { deltas, error } = await drain(provider({ timeoutMs: 200, maxRetries: 0 }).getCompletionStream(state(), agent(), {}))
    assertSwitchyard(error, 'timeout')
    assert.deepEqual(deltas, [])
    assert.equal(error.delivered.chunks, 1)
    assert.ok(Date.now() - started < 550, `took ${Date.now() - started}ms`)
  })
})

describe('abort', () => {
  test('a signal aborted before the call rejects with aborted and sends nothing', async () => {
    const ac = new AbortController()
    ac.abort()
    const err = await rejection(provider().getCompletion(state(), agent(), { signal: ac.signal }))
    assertSwitchyard(err, 'aborted')
    assert.equal(err.retryable, false)
    assert.equal(err.name, 'APIUserAbortError')
    const gen = provider().getCompletionStream(state(), agent(), { signal: ac.signal })
    assertSwitchyard(await rejection(gen.next()), 'aborted')
    await sleep(50)
    assert.equal(mock.requests.length, 0)
  })

  test('aborting a hanging getCompletion rejects promptly and closes the connection', async () => {
    const slow = await startSlowServer({ hang: true })
    try {
      const p = makeLiteLLMProvider(slow.url, 'k', undefined, undefined, { timeoutMs: 60_000 })
      const ac = new AbortController()
      setTimeout(() => ac.abort(), 100)
      const started = Date.now()
      const err = await withTimeout(rejection(p.getCompletion(state(), agent(), { signal: ac.signal })), 3000, 'aborted call')
      const took = Date.now() - started
      assertSwitchyard(err, 'aborted')
      assert.ok(took < 1000, `took ${took}ms`)
      assert.equal(slow.requests.length, 1)
      assert.ok(await waitFor(() => slow.requests[0].closedAt !== undefined, 1000), 'upstream connection not closed')
    } finally {
      await slow.close()
    }
  })

  test('the provider-level signal aborts calls too', async () => {
    mock.reply({ hang: true })
    const ac = new AbortController()
    const p = provider({ timeoutMs: 60_000, signal: ac.signal })
    setTimeout(() => ac.abort(), 50)
    const err = await withTimeout(rejection(p.getCompletion(state(), agent(), {})), 3000, 'aborted call')
    assertSwitchyard(err, 'aborted')
  })

  test('aborting during a stream makes the generator throw aborted', async () => {
    mock.reply({ sse: streamChunks({ content: 'one two three four five six seven' }), chunkDelayMs: 60 })
    const ac = new AbortController()
    const started = Date.now()
    const { deltas, error } = await withTimeout(
      drain(provider().getCompletionStream(state(), agent(), { signal: ac.signal }), (chunk) => {
        if (chunk.delta) ac.abort()
      }),
      3000,
      'aborted stream',
    )
    assertSwitchyard(error, 'aborted')
    assert.deepEqual(deltas, ['one'])
    assert.ok(error.delivered, 'delivered missing on an aborted stream')
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started}ms`)
  })

  test('breaking out of for await closes the upstream connection', async () => {
    const slow = await startSlowServer({ intervalMs: 30 })
    try {
      const p = makeLiteLLMProvider(slow.url, 'k')
      let got = 0
      for await (const chunk of p.getCompletionStream(state(), agent(), {})) {
        if (chunk.delta && ++got === 2) break
      }
      const brokeAt = Date.now()
      assert.equal(slow.requests.length, 1)
      assert.ok(
        await waitFor(() => slow.requests[0].closedAt !== undefined, 1000),
        'the upstream connection stayed open after the consumer stopped',
      )
      assert.ok(slow.requests[0].closedAt - brokeAt < 1000)
    } finally {
      await slow.close()
    }
  })
})

describe('usage reporting (onUsage)', () => {
  const recorder = () => {
    const calls = []
    return { calls, onUsage: (r) => calls.push(r) }
  }

  test('once on success, with upstream usage and a cost for gpt-4o-mini', async () => {
    const { calls, onUsage } = recorder()
    mock.reply({ json: completion({ content: 'hi', usage: { prompt_tokens: 1000, completion_tokens: 500 } }) })
    await provider({ onUsage }).getCompletion(state(), agent(), {})
    await sleep(10)
    assert.equal(calls.length, 1)
    const [r] = calls
    assert.equal(r.outcome, 'ok')
    assert.equal(r.provider, 'litellm')
    assert.equal(r.model, MODEL)
    assert.equal(r.stream, false)
    assert.equal(r.estimated, false)
    assert.deepEqual(r.usage, { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 })
    assert.equal(typeof r.cost, 'number')
    assert.ok(r.cost > 0)
    assert.equal(typeof r.durationMs, 'number')
  })

  test('once on a streamed success, with the usage the stream reported', async () => {
    const { calls, onUsage } = recorder()
    mock.reply({ sse: streamChunks({ content: 'a b', usage: { prompt_tokens: 20, completion_tokens: 2 } }) })
    const { error } = await drain(provider({ onUsage }).getCompletionStream(state(), agent(), {}))
    assert.equal(error, undefined)
    await sleep(10)
    assert.equal(calls.length, 1)
    assert.equal(calls[0].outcome, 'ok')
    assert.equal(calls[0].stream, true)
    assert.equal(calls[0].estimated, false)
    assert.deepEqual(calls[0].usage, { prompt_tokens: 20, completion_tokens: 2, total_tokens: 22 })
  })

  test('once on error, outcome error', async () => {
    const { calls, onUsage } = recorder()
    mock.reply({ error: { status: 400 } })
    const err = await rejection(provider({ onUsage }).getCompletion(state(), agent(), {}))
    await sleep(10)
    assert.equal(calls.length, 1)
    assert.equal(calls[0].outcome, 'error')
    assert.equal(calls[0].error, err)
  })

  test('once on an aborted stream: outcome aborted, estimated, delivered', async () => {
    const { calls, onUsage } = recorder()
    mock.reply({ sse: streamChunks({ content: 'one two three four five' }), chunkDelayMs: 50 })
    const ac = new AbortController()
    const { error } = await drain(provider({ onUsage }).getCompletionStream(state(), agent(), { signal: ac.signal }), (c) => {
      if (c.delta) ac.abort()
    })
    assertSwitchyard(error, 'aborted')
    await sleep(10)
    assert.equal(calls.length, 1)
    const [r] = calls
    assert.equal(r.outcome, 'aborted')
    assert.equal(r.estimated, true)
    assert.ok(r.delivered)
    assert.equal(r.delivered.contentChars, 3)
    assert.ok(r.usage.prompt_tokens > 0)
  })

  test('cost is null for an unknown model; pricing overrides', async () => {
    const { calls, onUsage } = recorder()
    const a = agent({ modelConfig: { name: 'my-house-model-7b' } })
    mock.reply({ json: completion({ content: 'x', model: 'my-house-model-7b', usage: { prompt_tokens: 100, completion_tokens: 50 } }) })
    await provider({ onUsage }).getCompletion(state(), a, {})
    assert.equal(calls.length, 1)
    assert.equal(calls[0].cost, null)

    const priced = recorder()
    mock.reply({ json: completion({ content: 'x', usage: { prompt_tokens: 100, completion_tokens: 50 } }) })
    await provider({ onUsage: priced.onUsage, pricing: { 'my-house-model-7b': { input: 1, output: 2 } } }).getCompletion(state(), a, {})
    assert.equal(priced.calls.length, 1)
    assert.ok(Math.abs(priced.calls[0].cost - (100 * 1 + 50 * 2) / 1e6) < 1e-12, `cost ${priced.calls[0].cost}`)

    const overridden = recorder()
    mock.reply({ json: completion({ content: 'x', usage: { prompt_tokens: 1_000_000, completion_tokens: 0 } }) })
    await provider({ onUsage: overridden.onUsage, pricing: { [MODEL]: { input: 42, output: 0 } } }).getCompletion(state(), agent(), {})
    assert.ok(Math.abs(overridden.calls[0].cost - 42) < 1e-9, `cost ${overridden.calls[0].cost}`)
  })
})

describe('API keys never leak', () => {
  function assertNoLeak(err, secret) {
    assert.ok(err instanceof SwitchyardError, util.inspect(err))
    const places = {
      message: err.message,
      json: JSON.stringify(err),
      string: String(err),
      error: JSON.stringify(err.error),
      body: typeof err.body === 'string' ? err.body : JSON.stringify(err.body),
      stack: err.stack,
      inspect: util.inspect(err, { depth: 10 }),
    }
    for (const [where, text] of Object.entries(places)) {
      assert.ok(!String(text).includes(secret), `the key leaked in ${where}: ${text}`)
    }
  }

  const KEY = 'sk-live-SECRET123456'
  const echo = (key) =>
    errorBody(`Incorrect API key provided: ${key}. You can find your API key at https://example.test.`, {
      type: 'invalid_request_error',
      code: 'invalid_api_key',
    })

  test('an upstream 401 echoing the apiKey', async () => {
    mock.reply({ error: { status: 401, body: echo(KEY) } })
    const err = await rejection(provider({}, KEY).getCompletion(state(), agent(), {}))
    assert.equal(mock.requests[0].headers.authorization, `Bearer ${KEY}`)
    assert.equal(err.status, 401)
    assert.match(err.message, /^401 Incorrect API key provided/)
    assertNoLeak(err, KEY)
  })

  test('a key passed via defaultHeaders x-api-key', async () => {
    const HKEY = 'sk-ant-HEADERKEY98765'
    mock.reply({ error: { status: 401, body: echo(HKEY) } })
    const err = await rejection(provider({}, undefined, undefined, { 'x-api-key': HKEY }).getCompletion(state(), agent(), {}))
    assert.equal(mock.requests[0].headers['x-api-key'], HKEY)
    assertNoLeak(err, HKEY)
  })

  test('a 200 JSON error and a mid-stream error echoing the key', async () => {
    mock.reply({ json: echo(KEY) })
    assertNoLeak(await rejection(provider({}, KEY).getCompletion(state(), agent(), {})), KEY)
    const chunks = streamChunks({ content: 'x y' })
    mock.reply({ sse: [chunks[0], echo(KEY)] })
    const { error } = await drain(provider({}, KEY).getCompletionStream(state(), agent(), {}))
    assertNoLeak(error, KEY)
  })

  test('an HTML error page echoing the key', async () => {
    mock.reply({ error: { status: 502, body: `<html><body>upstream rejected ${KEY}</body></html>` } })
    assertNoLeak(await rejection(provider({ maxRetries: 0 }, KEY).getCompletion(state(), agent(), {})), KEY)
  })
})

describe('defaultHeaders', () => {
  test('are sent on every request, retries included', async () => {
    mock.reply({ error: { status: 429, headers: FAST } })
    const p = provider({}, 'sk-a', undefined, { 'X-Trace-Id': 'trace-1', 'X-Team': 'blue' })
    await p.getCompletion(state(), agent(), {})
    await drain(p.getCompletionStream(state(), agent(), {}))
    assert.equal(mock.requests.length, 3)
    for (const r of mock.requests) {
      assert.equal(r.headers['x-trace-id'], 'trace-1')
      assert.equal(r.headers['x-team'], 'blue')
      assert.equal(r.headers.authorization, 'Bearer sk-a')
    }
  })

  for (const name of ['Authorization', 'authorization', 'AUTHORIZATION']) {
    test(`{ ${name}: 'Bearer other' } overrides the apiKey`, async () => {
      await provider({}, 'sk-from-apikey', undefined, { [name]: 'Bearer other' }).getCompletion(state(), agent(), {})
      assert.equal(mock.lastRequest().headers.authorization, 'Bearer other')
    })
  }

  test('Authorization: null removes the auth header', async () => {
    await provider({}, 'sk-from-apikey', undefined, { Authorization: null }).getCompletion(state(), agent(), {})
    assert.equal(mock.lastRequest().headers.authorization, undefined)
  })

  test("{ 'user-agent': null } removes the user-agent header", async () => {
    await provider({}, 'sk-x').getCompletion(state(), agent(), {})
    assert.ok(mock.lastRequest().headers['user-agent'], 'a user-agent is sent by default')
    await provider({}, 'sk-x', undefined, { 'user-agent': null }).getCompletion(state(), agent(), {})
    assert.equal(mock.lastRequest().headers['user-agent'], undefined)
  })

  test('a user-agent given in defaultHeaders replaces the default one', async () => {
    await provider({}, 'sk-x', undefined, { 'User-Agent': 'my-app/1.0' }).getCompletion(state(), agent(), {})
    assert.equal(mock.lastRequest().headers['user-agent'], 'my-app/1.0')
  })
})

describe('defaults from the environment', () => {
  const KEYS = ['LITELLM_URL', 'NEXT_PUBLIC_LITELLM_URL', 'LITELLM_API_KEY']

  test('LITELLM_URL and LITELLM_API_KEY are used when the arguments are omitted', async () => {
    const saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]))
    try {
      delete process.env.NEXT_PUBLIC_LITELLM_URL
      process.env.LITELLM_URL = mock.url
      process.env.LITELLM_API_KEY = 'sk-from-env-777'
      const res = await makeLiteLLMProvider().getCompletion(state(), agent(), {})
      assert.equal(res.message.content, 'ok')
      assert.equal(mock.requests.length, 1)
      assert.equal(mock.requests[0].path, '/chat/completions')
      assert.equal(mock.requests[0].headers.authorization, 'Bearer sk-from-env-777')

      delete process.env.LITELLM_API_KEY
      await makeLiteLLMProvider().getCompletion(state(), agent(), {})
      assert.equal(mock.lastRequest().headers.authorization, 'Bearer anything')
    } finally {
      restoreEnv(saved)
    }
  })
})

describe('bad input', () => {
  test("baseURL 'not a url' throws invalid_input synchronously", () => {
    assert.throws(
      () => makeLiteLLMProvider('not a url', 'k'),
      (err) => {
        assertSwitchyard(err, 'invalid_input')
        return true
      },
    )
  })

  test('an agent without a model rejects', async () => {
    const err = await rejection(provider().getCompletion(state(), agent({ name: 'X', modelConfig: {} }), {}))
    assert.equal(err.message, 'Model not specified for agent X')
    assertSwitchyard(err, 'invalid_input')
    const gen = provider().getCompletionStream(state(), agent({ name: 'X', modelConfig: undefined }), {})
    assert.equal((await rejection(gen.next())).message, 'Model not specified for agent X')
    assert.equal(mock.requests.length, 0)
  })

  test('an unknown message role is invalid_input', async () => {
    const err = await rejection(provider().getCompletion(state([{ role: 'wizard', content: 'hi' }]), agent(), {}))
    assertSwitchyard(err, 'invalid_input')
    assert.equal(mock.requests.length, 0)
  })

  test('a header value with a newline is invalid_input', () => {
    assert.throws(
      () => makeLiteLLMProvider(mock.baseURL, 'k', undefined, { 'x-evil': 'a\r\nInjected: yes' }),
      (err) => {
        assertSwitchyard(err, 'invalid_input')
        return true
      },
    )
    assert.throws(
      () => makeLiteLLMProvider(mock.baseURL, 'sk-bad\nkey'),
      (err) => {
        assertSwitchyard(err, 'invalid_input')
        assert.ok(!err.message.includes('sk-bad'), err.message)
        return true
      },
    )
  })
})

describe('panics', () => {
  test('a Rust panic resolves as an internal failure and the process keeps working', async () => {
    const failure = await native.triggerPanicForTesting('boom')
    assert.equal(failure.kind, 'internal', 'the failure crosses as data')
    const err = await rejection(nativeAsync(() => native.triggerPanicForTesting('boom')))
    assertSwitchyard(err, 'internal')
    assert.match(err.message, /boom/)
    const res = await provider().getCompletion(state(), agent(), {})
    assert.equal(res.message.content, 'ok')
  })
})

describe('proxy', () => {
  let proxy
  before(async () => {
    proxy = await startForwardProxy()
  })
  beforeEach(() => {
    proxy.seen.length = 0
    proxy.connects.length = 0
  })
  after(() => proxy.close())

  test('proxyConfig.httpProxy forwards http:// calls through the proxy', async () => {
    const res = await provider({}, 'sk-p', { httpProxy: proxy.url }).getCompletion(state(), agent(), {})
    assert.equal(res.message.content, 'ok')
    assert.deepEqual(proxy.connects, [])
    assert.equal(proxy.seen.length, 1)
    assert.equal(proxy.seen[0].method, 'POST')
    assert.equal(proxy.seen[0].url, `${mock.url}/chat/completions`)
    assert.equal(mock.requests.length, 1)
    assert.equal(mock.requests[0].headers.authorization, 'Bearer sk-p')
  })

  test('streams work through the proxy too', async () => {
    const { deltas, error } = await drain(provider({}, 'sk-p', { httpProxy: proxy.url }).getCompletionStream(state(), agent(), {}))
    assert.equal(error, undefined, error?.message)
    assert.deepEqual(deltas, ['ok'])
    assert.equal(proxy.seen.length, 1)
  })

  test("noProxy: '127.0.0.1' bypasses the proxy", async () => {
    const res = await provider({}, 'sk-p', { httpProxy: proxy.url, noProxy: '127.0.0.1' }).getCompletion(state(), agent(), {})
    assert.equal(res.message.content, 'ok')
    assert.equal(proxy.seen.length, 0)
    assert.equal(mock.requests.length, 1)
  })

  test('HTTP_PROXY at provider creation time is used', async () => {
    const saved = Object.fromEntries(PROXY_ENV.map((k) => [k, process.env[k]]))
    let p
    try {
      process.env.HTTP_PROXY = proxy.url
      p = provider({}, 'sk-env-proxy')
    } finally {
      restoreEnv(saved)
    }
    const res = await p.getCompletion(state(), agent(), {})
    assert.equal(res.message.content, 'ok')
    assert.equal(proxy.seen.length, 1)
    assert.equal(proxy.seen[0].url, `${mock.url}/chat/completions`)
    // Without the variable, the next provider goes direct.
    await provider({}, 'sk-env-proxy').getCompletion(state(), agent(), {})
    assert.equal(proxy.seen.length, 1)
    assert.equal(mock.requests.length, 2)
  })
})

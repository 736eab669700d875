// Tests of the mock upstream shipped as `switchyard-llm/testing` (no native addon needed).
import { test, describe, beforeEach, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import net from 'node:net'

const require = createRequire(import.meta.url)
const { startMockUpstream, completion, streamChunks, errorBody } = require('../lib/testing.js')
const { SwitchyardError } = require('../lib/errors.js')

const post = (mock, body, { path = '/chat/completions', headers = {}, ...init } = {}) =>
  fetch(`${mock.baseURL}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  })

// Minimal SSE parser: returns the `data:` payloads of each event.
function sseData(text) {
  return text
    .split(/\r?\n\r?\n/)
    .map((block) =>
      block
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n'),
    )
    .filter((data) => data.length > 0)
}

// Reassemble streamed chunks the way an OpenAI client does.
function reassemble(chunks) {
  let content = ''
  let finishReason = null
  let usage
  const calls = []
  for (const chunk of chunks) {
    if (chunk.usage) usage = chunk.usage
    for (const choice of chunk.choices) {
      if (choice.delta.content) content += choice.delta.content
      for (const tc of choice.delta.tool_calls ?? []) {
        calls[tc.index] ??= { id: undefined, name: '', arguments: '' }
        if (tc.id) calls[tc.index].id = tc.id
        if (tc.function?.name) calls[tc.index].name += tc.function.name
        if (tc.function?.arguments) calls[tc.index].arguments += tc.function.arguments
      }
      if (choice.finish_reason) finishReason = choice.finish_reason
    }
  }
  return { content, calls, finishReason, usage }
}

const withTimeout = (promise, ms, what) =>
  Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} did not settle within ${ms}ms`)), ms).unref()),
  ])

async function waitFor(predicate, ms = 2000) {
  const deadline = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('mock upstream server', () => {
  let mock
  beforeEach(async () => {
    if (mock) await mock.close()
    mock = await startMockUpstream()
  })
  after(() => mock?.close())

  test('listens on 127.0.0.1 with url === baseURL', () => {
    assert.match(mock.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(mock.baseURL, mock.url)
    assert.notEqual(mock.url, 'http://127.0.0.1:0')
  })

  test('json reply with status and headers', async () => {
    mock.reply({ json: { hello: 'world' }, status: 201, headers: { 'x-request-id': 'req_123' } })
    const res = await post(mock, { model: 'm' })
    assert.equal(res.status, 201)
    assert.equal(res.headers.get('content-type'), 'application/json')
    assert.equal(res.headers.get('x-request-id'), 'req_123')
    assert.deepEqual(await res.json(), { hello: 'world' })
  })

  test('json reply honours delayMs', async () => {
    mock.reply({ json: { ok: true }, delayMs: 80 })
    const start = Date.now()
    const res = await post(mock, {})
    await res.json()
    assert.ok(Date.now() - start >= 70, `answered after ${Date.now() - start}ms`)
  })

  test('sse reply sends objects as data events, strings verbatim, and [DONE]', async () => {
    mock.reply({
      sse: [{ a: 1 }, ': keep-alive comment\n\n', 'data: {"b":\r\ndata: 2}\r\n\r\n', { c: 3 }],
      headers: { 'x-extra': 'yes' },
    })
    const res = await post(mock, { stream: true })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/event-stream')
    assert.equal(res.headers.get('x-extra'), 'yes')
    const text = await res.text()
    assert.equal(
      text,
      'data: {"a":1}\n\n' + ': keep-alive comment\n\n' + 'data: {"b":\r\ndata: 2}\r\n\r\n' + 'data: {"c":3}\n\n' + 'data: [DONE]\n\n',
    )
    assert.deepEqual(sseData(text), ['{"a":1}', '{"b":\n2}', '{"c":3}', '[DONE]'])
  })

  test('sse reply with done: false omits [DONE]', async () => {
    mock.reply({ sse: [{ a: 1 }], done: false })
    const text = await (await post(mock, {})).text()
    assert.equal(text, 'data: {"a":1}\n\n')
  })

  test('sse events are separate writes, spaced by chunkDelayMs', async () => {
    mock.reply({ sse: [{ n: 1 }, { n: 2 }, { n: 3 }], chunkDelayMs: 40 })
    const res = await post(mock, {})
    const reader = res.body.getReader()
    const decoder = new TextDecoder()
    const reads = []
    const start = Date.now()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      reads.push({ text: decoder.decode(value), at: Date.now() - start })
    }
    assert.equal(reads.map((r) => r.text).join(''), 'data: {"n":1}\n\ndata: {"n":2}\n\ndata: {"n":3}\n\ndata: [DONE]\n\n')
    // Each event is its own write, 40ms apart. (A client lagging under load may still coalesce
    // some writes into one read, so only require that they did not all arrive together.)
    assert.ok(reads.length >= 2, `expected separate reads, got ${JSON.stringify(reads)}`)
    assert.ok(reads.at(-1).at >= 100, `last event after ${reads.at(-1).at}ms`)
  })

  test('sse disconnectAfter drops the connection mid-stream', async () => {
    mock.reply({ sse: [{ n: 1 }, { n: 2 }, { n: 3 }], disconnectAfter: 2 })
    const res = await post(mock, {})
    assert.equal(res.status, 200)
    const reader = res.body.getReader()
    const decoder = new TextDecoder()
    let received = ''
    await assert.rejects(async () => {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        received += decoder.decode(value)
      }
    })
    assert.equal(received, 'data: {"n":1}\n\ndata: {"n":2}\n\n')
  })

  test('sse disconnectAfter: 0 sends headers then drops', async () => {
    mock.reply({ sse: [{ n: 1 }], disconnectAfter: 0 })
    const res = await post(mock, {})
    assert.equal(res.status, 200)
    await assert.rejects(res.text())
  })

  test('error reply with an HTML string body is sent as-is', async () => {
    const html = '<html><body><h1>502 Bad Gateway</h1></body></html>'
    mock.reply({ error: { status: 502, body: html } })
    const res = await post(mock, {})
    assert.equal(res.status, 502)
    assert.match(res.headers.get('content-type'), /^text\/html/)
    assert.equal(await res.text(), html)
  })

  test('error reply with an object body, headers and contentType', async () => {
    const body = errorBody('Rate limit reached', { type: 'requests', code: 'rate_limit_exceeded' })
    mock.reply(
      { error: { status: 429, body, headers: { 'retry-after': '2' } } },
      { error: { status: 400, body: 'plain words', contentType: 'text/plain' } },
    )
    const res = await post(mock, {})
    assert.equal(res.status, 429)
    assert.equal(res.headers.get('content-type'), 'application/json')
    assert.equal(res.headers.get('retry-after'), '2')
    assert.deepEqual(await res.json(), body)

    const res2 = await post(mock, {})
    assert.equal(res2.status, 400)
    assert.equal(res2.headers.get('content-type'), 'text/plain')
    assert.equal(await res2.text(), 'plain words')
  })

  test('error reply without a body gets an OpenAI-style error', async () => {
    mock.reply({ error: { status: 503 } })
    const res = await post(mock, {})
    assert.equal(res.status, 503)
    const body = await res.json()
    assert.equal(body.error.message, 'Service Unavailable')
    assert.equal(body.error.type, 'server_error')
    assert.equal(body.error.param, null)
    assert.equal(body.error.code, null)
  })

  test('raw reply writes exact bytes as separate writes', async () => {
    mock.reply({
      raw: ['data: {"x":', Buffer.from('1}\n'), '\ndata: [DONE]\n\n'],
      headers: { 'content-type': 'text/event-stream' },
      status: 200,
      chunkDelayMs: 30,
    })
    const res = await post(mock, {})
    assert.equal(res.headers.get('content-type'), 'text/event-stream')
    const reader = res.body.getReader()
    const decoder = new TextDecoder()
    const reads = []
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      reads.push(decoder.decode(value))
    }
    assert.equal(reads.join(''), 'data: {"x":1}\n\ndata: [DONE]\n\n')
    // Separate writes: normally three reads; a lagging client may coalesce some, never all.
    assert.ok(reads.length >= 2, `expected separate reads, got ${JSON.stringify(reads)}`)
    assert.ok(reads[0].startsWith('data: {"x":'))
  })

  test('raw reply with a single string and custom status', async () => {
    mock.reply({ raw: 'not json at all', status: 200, headers: { 'content-type': 'application/json' } })
    const res = await post(mock, {})
    assert.equal(await res.text(), 'not json at all')
  })

  test('hang reply never answers and close() still ends it', async () => {
    const hung = await startMockUpstream()
    hung.reply({ hang: true })
    const pending = post(hung, { model: 'm' })
    pending.catch(() => {})
    await waitFor(() => hung.requests.length === 1)
    const state = await Promise.race([pending.then(() => 'answered', () => 'failed'), new Promise((r) => setTimeout(r, 100, 'pending'))])
    assert.equal(state, 'pending')
    await withTimeout(hung.close(), 2000, 'close()')
    await assert.rejects(withTimeout(pending, 2000, 'hung fetch'), TypeError)
  })

  test('hang reply lets the client abort', async () => {
    mock.reply({ hang: true })
    await assert.rejects(post(mock, {}, { signal: AbortSignal.timeout(100) }), (err) => err.name === 'TimeoutError')
  })

  test('destroy reply resets the connection so fetch rejects', async () => {
    mock.reply({ destroy: true })
    await assert.rejects(post(mock, {}), TypeError)
    // The server keeps serving afterwards.
    const res = await post(mock, {})
    assert.equal(res.status, 200)
  })

  test('replies are consumed FIFO, one per request', async () => {
    mock.reply({ json: { n: 1 } }).reply({ json: { n: 2 } }, { json: { n: 3 } })
    const got = []
    for (let i = 0; i < 3; i++) got.push((await (await post(mock, {})).json()).n)
    assert.deepEqual(got, [1, 2, 3])
    // Queue drained: back to the default reply.
    const body = await (await post(mock, {})).json()
    assert.equal(body.choices[0].message.content, 'ok')
  })

  test('default reply is a chat completion for both chat paths', async () => {
    for (const path of ['/chat/completions', '/v1/chat/completions']) {
      const res = await post(mock, { model: 'gpt-test', messages: [] }, { path })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'application/json')
      const body = await res.json()
      assert.equal(body.object, 'chat.completion')
      assert.equal(body.model, 'gpt-test')
      assert.equal(body.choices[0].message.content, 'ok')
      assert.equal(body.choices[0].finish_reason, 'stop')
    }
  })

  test('default reply streams when the request asks for stream: true', async () => {
    const res = await post(mock, { model: 'm', stream: true, stream_options: { include_usage: true } })
    assert.equal(res.headers.get('content-type'), 'text/event-stream')
    const data = sseData(await res.text())
    assert.equal(data.at(-1), '[DONE]')
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d))
    const { content, usage } = reassemble(chunks)
    assert.equal(content, 'ok')
    assert.ok(usage)
  })

  test('default reply is an OpenAI-style 404 for unknown paths', async () => {
    const res = await fetch(`${mock.url}/v1/nope`)
    assert.equal(res.status, 404)
    const body = await res.json()
    assert.deepEqual(body, errorBody('Invalid URL (GET /v1/nope)'))
  })

  test('handler answers when the queue is empty; queue takes precedence', async () => {
    const seen = []
    const h = await startMockUpstream({
      handler: async (req) => {
        seen.push(req.path)
        if (req.path === '/fallthrough') return undefined
        if (req.path === '/boom') throw new Error('kaboom')
        return { json: { echo: req.json } }
      },
    })
    try {
      h.reply({ json: { queued: true } })
      assert.deepEqual(await (await post(h, { a: 1 })).json(), { queued: true })
      assert.deepEqual(await (await post(h, { a: 2 })).json(), { echo: { a: 2 } })
      assert.deepEqual(seen, ['/chat/completions'])

      const fall = await fetch(`${h.url}/fallthrough`)
      assert.equal(fall.status, 404)

      const boom = await post(h, {}, { path: '/boom' })
      assert.equal(boom.status, 500)
      assert.match((await boom.json()).error.message, /kaboom/)
    } finally {
      await h.close()
    }
  })

  test('records requests with lowercase headers, body and json', async () => {
    const before = Date.now()
    await post(mock, { model: 'm', messages: [{ role: 'user', content: 'hi' }] }, {
      headers: { Authorization: 'Bearer sk-test', 'X-Custom-Header': 'Value' },
    })
    await post(mock, 'not json', { path: '/v1/chat/completions?x=1', headers: { 'content-type': 'text/plain' } })

    assert.equal(mock.requests.length, 2)
    const [first, second] = mock.requests
    assert.equal(first.method, 'POST')
    assert.equal(first.path, '/chat/completions')
    assert.equal(first.headers.authorization, 'Bearer sk-test')
    assert.equal(first.headers['x-custom-header'], 'Value')
    assert.equal(first.headers['content-type'], 'application/json')
    for (const name of Object.keys(first.headers)) assert.equal(name, name.toLowerCase())
    assert.equal(first.body, JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }))
    assert.deepEqual(first.json, { model: 'm', messages: [{ role: 'user', content: 'hi' }] })
    assert.ok(first.receivedAt >= before && first.receivedAt <= Date.now())

    assert.equal(second.path, '/v1/chat/completions?x=1')
    assert.equal(second.body, 'not json')
    assert.equal(second.json, undefined)
    assert.equal(mock.lastRequest(), second)

    await fetch(`${mock.url}/models`)
    assert.equal(mock.lastRequest().method, 'GET')
    assert.equal(mock.lastRequest().body, '')
    assert.equal(mock.lastRequest().json, undefined)
  })

  test('reset() clears the queue and the recorded requests', async () => {
    mock.reply({ json: { queued: true } })
    await post(mock, {})
    mock.reply({ json: { stale: true } })
    mock.reset()
    assert.equal(mock.requests.length, 0)
    assert.equal(mock.lastRequest(), undefined)
    const body = await (await post(mock, {})).json()
    assert.equal(body.object, 'chat.completion')
    assert.equal(mock.requests.length, 1)
  })

  test('close() destroys keep-alive sockets and is idempotent', async () => {
    const m = await startMockUpstream()
    // A raw keep-alive connection that stays open after its response.
    const socket = net.connect(Number(new URL(m.url).port), '127.0.0.1')
    await new Promise((r) => socket.once('connect', r))
    const closed = new Promise((r) => socket.once('close', r))
    socket.on('error', () => {})
    socket.resume() // read the response so 'end'/'close' can fire
    socket.write('GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n')
    await waitFor(() => m.requests.length === 1)
    await withTimeout(Promise.all([m.close(), m.close()]), 2000, 'close()')
    await withTimeout(closed, 2000, 'socket close')
  })

  test('close() cuts short a delayed reply and a slow stream', async () => {
    const m = await startMockUpstream()
    m.reply({ json: {}, delayMs: 60_000 }, { sse: [{ a: 1 }, { a: 2 }], chunkDelayMs: 60_000 })
    const delayed = post(m, {})
    delayed.catch(() => {})
    const streaming = await (async () => {
      await waitFor(() => m.requests.length === 1)
      return post(m, {})
    })()
    const bodyText = streaming.text()
    bodyText.catch(() => {})
    await withTimeout(m.close(), 2000, 'close()')
    await assert.rejects(withTimeout(delayed, 2000, 'delayed fetch'))
    await assert.rejects(withTimeout(bodyText, 2000, 'stream body'))
  })

  test('listens on a requested port', async () => {
    const probe = await startMockUpstream()
    const port = Number(new URL(probe.url).port)
    await probe.close()
    const m = await startMockUpstream({ port })
    try {
      assert.equal(m.url, `http://127.0.0.1:${port}`)
      assert.equal((await post(m, {})).status, 200)
    } finally {
      await m.close()
    }
  })

  test('unrecognised reply objects are refused when queued', () => {
    for (const bad of [{ bogus: true }, { json: {}, sse: [] }, null, 'json', { sse: 'x' }, { json: {}, status: 'teapot' }]) {
      assert.throws(() => mock.reply(bad), (err) => err instanceof SwitchyardError && err.kind === 'invalid_input' && /^reply\[0\]/.test(err.message))
    }
  })

  test('unrecognised replies from a handler answer 500', async () => {
    const scripted = await startMockUpstream({ handler: () => ({ bogus: true }) })
    after(() => scripted.close())
    const res = await post(scripted, {})
    assert.equal(res.status, 500)
    assert.match((await res.json()).error.message, /unrecognised mock reply/)
  })
})

describe('builders', () => {
  test('completion() with content matches the OpenAI wire format', () => {
    const c = completion({ content: 'Hello!', model: 'gpt-4o', usage: { prompt_tokens: 5, completion_tokens: 2 } })
    assert.match(c.id, /^chatcmpl-[A-Za-z0-9]+$/)
    assert.equal(c.object, 'chat.completion')
    assert.ok(Number.isInteger(c.created))
    assert.ok(Math.abs(c.created - Date.now() / 1000) < 5)
    assert.equal(c.model, 'gpt-4o')
    assert.deepEqual(c.choices, [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hello!', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ])
    assert.deepEqual(c.usage, { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 })
  })

  test('completion() defaults', () => {
    const c = completion()
    assert.equal(c.model, 'gpt-4o-mini')
    assert.equal(c.choices[0].message.content, '')
    assert.equal(c.choices[0].finish_reason, 'stop')
    assert.equal(c.choices[0].message.tool_calls, undefined)
    const { prompt_tokens, completion_tokens, total_tokens } = c.usage
    assert.equal(total_tokens, prompt_tokens + completion_tokens)
    assert.equal(completion({ finishReason: 'length', content: 'x' }).choices[0].finish_reason, 'length')
  })

  test('completion() with tool calls', () => {
    const c = completion({
      toolCalls: [
        { id: 'call_abc', name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'noop', arguments: '{}' },
      ],
    })
    const { message, finish_reason } = c.choices[0]
    assert.equal(finish_reason, 'tool_calls')
    assert.equal(message.content, null)
    assert.equal(message.refusal, null)
    assert.deepEqual(message.tool_calls[0], {
      id: 'call_abc',
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
    })
    assert.match(message.tool_calls[1].id, /^call_[A-Za-z0-9]+$/)
    assert.deepEqual(message.tool_calls[1].function, { name: 'noop', arguments: '{}' })
    // Content alongside tool calls is kept.
    assert.equal(completion({ content: 'thinking', toolCalls: [{ name: 'x', arguments: {} }] }).choices[0].message.content, 'thinking')
  })

  test('streamChunks() content stream shape', () => {
    const chunks = streamChunks({ content: 'Hello there, world!', model: 'gpt-4o', usage: { prompt_tokens: 3 } })
    const [first] = chunks
    for (const c of chunks) {
      assert.equal(c.id, first.id)
      assert.equal(c.created, first.created)
      assert.equal(c.model, 'gpt-4o')
      assert.equal(c.object, 'chat.completion.chunk')
    }
    assert.match(first.id, /^chatcmpl-/)
    assert.deepEqual(first.choices, [
      { index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null },
    ])
    const tokens = chunks.slice(1, -2).map((c) => c.choices[0].delta.content)
    assert.deepEqual(tokens, ['Hello', ' there,', ' world!'])
    for (const c of chunks.slice(0, -2)) assert.equal(c.choices[0].finish_reason, null)
    for (const c of chunks.slice(0, -1)) assert.equal(c.usage, null)

    const finish = chunks.at(-2)
    assert.deepEqual(finish.choices, [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }])
    const last = chunks.at(-1)
    assert.deepEqual(last.choices, [])
    assert.equal(last.usage.prompt_tokens, 3)
    assert.equal(last.usage.total_tokens, 3 + last.usage.completion_tokens)

    const { content, finishReason } = reassemble(chunks)
    assert.equal(content, 'Hello there, world!')
    assert.equal(finishReason, 'stop')
  })

  test('streamChunks() with a token array and includeUsage: false', () => {
    const chunks = streamChunks({ content: ['Hel', 'lo', ' ', 'wor', 'ld'], includeUsage: false, finishReason: 'length' })
    assert.equal(chunks.length, 1 + 5 + 1)
    for (const c of chunks) assert.equal('usage' in c, false)
    assert.deepEqual(
      chunks.slice(1, 6).map((c) => c.choices[0].delta),
      ['Hel', 'lo', ' ', 'wor', 'ld'].map((content) => ({ content })),
    )
    const { content, finishReason, usage } = reassemble(chunks)
    assert.equal(content, 'Hello world')
    assert.equal(finishReason, 'length')
    assert.equal(usage, undefined)
  })

  test('streamChunks() streams tool calls the way OpenAI does', () => {
    const args = { location: 'San Francisco, CA', unit: 'celsius', days: [1, 2, 3] }
    const chunks = streamChunks({
      toolCalls: [
        { id: 'call_1', name: 'get_weather', arguments: args },
        { name: 'get_time', arguments: '{"tz":"PST"}' },
      ],
    })
    const toolDeltas = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []))
    // Opening delta of each call: index, id, type, name and empty arguments.
    const openers = toolDeltas.filter((d) => d.id)
    assert.equal(openers.length, 2)
    assert.deepEqual(openers[0], {
      index: 0,
      id: 'call_1',
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    })
    assert.equal(openers[1].index, 1)
    assert.match(openers[1].id, /^call_/)
    // Argument fragments carry only index + function.arguments, split into several pieces.
    const fragments = toolDeltas.filter((d) => !d.id)
    for (const f of fragments) assert.deepEqual(Object.keys(f).sort(), ['function', 'index'])
    for (const f of fragments) assert.deepEqual(Object.keys(f.function), ['arguments'])
    assert.ok(fragments.filter((f) => f.index === 0).length > 1)

    const { content, calls, finishReason, usage } = reassemble(chunks)
    assert.equal(content, '')
    assert.equal(finishReason, 'tool_calls')
    assert.ok(usage.total_tokens > 0)
    assert.equal(calls.length, 2)
    assert.equal(calls[0].name, 'get_weather')
    assert.deepEqual(JSON.parse(calls[0].arguments), args)
    assert.equal(calls[0].arguments, JSON.stringify(args))
    assert.equal(calls[1].name, 'get_time')
    assert.equal(calls[1].arguments, '{"tz":"PST"}')
  })

  test('streamChunks() with content and tool calls reassembles both', () => {
    const chunks = streamChunks({ content: 'Let me check.', toolCalls: [{ name: 'lookup', arguments: { q: 'x' } }] })
    const { content, calls, finishReason } = reassemble(chunks)
    assert.equal(content, 'Let me check.')
    assert.deepEqual(calls.map((c) => [c.name, c.arguments]), [['lookup', '{"q":"x"}']])
    assert.equal(finishReason, 'tool_calls')
  })

  test('errorBody() matches the OpenAI error format', () => {
    assert.deepEqual(errorBody('Incorrect API key provided', { type: 'invalid_request_error', code: 'invalid_api_key' }), {
      error: { message: 'Incorrect API key provided', type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
    })
    assert.deepEqual(errorBody('bad', { type: 'invalid_request_error', param: 'messages' }).error.param, 'messages')
    assert.deepEqual(errorBody('x'), { error: { message: 'x', type: 'invalid_request_error', param: null, code: null } })
  })

  test('builders round-trip through the mock as a client would see them', async () => {
    const mock = await startMockUpstream()
    try {
      const chunks = streamChunks({ content: 'streamed reply', toolCalls: [{ name: 'f', arguments: { a: 1 } }] })
      mock.reply({ sse: chunks }, { json: completion({ content: 'whole reply' }) })
      const data = sseData(await (await post(mock, { stream: true })).text())
      assert.equal(data.at(-1), '[DONE]')
      assert.deepEqual(data.slice(0, -1).map((d) => JSON.parse(d)), chunks)
      const body = await (await post(mock, {})).json()
      assert.equal(body.choices[0].message.content, 'whole reply')
    } finally {
      await mock.close()
    }
  })
})

describe('agent-test replies: turns, wrong forms, nothing left over', () => {
  const chat = (extra = {}) => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra })

  test('a turn answers as SSE for a stream request and as JSON otherwise', async () => {
    const mock = await startMockUpstream()
    try {
      const turn = { content: 'Hi there', toolCalls: [{ id: 'call_1', name: 'f', arguments: { a: 1 } }], usage: { prompt_tokens: 4 } }
      mock.reply({ turn }, { turn })
      const streamed = reassemble(
        sseData(await (await post(mock, chat({ stream: true, stream_options: { include_usage: true } }))).text())
          .slice(0, -1)
          .map((d) => JSON.parse(d)),
      )
      assert.equal(streamed.content, 'Hi there')
      assert.deepEqual(streamed.calls, [{ id: 'call_1', name: 'f', arguments: '{"a":1}' }])
      assert.equal(streamed.usage.prompt_tokens, 4)
      const whole = await (await post(mock, chat())).json()
      assert.equal(whole.object, 'chat.completion')
      assert.equal(whole.model, 'm')
      assert.equal(whole.choices[0].message.tool_calls[0].function.arguments, '{"a":1}')
      await mock.assertDone()
    } finally {
      await mock.close()
    }
  })

  test('a reply in the wrong form fails that request and every later one, and assertDone says why', async () => {
    const mock = await startMockUpstream()
    try {
      mock.reply({ json: completion({ content: 'x' }) }, { json: completion({ content: 'fallback' }) })
      const res = await post(mock, chat({ stream: true }))
      assert.equal(res.status, 400)
      assert.match((await res.json()).error.message, /\{ json \} reply answered a stream request/)
      assert.equal((await post(mock, chat())).status, 400, 'a quiet fallback cannot pass')
      const err = await mock.assertDone().then(() => assert.fail('assertDone passed'), (e) => e)
      assert.ok(err instanceof SwitchyardError)
      assert.equal(err.kind, 'invalid_input')
      assert.match(err.message, /stream request/)
      mock.reset()
      mock.reply({ sse: streamChunks({ content: 'x' }) })
      assert.equal((await post(mock, chat())).status, 400)
      await assert.rejects(mock.assertDone(), /without stream: true/)
    } finally {
      await mock.close()
    }
  })

  test('assertDone reports unused replies and requests nothing was queued for', async () => {
    const mock = await startMockUpstream()
    try {
      mock.reply({ turn: { content: 'a' } }, { turn: { content: 'b' } })
      await (await post(mock, chat())).json()
      await assert.rejects(mock.assertDone(), /1 queued reply was never used/)
      await (await post(mock, chat())).json()
      await mock.assertDone()
      await (await post(mock, chat())).json()
      await assert.rejects(mock.assertDone(), /1 request\(s\) had no reply queued \(POST \/chat\/completions\)/)
    } finally {
      await mock.close()
    }
  })

  test('a turn is checked when queued', async () => {
    const mock = await startMockUpstream()
    try {
      for (const turn of [42, { toolCalls: [{}] }, { content: 5 }, { usage: 'lots' }]) {
        assert.throws(() => mock.reply({ turn }), (err) => err instanceof SwitchyardError && err.kind === 'invalid_input')
      }
      await assert.rejects(mock.assertDone({ timeoutMs: 'soon' }), (err) => err instanceof SwitchyardError && err.kind === 'invalid_input')
    } finally {
      await mock.close()
    }
  })
})

// The Web-standard helpers for route handlers: pull-based streams, SSE Responses with heartbeats
// and a final usage event, client disconnects reaching the upstream, the Edge runtime refused.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { createRequire } from 'node:module'
import { runStream } from '../node_modules/@xynehq/jaf/dist/core/engine.js'
import { assertSwitchyard, throwsSync } from './support/assertions.mjs'

const require = createRequire(import.meta.url)
const { makeLiteLLMProvider, toReadableStream, toSSEResponse } = require('../lib/index.js')
const { startMockUpstream, streamChunks } = require('../lib/testing.js')
const { z } = require('zod')

const state = { messages: [{ role: 'user', content: 'hi' }] }
const agent = { name: 'A', instructions: () => 'sys', modelConfig: { name: 'gpt-4o-mini' } }

/** The SSE events of a body, as `{ event, data }` or `{ comment }`. */
function parseEvents(text) {
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      if (block.startsWith(':')) return { comment: block.slice(1).trim() }
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message'
      return { event, data: JSON.parse(/^data: (.*)$/m.exec(block)[1]) }
    })
}

async function readOne(reader) {
  const { value } = await reader.read()
  return new TextDecoder().decode(value)
}

async function until(check, what) {
  for (let i = 0; i < 200 && !check(); i++) await sleep(10)
  assert.ok(check(), what)
}

describe('toSSEResponse', () => {
  let mock
  before(async () => {
    mock = await startMockUpstream()
  })
  after(() => mock.close())

  test('one JSON event per chunk, then done with the usage', async () => {
    mock.reply({ turn: { content: 'Hello there friend', usage: { prompt_tokens: 7, completion_tokens: 3 } } })
    const provider = makeLiteLLMProvider(mock.url, 'k')
    const res = toSSEResponse(provider.getCompletionStream(state, agent, {}), { map: (c) => (c.delta ? { text: c.delta } : undefined) })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type'), /^text\/event-stream/)
    assert.equal(res.headers.get('cache-control'), 'no-cache, no-transform')
    const events = parseEvents(await res.text())
    assert.deepEqual(
      events.filter((e) => e.event === 'message').map((e) => e.data.text),
      ['Hello', ' there', ' friend'],
    )
    assert.deepEqual(events.at(-1), { event: 'done', data: { usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } } })
    await mock.assertDone()
  })

  test('nothing is read ahead of the client', async () => {
    let pulled = 0
    async function* source() {
      for (let i = 0; i < 5; i++) {
        pulled++
        yield { i }
      }
    }
    const res = toSSEResponse(source())
    await sleep(30)
    assert.equal(pulled, 0, 'nothing before the first read')
    const reader = res.body.getReader()
    assert.deepEqual(parseEvents(await readOne(reader)), [{ event: 'message', data: { i: 0 } }])
    await sleep(30)
    assert.equal(pulled, 1, 'one item for one read')
    await reader.cancel()
  })

  test('heartbeat comments while the source is quiet', async () => {
    async function* slow() {
      await sleep(150)
      yield { late: true }
    }
    const reader = toSSEResponse(slow(), { heartbeatMs: 40 }).body.getReader()
    assert.equal(await readOne(reader), ': heartbeat\n\n')
    let text = ''
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value)
    const events = parseEvents(text)
    assert.ok(events.some((e) => e.data?.late), text)
    assert.deepEqual(events.at(-1), { event: 'done', data: { usage: null } })
  })

  test('an upstream failure ends the stream with an error event', async () => {
    mock.reply({ error: { status: 401 } })
    const provider = makeLiteLLMProvider(mock.url, 'sk-secret-123456789', undefined, undefined, { maxRetries: 0 })
    const text = await toSSEResponse(provider.getCompletionStream(state, agent, {})).text()
    const last = parseEvents(text).at(-1)
    assert.equal(last.event, 'error')
    assert.equal(last.data.kind, 'auth')
    assert.equal(last.data.status, 401)
    assert.ok(!text.includes('sk-secret'))
  })

  for (const how of ['the request signal aborts', 'the body is cancelled']) {
    test(`a client disconnect aborts the upstream request: ${how}`, async () => {
      mock.reply({ sse: streamChunks({ content: Array.from({ length: 50 }, (_, i) => `t${i} `) }), chunkDelayMs: 40 })
      const provider = makeLiteLLMProvider(mock.url, 'k')
      const client = new AbortController()
      const res = toSSEResponse((signal) => provider.getCompletionStream(state, agent, { signal }), { signal: client.signal })
      const reader = res.body.getReader()
      await readOne(reader)
      const request = mock.lastRequest()
      assert.equal(request.disconnected, false)
      if (how === 'the request signal aborts') client.abort()
      else await reader.cancel()
      await until(() => request.disconnected, 'the mock saw the disconnect')
      mock.reset()
    })
  }

  test('a JAF runStream: tool events, text and the usage of every turn', async () => {
    mock.reply(
      { turn: { toolCalls: [{ name: 'add', arguments: { a: 2, b: 3 } }], usage: { prompt_tokens: 10, completion_tokens: 5 } } },
      { turn: { content: 'The sum is 5.', usage: { prompt_tokens: 20, completion_tokens: 4 } } },
    )
    const add = {
      schema: { name: 'add', description: 'Adds', parameters: z.object({ a: z.number(), b: z.number() }) },
      execute: async ({ a, b }) => String(a + b),
    }
    const calc = { ...agent, tools: [add] }
    const runState = { runId: 'r', traceId: 't', messages: state.messages, currentAgentName: 'A', context: {}, turnCount: 0, approvals: new Map() }
    const res = toSSEResponse(
      (signal) =>
        runStream(runState, {
          agentRegistry: new Map([['A', calc]]),
          modelProvider: makeLiteLLMProvider(mock.url, 'k', undefined, undefined, { signal }),
          maxTurns: 4,
        }),
      { map: (e) => (['tool_call_end', 'run_end'].includes(e.type) ? { type: e.type, result: e.data.result, status: e.data.outcome?.status } : undefined) },
    )
    const events = parseEvents(await res.text())
    assert.deepEqual(events.slice(0, 2).map((e) => e.data), [{ type: 'tool_call_end', result: '5' }, { type: 'run_end', status: 'completed' }])
    assert.deepEqual(events.at(-1).data.usage, { prompt_tokens: 30, completion_tokens: 9, total_tokens: 39 })
    await mock.assertDone()
  })
})

describe('toReadableStream', () => {
  test('items as objects, mapped and filtered, one per read', async () => {
    async function* source() {
      yield* [{ n: 1 }, { n: 2 }, { n: 3 }]
    }
    const stream = toReadableStream(source(), { map: (x) => (x.n === 2 ? undefined : x.n * 10) })
    const out = []
    for await (const item of stream) out.push(item)
    assert.deepEqual(out, [10, 30])
  })

  test('cancelling aborts the signal handed to the source and closes it', async () => {
    let seen, closed = false
    const stream = toReadableStream(async function* (signal) {
      seen = signal
      try {
        for (;;) yield await sleep(5, 'tick')
      } finally {
        closed = true
      }
    })
    const reader = stream.getReader()
    assert.equal((await reader.read()).value, 'tick')
    await reader.cancel()
    assert.equal(seen.aborted, true)
    await until(() => closed, 'the source was closed')
  })

  test('an already aborted signal, or a source function returning no stream, errors typed', async () => {
    const aborted = toReadableStream(async function* () {
      yield 1
    }, { signal: AbortSignal.abort() })
    await assert.rejects(aborted.getReader().read(), (err) => (assertSwitchyard(err, 'aborted'), true))
    const notAStream = toReadableStream(() => 42)
    await assert.rejects(notAStream.getReader().read(), (err) => (assertSwitchyard(err, 'invalid_input'), true))
  })

  test('a source error errors the stream, typed', async () => {
    const stream = toReadableStream(async function* () {
      yield 1
      throw new RangeError('boom')
    })
    const reader = stream.getReader()
    await reader.read()
    await assert.rejects(reader.read(), (err) => (assertSwitchyard(err, "internal"), true))
  })
})

describe('bad input and the Edge runtime', () => {
  test('bad arguments are typed errors naming what is wrong', () => {
    for (const fn of [toSSEResponse, toReadableStream]) {
      assertSwitchyard(throwsSync(() => fn(42)), 'invalid_input')
      assertSwitchyard(throwsSync(() => fn(async function* () {}, { heartbeatMs: -1 })), 'invalid_input')
      assertSwitchyard(throwsSync(() => fn(async function* () {}, { signal: 'stop' })), 'invalid_input')
      assertSwitchyard(throwsSync(() => fn(async function* () {}, { map: 1 })), 'invalid_input')
    }
  })

  test('the Edge runtime is refused with what to do', () => {
    globalThis.EdgeRuntime = 'edge-runtime'
    try {
      const err = throwsSync(() => toSSEResponse(async function* () {}))
      assertSwitchyard(err, 'invalid_input')
      assert.match(err.message, /export const runtime = 'nodejs'/)
    } finally {
      delete globalThis.EdgeRuntime
    }
  })
})

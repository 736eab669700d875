// JAF's real engine (`run`, `runStream` from @xynehq/jaf 0.1.37's dist/core/engine.js) driving
// Switchyard's provider through a two-turn tool-calling conversation against a real loopback mock
// upstream. Where it helps, the same scenario also runs on JAF's own `makeLiteLLMProvider` and the
// two runs are compared.
//
// Plain Node cannot import '@xynehq/jaf' (extension-less ESM specifiers), so the leaf files are
// imported by path.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { z } from 'zod'

const require = createRequire(import.meta.url)
const { makeLiteLLMProvider } = require('../lib/index.js')
const { startMockUpstream, completion, streamChunks } = require('../lib/testing.js')

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug']

/**
 * Run `fn` with the console silenced (JAF's engine and provider log every step); `record`, when
 * given, receives each silenced call's arguments.
 */
async function quiet(fn, record) {
  const saved = CONSOLE_METHODS.map((m) => console[m])
  for (const m of CONSOLE_METHODS) console[m] = (...args) => record?.push(args)
  try {
    return await fn()
  } finally {
    CONSOLE_METHODS.forEach((m, i) => (console[m] = saved[i]))
  }
}

const jafDist = (file) => new URL(`../node_modules/@xynehq/jaf/dist/${file}`, import.meta.url)
const { run, runStream } = await quiet(() => import(jafDist('core/engine.js')))
const { createRunId, createTraceId } = await import(jafDist('core/types.js'))
const { makeLiteLLMProvider: makeJafProvider } = await quiet(() => import(jafDist('providers/model.js')))

// ---- the conversation -------------------------------------------------------------------------

const CALL_ID = 'call_weather_1'
const FINAL_TEXT = 'It is sunny in Paris, 22°C.'
const TOOL_RESULT = 'Sunny, 22°C'
// JAF's engine wraps a tool's string result in this envelope before sending it back.
const TOOL_MESSAGE_CONTENT = JSON.stringify({
  status: 'executed',
  result: TOOL_RESULT,
  tool_name: 'get_weather',
  message: 'Tool executed successfully.',
})
const TOOL_CALLS = [{ id: CALL_ID, name: 'get_weather', arguments: { city: 'Paris' } }]

const hasToolMessage = (req) => req.json.messages.some((m) => m.role === 'tool')

/**
 * Mock handler: the first turn (no tool message yet) answers with a `get_weather` call, the second
 * with the final text; SSE for stream requests, JSON otherwise.
 */
function conversationHandler(req) {
  if (!hasToolMessage(req)) {
    return req.json.stream
      ? { sse: streamChunks({ toolCalls: TOOL_CALLS, usage: { prompt_tokens: 50, completion_tokens: 10 } }) }
      : { json: completion({ toolCalls: TOOL_CALLS, usage: { prompt_tokens: 50, completion_tokens: 10 } }) }
  }
  return req.json.stream
    ? { sse: streamChunks({ content: FINAL_TEXT, usage: { prompt_tokens: 80, completion_tokens: 9 } }) }
    : { json: completion({ content: FINAL_TEXT, usage: { prompt_tokens: 80, completion_tokens: 9 } }) }
}

function weatherAgent(toolCalls) {
  return {
    name: 'WeatherAgent',
    instructions: (state) => `You report the weather. User ${state.context.userId}.`,
    modelConfig: { name: 'gpt-4o-mini', temperature: 0 },
    tools: [
      {
        schema: {
          name: 'get_weather',
          description: 'Current weather for a city',
          parameters: z.object({ city: z.string().describe('City name') }),
        },
        execute: async (args, context) => {
          toolCalls.push({ args, context })
          return TOOL_RESULT
        },
      },
    ],
  }
}

const initialState = () => ({
  runId: createRunId('run-engine-1'),
  traceId: createTraceId('trace-engine-1'),
  messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
  currentAgentName: 'WeatherAgent',
  context: { userId: 'user-42' },
  turnCount: 0,
  approvals: new Map(),
})

function configFor(agent, modelProvider, events) {
  return {
    agentRegistry: new Map([[agent.name, agent]]),
    modelProvider,
    maxTurns: 5,
    // A block body on purpose: whatever onEvent returns for `before_tool_execution` replaces
    // the tool's arguments.
    onEvent: (event) => {
      events?.push(event)
    },
  }
}

/** Assertions shared by every successful two-turn run. */
function assertTwoTurnRun(result, toolCalls, requests) {
  assert.equal(result.outcome.status, 'completed', JSON.stringify(result.outcome))
  assert.equal(result.outcome.output, FINAL_TEXT)

  assert.equal(toolCalls.length, 1, 'the tool ran once')
  assert.deepEqual(toolCalls[0].args, { city: 'Paris' })
  assert.deepEqual(toolCalls[0].context, { userId: 'user-42' })

  const [first, second] = requests
  assert.deepEqual(first.json.messages, [
    { role: 'system', content: 'You report the weather. User user-42.' },
    { role: 'user', content: 'What is the weather in Paris?' },
  ])
  assert.equal(first.json.model, 'gpt-4o-mini')
  assert.equal(first.json.temperature, 0)
  assert.deepEqual(first.json.tools, [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Current weather for a city',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string', description: 'City name' } },
          required: ['city'],
          additionalProperties: false,
        },
      },
    },
  ])
  assert.equal('tool_choice' in first.json, false)

  // The second request carries the assistant tool call and the tool result with the right id.
  const msgs = second.json.messages
  assert.deepEqual(msgs.slice(2), [
    {
      role: 'assistant',
      content: '',
      tool_calls: [{ id: CALL_ID, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    },
    { role: 'tool', content: TOOL_MESSAGE_CONTENT, tool_call_id: CALL_ID },
  ])
  assert.equal(second.json.tool_choice, 'auto')

  const final = result.finalState.messages
  assert.equal(final.length, 4)
  assert.deepEqual(final.at(-1), { role: 'assistant', content: FINAL_TEXT, tool_calls: undefined })
  assert.equal(result.finalState.turnCount, 2)
}

// ---- tests --------------------------------------------------------------------------------------

describe("JAF's engine with Switchyard's provider", () => {
  let mock
  before(async () => {
    mock = await startMockUpstream({ handler: conversationHandler })
  })
  after(() => mock?.close())

  test('run(): two-turn tool-calling conversation over streams', async () => {
    mock.reset()
    const toolCalls = []
    const events = []
    const agent = weatherAgent(toolCalls)
    const result = await quiet(() =>
      run(initialState(), configFor(agent, makeLiteLLMProvider(mock.url, 'k'), events)),
    )
    assertTwoTurnRun(result, toolCalls, mock.requests)

    // The engine uses getCompletionStream whenever it exists.
    assert.equal(mock.requests.length, 2)
    for (const req of mock.requests) {
      assert.equal(req.json.stream, true)
      assert.deepEqual(req.json.stream_options, { include_usage: true })
      assert.equal(req.headers.authorization, 'Bearer k')
    }

    // Usage from the streams reaches JAF's events.
    const usage = events.filter((e) => e.type === 'token_usage').map((e) => e.data)
    assert.deepEqual(usage, [
      { prompt: 50, completion: 10, total: 60, model: 'gpt-4o-mini' },
      { prompt: 80, completion: 9, total: 89, model: 'gpt-4o-mini' },
    ])
    const toolStart = events.find((e) => e.type === 'tool_call_start')
    assert.deepEqual(toolStart.data.args, { city: 'Paris' })
    const toolEnd = events.find((e) => e.type === 'tool_call_end')
    assert.equal(toolEnd.data.result, TOOL_RESULT)
    // Streamed deltas surface as partial assistant messages; the last one holds the whole text.
    const partials = events.filter((e) => e.type === 'assistant_message').map((e) => e.data.message.content)
    assert.equal(partials.at(-1), FINAL_TEXT)
  })

  test('run(): the same conversation on JAF\'s own provider sends identical requests', async () => {
    const jafMock = await startMockUpstream({ handler: conversationHandler })
    try {
      mock.reset()
      const syToolCalls = []
      const jafToolCalls = []
      const syResult = await quiet(() =>
        run(initialState(), configFor(weatherAgent(syToolCalls), makeLiteLLMProvider(mock.url, 'k'))),
      )
      const jafResult = await quiet(() =>
        run(initialState(), configFor(weatherAgent(jafToolCalls), makeJafProvider(jafMock.url, 'k'))),
      )
      assertTwoTurnRun(jafResult, jafToolCalls, jafMock.requests)
      assertTwoTurnRun(syResult, syToolCalls, mock.requests)
      assert.deepEqual(
        mock.requests.map((r) => r.json),
        jafMock.requests.map((r) => r.json),
      )
      assert.deepEqual(syResult.outcome, jafResult.outcome)
      assert.deepEqual(syResult.finalState.messages, jafResult.finalState.messages)
    } finally {
      await jafMock.close()
    }
  })

  test('run(): a provider without getCompletionStream goes through getCompletion', async () => {
    mock.reset()
    const toolCalls = []
    const provider = makeLiteLLMProvider(mock.url, 'k')
    const nonStreaming = { getCompletion: provider.getCompletion }
    const result = await quiet(() => run(initialState(), configFor(weatherAgent(toolCalls), nonStreaming)))
    assertTwoTurnRun(result, toolCalls, mock.requests)
    assert.equal(mock.requests.length, 2)
    assert.ok(mock.requests.every((r) => !('stream' in r.json)))
  })

  test('run(): outputCodec sends response_format and the engine decodes the JSON answer', async () => {
    const codecMock = await startMockUpstream({
      handler: (req) =>
        req.json.stream
          ? { sse: streamChunks({ content: ['{"city":', '"Paris",', '"tempC":22}'] }) }
          : { json: completion({ content: '{"city":"Paris","tempC":22}' }) },
    })
    try {
      const agent = {
        name: 'Structured Weather',
        instructions: () => 'Answer in JSON.',
        modelConfig: { name: 'gpt-4o-mini' },
        outputCodec: z.object({ city: z.string(), tempC: z.number() }),
      }
      const result = await quiet(() =>
        run(
          { ...initialState(), currentAgentName: agent.name },
          configFor(agent, makeLiteLLMProvider(codecMock.url, 'k')),
        ),
      )
      assert.equal(result.outcome.status, 'completed', JSON.stringify(result.outcome))
      assert.deepEqual(result.outcome.output, { city: 'Paris', tempC: 22 })
      assert.deepEqual(codecMock.lastRequest().json.response_format, {
        type: 'json_schema',
        json_schema: {
          name: 'Structured_Weather',
          strict: true,
          schema: {
            type: 'object',
            properties: { city: { type: 'string' }, tempC: { type: 'number' } },
            required: ['city', 'tempC'],
            additionalProperties: false,
          },
        },
      })
    } finally {
      await codecMock.close()
    }
  })

  test('runStream(): events include the tool call and the final output', async () => {
    mock.reset()
    const toolCalls = []
    const config = { ...configFor(weatherAgent(toolCalls), makeLiteLLMProvider(mock.url, 'k')), onEvent: undefined }
    const events = await quiet(async () => {
      const out = []
      for await (const event of runStream(initialState(), config)) out.push(event)
      return out
    })
    const types = events.map((e) => e.type)
    assert.equal(types[0], 'run_start')
    assert.equal(types.at(-1), 'run_end')
    for (const type of ['llm_call_start', 'llm_call_end', 'tool_requests', 'tool_call_start', 'tool_call_end', 'final_output']) {
      assert.ok(types.includes(type), `missing ${type} in ${types.join(', ')}`)
    }
    assert.ok(types.indexOf('tool_call_end') < types.indexOf('final_output'))

    const requested = events.find((e) => e.type === 'tool_requests').data.toolCalls
    assert.deepEqual(requested, [{ id: CALL_ID, name: 'get_weather', args: { city: 'Paris' } }])
    const toolEnd = events.find((e) => e.type === 'tool_call_end')
    assert.equal(toolEnd.data.toolName, 'get_weather')
    assert.equal(toolEnd.data.result, TOOL_RESULT)
    assert.equal(toolEnd.data.status, 'success')
    assert.equal(events.find((e) => e.type === 'final_output').data.output, FINAL_TEXT)
    const end = events.at(-1)
    assert.deepEqual(end.data.outcome, { status: 'completed', output: FINAL_TEXT })

    assert.equal(toolCalls.length, 1)
    assert.deepEqual(toolCalls[0].args, { city: 'Paris' })
    assert.equal(mock.requests.length, 2)
    assert.equal(mock.requests[1].json.messages.at(-1).tool_call_id, CALL_ID)
  })
})

describe('stream failing mid-way: JAF falls back to getCompletion (contract item 10)', () => {
  // The first turn's stream delivers some text, then breaks. JAF's engine catches the stream's
  // error, discards what it streamed, and asks again with getCompletion (a non-stream request).
  const partialFirstTurn = [
    {
      id: 'chatcmpl-partial',
      object: 'chat.completion.chunk',
      created: 1700000000,
      model: 'gpt-4o-mini',
      choices: [{ index: 0, delta: { role: 'assistant', content: 'Let me ' }, logprobs: null, finish_reason: null }],
    },
    {
      id: 'chatcmpl-partial',
      object: 'chat.completion.chunk',
      created: 1700000000,
      model: 'gpt-4o-mini',
      choices: [{ index: 0, delta: { content: 'check…' }, logprobs: null, finish_reason: null }],
    },
  ]

  const FAILURES = {
    'connection dropped mid-body': {
      reply: { sse: partialFirstTurn, done: false, disconnectAfter: 2 },
      error: /connection|EOF|closed|terminated/i,
    },
    'error event mid-stream': {
      reply: {
        sse: [...partialFirstTurn, { error: { message: 'upstream overloaded', type: 'server_error', code: null, param: null } }],
      },
      error: /upstream overloaded/,
    },
  }

  for (const [name, { reply: failingReply, error: expectedError }] of Object.entries(FAILURES)) {
    test(`${name}: the run still completes, with one fallback non-stream request`, async () => {
      const mock = await startMockUpstream({ handler: conversationHandler })
      try {
        mock.reply(failingReply) // consumed by the first request; the handler answers the rest
        const toolCalls = []
        const events = []
        const logged = []
        const result = await quiet(
          () => run(initialState(), configFor(weatherAgent(toolCalls), makeLiteLLMProvider(mock.url, 'k'), events)),
          logged,
        )
        assertTwoTurnRun(result, toolCalls, mock.requests.slice(1))

        // The engine saw Switchyard's stream error and said it was falling back.
        const fallbackLogs = logged.filter((args) => String(args[0]).includes('Streaming failed, falling back'))
        assert.equal(fallbackLogs.length, 1)
        assert.match(String(fallbackLogs[0][1]), expectedError)

        // stream (fails) → getCompletion for the same turn → stream for the second turn.
        assert.deepEqual(
          mock.requests.map((r) => r.json.stream ?? false),
          [true, false, true],
        )
        const [failed, fallback] = mock.requests.map((r) => r.json)
        const { stream, stream_options, ...failedWithoutStream } = failed
        assert.deepEqual(fallback, failedWithoutStream, 'the fallback asks the same question without streaming')

        // The partial text was shown as streaming progress, then replaced by the fallback's answer.
        const assistantEvents = events.filter((e) => e.type === 'assistant_message').map((e) => e.data.message)
        assert.equal(assistantEvents[0].content, 'Let me ')
        assert.ok(
          assistantEvents.some((m) => m.tool_calls?.[0]?.id === CALL_ID && m.content === ''),
          'an assistant_message for the fallback answer',
        )
        assert.ok(!result.finalState.messages.some((m) => String(m.content).includes('check…')))
      } finally {
        await mock.close()
      }
    })
  }

  test("JAF's own provider behaves the same on a dropped stream", async () => {
    const mock = await startMockUpstream({ handler: conversationHandler })
    try {
      mock.reply(FAILURES['connection dropped mid-body'].reply)
      const toolCalls = []
      const result = await quiet(() =>
        run(initialState(), configFor(weatherAgent(toolCalls), makeJafProvider(mock.url, 'k'))),
      )
      assertTwoTurnRun(result, toolCalls, mock.requests.slice(1))
      assert.deepEqual(
        mock.requests.map((r) => r.json.stream ?? false),
        [true, false, true],
      )
    } finally {
      await mock.close()
    }
  })
})

// Typings test: Switchyard's provider used everywhere JAF's `makeLiteLLMProvider` is, with JAF's
// own types. Compiled (never run) by `npx tsc -p __test__/typings/tsconfig.json`; every
// `@ts-expect-error` line must really be an error, or tsc fails with "Unused '@ts-expect-error'".
import {
  makeLiteLLMProvider,
  getProviderFromModel,
  SwitchyardError,
  ERROR_KINDS,
  zodToJsonSchema,
  toSSEResponse,
  toReadableStream,
  type ErrorKind,
  type SwitchyardModelProvider,
  type CompletionResult,
  type CompletionStreamChunk as SwitchyardChunk,
  type UsageReport,
} from 'switchyard-llm'
import {
  startMockUpstream,
  completion,
  streamChunks,
  errorBody,
  type MockUpstream,
  type MockReply,
  type RecordedRequest,
} from 'switchyard-llm/testing'
import {
  createRunId,
  createTraceId,
  type Agent,
  type CompletionStreamChunk,
  type Message,
  type ModelProvider,
  type RunConfig,
  type RunState,
  type Tool,
  type ToolCall,
} from '@xynehq/jaf'
import { z } from 'zod'

// ---- type-level helpers --------------------------------------------------------------------------

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function assertType<T extends true>(): void {}

// ---- a JAF app, with Switchyard as its model provider -----------------------------------------------

interface MyCtx {
  readonly userId: string
  readonly locale: 'en' | 'fr'
}

const weatherTool: Tool<{ city: string; units?: 'metric' | 'imperial' }, MyCtx> = {
  schema: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: z.object({ city: z.string().describe('City name'), units: z.enum(['metric', 'imperial']).optional() }),
  },
  execute: async (args, context) => `Sunny in ${args.city} for ${context.userId}`,
}

const agent: Agent<MyCtx, { answer: string }> = {
  name: 'WeatherAgent',
  instructions: (state) => `Answer in ${state.context.locale}.`,
  tools: [weatherTool],
  outputCodec: z.object({ answer: z.string() }),
  modelConfig: { name: 'gpt-4o-mini', temperature: 0, maxTokens: 512, reasoning: { effort: 'low' } },
}

// The drop-in: Switchyard's provider where JAF wants a `ModelProvider<MyCtx>`.
const provider: ModelProvider<MyCtx> = makeLiteLLMProvider<MyCtx>('http://localhost:4000', 'sk-test')

// JAF's full signature (proxy config, default headers) plus Switchyard's own options.
const tuned: ModelProvider<MyCtx> = makeLiteLLMProvider<MyCtx>(
  process.env.LITELLM_URL ?? 'http://localhost:4000',
  process.env.LITELLM_API_KEY ?? 'anything',
  { httpProxy: 'http://proxy:3128', noProxy: 'localhost' },
  { 'x-team': 'search', authorization: null },
  {
    timeoutMs: 30_000,
    maxRetries: 1,
    onUsage: (report: UsageReport) => {
      const cost: number | null = report.cost
      const outcome: 'ok' | 'error' | 'aborted' = report.outcome
      void [cost, outcome, report.usage.total_tokens, report.estimated]
    },
  },
)

// Every argument is optional: LITELLM_URL / LITELLM_API_KEY / defaults.
const fromEnv: SwitchyardModelProvider<MyCtx> = makeLiteLLMProvider<MyCtx>()

const config: RunConfig<MyCtx> = {
  agentRegistry: new Map<string, Agent<MyCtx, any>>([[agent.name, agent]]),
  modelProvider: provider,
  maxTurns: 5,
  modelOverride: 'gpt-4o',
}
const tunedConfig: RunConfig<MyCtx> = { ...config, modelProvider: tuned }

const history: Message[] = [
  { role: 'user', content: 'Weather in Paris?', attachments: [{ kind: 'image', url: 'https://example.com/p.png' }] },
  {
    role: 'assistant',
    content: '',
    tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
  },
  { role: 'tool', content: 'Sunny', tool_call_id: 'call_1' },
  { role: 'user', content: [{ type: 'text', text: 'And now?' }, { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } }] },
]

const state: RunState<MyCtx> = {
  runId: createRunId('run-1'),
  traceId: createTraceId('trace-1'),
  messages: history,
  currentAgentName: agent.name,
  context: { userId: 'u-1', locale: 'fr' },
  turnCount: 0,
  approvals: new Map(),
}

async function useProvider(): Promise<void> {
  const sy = makeLiteLLMProvider<MyCtx>('http://127.0.0.1:4000')

  // getCompletion with JAF-typed state, agent and config.
  const result: CompletionResult = await sy.getCompletion(state, agent, config)
  const text: string | null | undefined = result.message?.content
  const calls: ToolCall[] | undefined = result.message?.tool_calls
  const total: number | undefined = result.usage?.total_tokens
  const finish: string | null | undefined = result.finish_reason
  void [text, calls, total, finish, result.id, result.model, result.created]

  // Through JAF's own interface type too.
  const viaJaf = await provider.getCompletion(state, agent, tunedConfig)
  const jafText: string | null | undefined = viaJaf.message?.content
  void jafText

  // getCompletionStream: chunks are JAF's CompletionStreamChunk (plus `usage`).
  let aggregated = ''
  const argsByIndex: string[] = []
  for await (const chunk of sy.getCompletionStream(state, agent, config)) {
    const asJaf: CompletionStreamChunk = chunk
    if (chunk.delta) aggregated += chunk.delta
    if (chunk.toolCallDelta) {
      const { index, id, type, function: fn } = chunk.toolCallDelta
      const t: 'function' = type
      argsByIndex[index] = (argsByIndex[index] ?? '') + (fn?.argumentsDelta ?? '')
      void [id, t, fn?.name]
    }
    if (chunk.isDone) {
      const reason: string | null | undefined = chunk.finishReason
      const used: number | undefined = chunk.usage?.prompt_tokens
      void [reason, used, chunk.raw]
    }
    void asJaf
  }
  // JAF's optional method exists on the JAF-typed value too.
  if (provider.getCompletionStream) {
    for await (const chunk of provider.getCompletionStream(state, agent, config)) void chunk.delta
  }
  void [aggregated, argsByIndex]

  // Errors: SwitchyardError keeps the openai SDK's fields and adds kind / retryable.
  try {
    await sy.getCompletion(state, agent, { signal: AbortSignal.timeout(1000) })
  } catch (err) {
    if (err instanceof SwitchyardError) {
      const kind: ErrorKind = err.kind
      const status: number | undefined = err.status
      const body: any = err.error
      const code: string | null | undefined = err.code
      const retryable: boolean = err.retryable
      const message: string = err.message
      if (err.kind === 'rate_limited' && err.retryable) void err.retryAfter
      void [kind, status, body?.message, code, retryable, message]
      // @ts-expect-error: no such field
      void err.statusCode
      // @ts-expect-error: read-only
      err.kind = 'auth'
    }
  }
  const kinds: readonly ErrorKind[] = ERROR_KINDS
  void kinds
}

// ---- getProviderFromModel returns exactly the four-member union ------------------------------------

const detected = getProviderFromModel('anthropic/claude-3-5-sonnet')
assertType<Equals<typeof detected, 'openai' | 'anthropic' | 'google' | 'litellm'>>()
assertType<Equals<ReturnType<typeof getProviderFromModel>, 'openai' | 'anthropic' | 'google' | 'litellm'>>()
switch (detected) {
  case 'openai':
  case 'anthropic':
  case 'google':
  case 'litellm':
    break
  default: {
    const exhaustive: never = detected
    void exhaustive
  }
}
// @ts-expect-error: the union has more than these two members
const narrow: 'openai' | 'anthropic' = getProviderFromModel('gpt-4o')
void narrow

// ---- zodToJsonSchema -------------------------------------------------------------------------------

const schema: Record<string, unknown> = zodToJsonSchema(z.object({ a: z.string().nullable() }), 'tool "x"')
void schema

// ---- switchyard-llm/testing --------------------------------------------------------------------------

async function useMock(): Promise<void> {
  const mock: MockUpstream = await startMockUpstream({
    handler: (req: RecordedRequest): MockReply | undefined =>
      req.json?.stream ? { sse: streamChunks({ content: 'hi', usage: { prompt_tokens: 3 } }) } : undefined,
  })
  mock
    .reply({ json: completion({ content: 'Hello', usage: { prompt_tokens: 5, completion_tokens: 1 } }) })
    .reply({ json: completion({ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] }) })
    .reply({ error: { status: 429, body: errorBody('Slow down', { type: 'requests' }), headers: { 'retry-after': '1' } } })
    .reply({ sse: streamChunks({ content: ['a', 'b'], includeUsage: false }), done: true, chunkDelayMs: 5 })
    .reply({ raw: 'data: {}\n\n' }, { hang: true }, { destroy: true })

  const sy = makeLiteLLMProvider<MyCtx>(mock.url, 'k')
  const jafTyped: ModelProvider<MyCtx> = sy
  await jafTyped.getCompletion(state, agent, config)

  const last: RecordedRequest | undefined = mock.lastRequest()
  const model: unknown = last?.json?.model
  const path: string | undefined = last?.path
  const sent: number = mock.requests.length
  void [model, path, sent, mock.baseURL]
  mock.reply({ turn: { content: 'Hi', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }], usage: { prompt_tokens: 1 } }, chunkDelayMs: 5 })
  await mock.assertDone({ timeoutMs: 500 })
  const gone: boolean | undefined = mock.lastRequest()?.disconnected
  void gone
  mock.reset()
  await mock.close()

  // A JAF-shaped run config literal, as a route passes it (RunConfigInput is not a weak type).
  for await (const c of sy.getCompletionStream(state, agent, { agentRegistry: new Map(), modelProvider: sy, maxTurns: 3 })) void c
  const res: Response = toSSEResponse((signal) => sy.getCompletionStream(state, agent, { ...config, signal }), {
    signal: AbortSignal.timeout(1000),
    heartbeatMs: 5000,
    map: (chunk) => (chunk.delta ? { text: chunk.delta } : undefined),
  })
  const items: ReadableStream<string> = toReadableStream(sy.getCompletionStream(state, agent, config), { map: (c) => c.delta })
  void [res, items]
  // @ts-expect-error: the source must be a stream
  toSSEResponse(42)

  // @ts-expect-error: a reply must be one of the known kinds
  mock.reply({ text: 'nope' })
  // @ts-expect-error: status is a number
  mock.reply({ json: {}, status: '200' })
}

// ---- wrong usage is rejected ---------------------------------------------------------------------------

// @ts-expect-error: baseURL is a string
makeLiteLLMProvider(4000)
// @ts-expect-error: apiKey is a string
makeLiteLLMProvider('http://localhost:4000', 42)
// @ts-expect-error: header values are strings (or null to remove one)
makeLiteLLMProvider('http://localhost:4000', 'k', undefined, { 'x-retries': 3 })
// @ts-expect-error: timeoutMs is a number
makeLiteLLMProvider('http://localhost:4000', 'k', undefined, undefined, { timeoutMs: '5s' })
// @ts-expect-error: getProviderFromModel takes a model name
getProviderFromModel(42)
// @ts-expect-error: not an ErrorKind
const badKind: ErrorKind = 'teapot'
void badKind

async function wrongReads(sy: SwitchyardModelProvider<MyCtx>, chunk: SwitchyardChunk): Promise<void> {
  const result = await sy.getCompletion(state, agent, config)
  // @ts-expect-error: no `text` on the result
  void result.text
  // @ts-expect-error: the chunk field is `delta`, not `content`
  void chunk.content
  // @ts-expect-error: argumentsDelta, not arguments
  void chunk.toolCallDelta?.function?.arguments
  // @ts-expect-error: messages must be JAF messages
  await sy.getCompletion({ messages: [{ role: 'system', content: 'x' }] }, agent, config)
  // @ts-expect-error: an agent needs instructions
  await sy.getCompletion(state, { name: 'NoInstructions' }, config)
}

void [useProvider, useMock, wrongReads, fromEnv]

// The agent, its tool and where its model calls go: a LiteLLM proxy when LITELLM_URL or
// USE_LITELLM is set (the JAF agent builder's switch), else the embedded mock upstream.
import { createRunId, createTraceId, type Agent, type RunState, type Tool } from '@xynehq/jaf'
import { makeLiteLLMProvider } from 'switchyard-llm'
import { startMockUpstream, type MockUpstream, type RecordedRequest } from 'switchyard-llm/testing'
import { z } from 'zod'

export interface ChatContext {
  readonly userId: string
}

const weather: Tool<{ city: string }, ChatContext> = {
  schema: {
    name: 'get_weather',
    description: 'The current weather in a city',
    parameters: z.object({ city: z.string().describe('City name') }),
  },
  execute: async ({ city }) => `Sunny and 22°C in ${city}`,
}

export const agent: Agent<ChatContext, string> = {
  name: 'WeatherAgent',
  instructions: () => 'You answer weather questions. Use get_weather, then answer in one sentence.',
  tools: [weather],
  modelConfig: { name: process.env.CHAT_MODEL ?? 'gpt-4o-mini' },
}

const useLiteLLM = () => process.env.USE_LITELLM === 'true' || !!process.env.LITELLM_URL

// Without a real provider: a tool call first, then the answer streamed word by word.
function scripted(req: RecordedRequest) {
  const messages: Array<{ role: string; content: unknown }> = req.json?.messages ?? []
  const last = messages[messages.length - 1]
  if (last?.role === 'tool') {
    // JAF wraps a tool's result: {"status":"executed","result":…}.
    let result = String(last.content)
    try {
      result = JSON.parse(result).result ?? result
    } catch {}
    const answer = `The weather tool says: ${result}. Enjoy your day!`
    return { turn: { content: answer.split(/(?= )/) }, chunkDelayMs: 40 }
  }
  const city = /in ([A-Z][\w ]*)/.exec(String(last?.content ?? ''))?.[1]?.trim() ?? 'Paris'
  return { turn: { toolCalls: [{ name: 'get_weather', arguments: { city } }] } }
}

// One mock per server process, started on the first request (never at build time).
const globalMock = globalThis as { __switchyardMock?: Promise<MockUpstream> }

async function baseURL(): Promise<string> {
  if (useLiteLLM()) return process.env.LITELLM_URL || 'http://localhost:4000'
  globalMock.__switchyardMock ??= startMockUpstream({ handler: scripted })
  return (await globalMock.__switchyardMock).url
}

/** A provider for one request: `signal` (the client's) aborts its upstream calls. */
export async function providerFor(signal: AbortSignal) {
  return makeLiteLLMProvider<ChatContext>(await baseURL(), process.env.LITELLM_API_KEY || 'anything', undefined, undefined, { signal })
}

export function initialState(message: string): RunState<ChatContext> {
  return {
    runId: createRunId(crypto.randomUUID()),
    traceId: createTraceId(crypto.randomUUID()),
    messages: [{ role: 'user', content: message }],
    currentAgentName: agent.name,
    context: { userId: 'demo' },
    turnCount: 0,
  }
}

// The main job: a JAF agent conversation with a tool call, run by JAF's own engine and streamed
// to the terminal through Switchyard's makeLiteLLMProvider. With LITELLM_URL set it talks to that
// LiteLLM proxy (model: DEMO_MODEL, default gpt-4o-mini); otherwise to an embedded mock upstream.
import { createRequire } from 'node:module'
import { z } from 'zod'

// JAF's engine narrates every step on the console; keep the terminal for the conversation.
for (const level of ['log', 'warn', 'info']) {
  const original = console[level]
  console[level] = (first, ...rest) => (String(first).startsWith('[JAF:') ? undefined : original(first, ...rest))
}
const require = createRequire(import.meta.url)
const { makeLiteLLMProvider } = require('../lib/index.js')
const { startMockUpstream, streamChunks } = require('../lib/testing.js')
// Plain Node cannot import '@xynehq/jaf' (extension-less ESM); its leaf files load fine.
const { run } = await import('../node_modules/@xynehq/jaf/dist/core/engine.js')

const QUESTION = process.argv[2] ?? "What's the weather in Paris right now?"
const MODEL = process.env.DEMO_MODEL ?? 'gpt-4o-mini'

/** The embedded upstream: asks for the tool on the first turn, answers from its result on the second. */
function scriptedAgentReply(req) {
  const messages = req.json?.messages ?? []
  const last = messages[messages.length - 1]
  if (last?.role !== 'tool') {
    const city = /in ([A-Z][\w -]+?)(?: right now)?\??$/.exec(last?.content ?? '')?.[1] ?? 'Paris'
    return { sse: streamChunks({ toolCalls: [{ name: 'get_weather', arguments: { city } }], model: MODEL }), chunkDelayMs: 20 }
  }
  // JAF wraps a tool's result string in a status envelope.
  const envelope = JSON.parse(last.content)
  const w = typeof envelope.result === 'string' ? JSON.parse(envelope.result) : envelope
  const answer = `Right now in ${w.city} it is ${w.tempC} °C with ${w.conditions}. Take an umbrella if you head out!`
  return { sse: streamChunks({ content: answer, model: MODEL }), chunkDelayMs: 35 }
}

const embedded = process.env.LITELLM_URL ? null : await startMockUpstream({ handler: scriptedAgentReply })
const baseURL = embedded?.url ?? process.env.LITELLM_URL

const getWeather = {
  schema: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: z.object({ city: z.string().describe('City name') }),
  },
  execute: async ({ city }) => JSON.stringify({ city, tempC: 18, conditions: 'light rain' }),
}

const agent = {
  name: 'WeatherAgent',
  instructions: () => 'You answer weather questions. Always call get_weather first.',
  tools: [getWeather],
  modelConfig: { name: MODEL, temperature: 0 },
}

const out = (text) => process.stdout.write(text)
let printed = 0
let usageTotal = 0
const provider = makeLiteLLMProvider(baseURL, undefined, undefined, undefined, {
  onUsage: (report) => (usageTotal += report.usage.total_tokens),
})

out(`Switchyard demo: JAF agent "${agent.name}" via makeLiteLLMProvider\n`)
out(`upstream: ${embedded ? `embedded mock at ${baseURL} (set LITELLM_URL for a real proxy)` : baseURL}\n\n`)
out(`user> ${QUESTION}\n`)

try {
  const result = await run(
    {
      runId: 'demo-run',
      traceId: 'demo-trace',
      messages: [{ role: 'user', content: QUESTION }],
      currentAgentName: agent.name,
      context: {},
      turnCount: 0,
    },
    {
      agentRegistry: new Map([[agent.name, agent]]),
      modelProvider: provider,
      maxTurns: 4,
      onEvent: (event) => {
        if (event.type === 'assistant_message') {
          // Partial messages carry the text so far: print what is new.
          const text = event.data.message.content ?? ''
          if (text.length > printed) {
            if (printed === 0) out('assistant> ')
            out(text.slice(printed))
            printed = text.length
          }
        } else if (event.type === 'tool_call_start') {
          out(`assistant → ${event.data.toolName}(${JSON.stringify(event.data.args)})\n`)
        } else if (event.type === 'tool_call_end') {
          out(`tool      ← ${event.data.result}\n`)
        } else if (event.type === 'turn_start') {
          printed = 0
        }
      },
    },
  )
  out('\n\n')
  if (result.outcome.status !== 'completed') {
    out(`run ended: ${JSON.stringify(result.outcome)}\n`)
    process.exitCode = 1
  } else {
    out(`done: ${result.finalState.turnCount} turns, ${usageTotal} tokens\n`)
  }
} finally {
  await embedded?.close()
}

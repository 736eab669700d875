// JAF's real engine on makeModelProvider with native adapters: an agent whose model is
// `anthropic/claude-…` (or `gemini/…`, `ollama/…`, `bedrock/…`) runs a two-turn tool-calling
// conversation with no proxy in between, each provider answered in its own wire format by the
// contract fixtures' mocks.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { z } from 'zod'

const require = createRequire(import.meta.url)
const { makeModelProvider } = require('../lib/index.js')
const { startMockUpstream } = require('../lib/testing.js')

async function quiet(fn) {
  const methods = ['log', 'info', 'warn', 'error', 'debug']
  const saved = methods.map((m) => console[m])
  for (const m of methods) console[m] = () => {}
  try {
    return await fn()
  } finally {
    methods.forEach((m, i) => (console[m] = saved[i]))
  }
}

const { run } = await quiet(() => import('../node_modules/@xynehq/jaf/dist/core/engine.js'))

const FINAL = 'Sunny in Paris, 22 degrees.'
const USAGE = { input: 20, output: 5 }

for (const id of ['anthropic', 'gemini', 'ollama', 'bedrock', 'cohere']) {
  const fixture = (await import(`./contract/${id}.mjs`)).default

  test(`JAF's engine runs a tool-calling conversation on ${fixture.model}`, async () => {
    let turn = 0
    const mock = await startMockUpstream({
      // Turn one asks for the tool; turn two (which must carry its result) answers.
      handler: (req) =>
        fixture.render(
          turn++ === 0
            ? { kind: 'tools', calls: [{ id: 'call_w1', name: 'get_weather', args: { city: 'Paris' } }], usage: USAGE }
            : { kind: 'text', text: FINAL, usage: USAGE },
          req,
        ),
    })
    const calls = []
    const agent = {
      name: 'WeatherAgent',
      instructions: () => 'You report the weather.',
      modelConfig: { name: fixture.model, temperature: 0 },
      tools: [
        {
          schema: { name: 'get_weather', description: 'Weather for a city', parameters: z.object({ city: z.string() }) },
          execute: async (args) => {
            calls.push(args)
            return 'Sunny, 22 C'
          },
        },
      ],
    }
    try {
      const result = await quiet(() =>
        run(
          { runId: 'r', traceId: 't', messages: [{ role: 'user', content: 'Weather in Paris?' }], currentAgentName: agent.name, context: {}, turnCount: 0 },
          {
            agentRegistry: new Map([[agent.name, agent]]),
            modelProvider: makeModelProvider({ providers: { [fixture.id]: fixture.settings(mock) }, maxRetries: 0 }),
            maxTurns: 4,
          },
        ),
      )
      assert.equal(result.outcome.status, 'completed', JSON.stringify(result.outcome))
      assert.equal(result.outcome.output, FINAL)
      assert.deepEqual(calls, [{ city: 'Paris' }])
      // The second request carried the tool's result back in the provider's own format.
      assert.ok(mock.requests.length >= 2)
      assert.ok(mock.lastRequest().body.includes('Sunny, 22 C'), 'the tool result reached the provider')
    } finally {
      await mock.close()
    }
  })
}

// The shared provider contract: the same scenarios against every adapter, each adapter talking
// to a loopback mock that speaks its provider's real wire format (fixtures in ./contract/).
// Every scenario checks both what the adapter parsed and the exact request it sent.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { z } from 'zod'

const require = createRequire(import.meta.url)
const { makeModelProvider, createProvider, zodToJsonSchema } = require('../lib/index.js')
const { startMockUpstream } = require('../lib/testing.js')

const fixtureDir = new URL('./contract/', import.meta.url)
// A fixture module exports one fixture, or several (a family sharing one adapter).
const fixtures = (
  await Promise.all(
    readdirSync(fixtureDir)
      .filter((f) => f.endsWith('.mjs'))
      .sort()
      .map(async (f) => (await import(new URL(f, fixtureDir))).default),
  )
).flat()

const SYSTEM = 'You are terse.'
const USER = 'What is the weather in Paris?'
const USAGE = { input: 11, output: 7 }
const weatherParams = z.object({ city: z.string().describe('City name'), unit: z.enum(['c', 'f']).optional() })
const timeParams = z.object({ city: z.string() })
const outputCodec = z.object({ city: z.string(), tempC: z.number() })
const toolCalls = [
  { id: 'call_w1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
  { id: 'call_t1', type: 'function', function: { name: 'get_time', arguments: '{"city":"Paris"}' } },
]
const imageUrl = 'https://example.test/cat.png'
const imageDataUrl = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='

const ctx = {
  system: SYSTEM,
  user: USER,
  temperature: 0.3,
  maxTokens: 64,
  agentName: 'WeatherAgent',
  weatherSchema: zodToJsonSchema(weatherParams),
  timeSchema: zodToJsonSchema(timeParams),
  outputSchema: zodToJsonSchema(outputCodec),
  toolCalls,
  toolResults: ['{"tempC":21}', '{"time":"14:05"}'],
  imageUrl,
  imageDataUrl,
}

const tool = (name, description, parameters) => ({ schema: { name, description, parameters }, execute: async () => '' })
const agentFor = (fixture, extra = {}) => ({
  name: ctx.agentName,
  instructions: () => SYSTEM,
  modelConfig: { name: fixture.model, temperature: ctx.temperature, maxTokens: ctx.maxTokens },
  ...extra,
})
const userState = (content = USER) => ({ messages: [{ role: 'user', content }] })

async function collect(gen) {
  const chunks = []
  for await (const c of gen) chunks.push(c)
  return chunks
}

async function rejection(promise) {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (e) => e,
  )
}

for (const fixture of fixtures) {
  describe(`contract: ${fixture.id}`, () => {
    let mock
    let scenario
    let jaf
    let direct
    before(async () => {
      mock = await startMockUpstream({ handler: (req) => fixture.render(scenario, req) })
      const settings = fixture.settings(mock)
      jaf = makeModelProvider({ providers: { [fixture.id]: settings }, maxRetries: 0 })
      direct = createProvider(fixture.id, settings, { maxRetries: 0 })
    })
    after(() => mock.close())
    const serve = (s) => {
      scenario = s
      mock.reset()
    }
    const lastRequest = () => mock.lastRequest()

    test('text', async () => {
      serve({ kind: 'text', text: 'Sunny, 21 °C.', usage: USAGE })
      const result = await jaf.getCompletion(userState(), agentFor(fixture), {})
      assert.equal(result.message.content, 'Sunny, 21 °C.')
      assert.equal(result.finish_reason, 'stop')
      assert.deepEqual(
        [result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.total_tokens],
        [11, 7, 18],
      )
      fixture.checkRequest('text', lastRequest(), assert, ctx)
    })

    test('stream', async () => {
      serve({ kind: 'text', text: 'Sunny and warm, 21 degrees.', usage: USAGE })
      const chunks = await collect(jaf.getCompletionStream(userState(), agentFor(fixture), {}))
      assert.equal(chunks.map((c) => c.delta ?? '').join(''), 'Sunny and warm, 21 degrees.')
      assert.deepEqual(chunks.filter((c) => c.finishReason).map((c) => c.finishReason), ['stop'])
      if (fixture.supports.streamUsage !== false) {
        assert.equal(chunks.filter((c) => c.usage).at(-1).usage.total_tokens, 18)
      }
      fixture.checkRequest('stream', lastRequest(), assert, ctx)
    })

    const toolAgent = () => agentFor(fixture, {
      tools: [tool('get_weather', 'Weather for a city', weatherParams), tool('get_time', 'Local time in a city', timeParams)],
    })
    const calls = [
      { id: 'call_w1', name: 'get_weather', args: { city: 'Paris' } },
      { id: 'call_t1', name: 'get_time', args: { city: 'Paris' } },
    ]

    const toolsTest = fixture.supports.tools === false ? test.skip : test
    toolsTest('parallel tool calls', async () => {
      serve({ kind: 'tools', calls, usage: USAGE })
      const result = await jaf.getCompletion(userState(), toolAgent(), {})
      assert.equal(result.finish_reason, 'tool_calls')
      assert.deepEqual(
        result.message.tool_calls.map((c) => [c.id, c.type, c.function.name, JSON.parse(c.function.arguments)]),
        calls.map((c) => [c.id, 'function', c.name, c.args]),
      )
      fixture.checkRequest('tools', lastRequest(), assert, ctx)
    })

    toolsTest('streamed parallel tool calls', async () => {
      serve({ kind: 'tools', calls, usage: USAGE })
      const chunks = await collect(jaf.getCompletionStream(userState(), toolAgent(), {}))
      const byIndex = new Map()
      for (const { toolCallDelta: d } of chunks.filter((c) => c.toolCallDelta)) {
        const call = byIndex.get(d.index) ?? { id: undefined, name: undefined, args: '' }
        call.id ??= d.id
        call.name ??= d.function?.name
        call.args += d.function?.argumentsDelta ?? ''
        byIndex.set(d.index, call)
      }
      assert.deepEqual(
        [...byIndex.values()].map((c) => [c.id, c.name, JSON.parse(c.args)]),
        calls.map((c) => [c.id, c.name, c.args]),
      )
      assert.deepEqual(chunks.filter((c) => c.finishReason).map((c) => c.finishReason), ['tool_calls'])
      assert.equal(chunks.filter((c) => c.usage).at(-1).usage.total_tokens, 18)
    })

    toolsTest('tool results', async () => {
      serve({ kind: 'text', text: 'It is 21 °C at 14:05.', usage: USAGE })
      const state = {
        messages: [
          { role: 'user', content: USER },
          { role: 'assistant', content: '', tool_calls: toolCalls },
          { role: 'tool', content: ctx.toolResults[0], tool_call_id: toolCalls[0].id },
          { role: 'tool', content: ctx.toolResults[1], tool_call_id: toolCalls[1].id },
        ],
      }
      const result = await jaf.getCompletion(state, toolAgent(), {})
      assert.equal(result.message.content, 'It is 21 °C at 14:05.')
      fixture.checkRequest('tool_result', lastRequest(), assert, ctx)
    })

    const structuredTest = fixture.supports.structured ? test : test.skip
    structuredTest(`structured output (${fixture.supports.structured})`, async () => {
      const value = { city: 'Paris', tempC: 21 }
      serve({ kind: 'json', value, usage: USAGE })
      const result = await jaf.getCompletion(userState(), agentFor(fixture, { outputCodec }), {})
      assert.deepEqual(JSON.parse(result.message.content), value)
      fixture.checkRequest('structured', lastRequest(), assert, ctx)
    })

    test('images by URL and by base64', async () => {
      serve({ kind: 'text', text: 'A cat.', usage: USAGE })
      const content = [
        { type: 'text', text: USER },
        { type: 'image_url', image_url: { url: imageUrl } },
        { type: 'image_url', image_url: { url: imageDataUrl } },
      ]
      const call = jaf.getCompletion(userState(content), agentFor(fixture), {})
      if (!fixture.supports.imageUrl) {
        const err = await rejection(call)
        assert.equal(err.kind, 'invalid_input')
        assert.match(err.message, /image/i)
        assert.equal(mock.requests.length, 0, 'nothing is sent')
        return
      }
      assert.equal((await call).message.content, 'A cat.')
      fixture.checkRequest('image', lastRequest(), assert, ctx)
    })

    test('sampling parameters are translated or refused', async () => {
      serve({ kind: 'text', text: 'ok', usage: USAGE })
      const request = {
        model: fixture.model,
        messages: [{ role: 'user', content: USER }],
        temperature: 0.2,
        top_p: 0.9,
        max_tokens: 50,
        stop: ['END'],
        ...(fixture.supports.seed && { seed: 7 }),
      }
      await direct.chat(request)
      fixture.checkRequest('params', lastRequest(), assert, ctx)
      if (!fixture.supports.seed) {
        mock.reset()
        const err = await rejection(direct.chat({ ...request, seed: 7 }))
        assert.equal(err.kind, 'invalid_input')
        assert.match(err.message, /seed/)
        assert.equal(mock.requests.length, 0)
      }
      mock.reset()
      // A field the provider has no translation for is refused by name, never dropped; OpenAI's
      // own format forwards it untouched.
      const withBias = { ...request, logit_bias: { 42: 1 } }
      if (fixture.supports.extraFields === 'forward') {
        await direct.chat(withBias)
        assert.deepEqual(lastRequest().json.logit_bias, { 42: 1 })
      } else {
        const err = await rejection(direct.chat(withBias))
        assert.equal(err.kind, 'invalid_input')
        assert.match(err.message, /logit_bias/)
        assert.equal(mock.requests.length, 0)
      }
    })

    const errorCases = ['rate_limited', 'auth', 'invalid_request', 'context_length_exceeded', 'overloaded', 'content_filter']
    for (const [index, kind] of errorCases.entries()) {
      test(`error: ${kind}`, async () => {
        // The marker is neutral on purpose: the kind must come from the provider's own status,
        // codes and wording that the fixture renders around it, not from the marker.
        const marker = `upstream detail #${index + 1}`
        serve({ kind: 'error', error: kind, message: marker })
        const err = await rejection(jaf.getCompletion(userState(), agentFor(fixture), {}))
        assert.equal(err.kind, kind)
        assert.equal(err.provider, fixture.id)
        assert.equal(err.model, fixture.model)
        assert.equal(typeof err.status === 'number' || err.status === undefined, true)
        assert.equal(err.retryable, ['rate_limited', 'overloaded'].includes(kind))
        if (fixture.wordlessErrors?.includes(kind)) {
          // The provider sends no text for this failure (Gemini's blocked prompt): the message
          // must still say what happened.
          assert.ok(err.message.length > 0)
        } else {
          assert.ok(err.message.includes(marker), `${err.message} lacks ${marker}`)
        }
        assert.ok(err.body !== undefined, 'the provider body stays on the error')
      })
    }

    test('a stream cut short says what was delivered', async () => {
      serve({ kind: 'cut', text: 'one two three four five six seven eight' })
      const seen = []
      const err = await rejection(
        (async () => {
          for await (const c of jaf.getCompletionStream(userState(), agentFor(fixture), {})) seen.push(c)
        })(),
      )
      assert.ok(['network', 'bad_response'].includes(err.kind), err.kind)
      assert.equal(err.delivered.contentChars, seen.map((c) => c.delta ?? '').join('').length)
    })

    test('abort', async () => {
      serve(undefined)
      mock.reply({ hang: true })
      const controller = new AbortController()
      const call = jaf.getCompletion(userState(), agentFor(fixture), { signal: controller.signal })
      setTimeout(() => controller.abort(), 50)
      const err = await rejection(call)
      assert.equal(err.kind, 'aborted')
    })

    if (fixture.supports.embeddings) {
      test('embeddings', async () => {
        serve({ kind: 'embedding', vectors: [[0.1, 0.2], [0.3, 0.4]], usage: { input: 4 } })
        const out = await direct.embed({ model: fixture.embedModel, input: ['alpha', 'beta'] })
        assert.deepEqual(out.data.map((d) => d.embedding), [[0.1, 0.2], [0.3, 0.4]])
        fixture.checkRequest('embed', lastRequest(), assert, ctx)
      })
    }

    if (fixture.supports.models) {
      test('model list', async () => {
        serve({ kind: 'models', ids: ['acme/model-a', 'acme/model-b'] })
        const models = await direct.listModels()
        assert.deepEqual(models.map((m) => m.id), ['acme/model-a', 'acme/model-b'])
        fixture.checkRequest('models', lastRequest(), assert, ctx)
      })
    }
  })
}


// Parity with `@xynehq/jaf` 0.1.37's own `makeLiteLLMProvider`: the same (state, agent, config)
// must put the same JSON body on the wire, and the same upstream answer must come back as the
// same `getCompletion` result and the same sequence of stream chunks.
//
// JAF's provider and Switchyard's each talk to their own real loopback mock upstream
// (`switchyard-llm/testing`); the recorded bodies are compared whole, as parsed JSON.
//
// Where Switchyard deliberately differs from JAF (zod types JAF cannot convert, descriptions on
// non-string fields) the tests assert Switchyard's own output and say so.
//
// JAF's package entry points use extension-less ESM imports that plain Node cannot resolve, so
// its leaf file `dist/providers/model.js` is imported by path.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import http from 'node:http'
import { z } from 'zod'

const require = createRequire(import.meta.url)
const switchyard = require('../lib/index.js')
const { startMockUpstream, completion, streamChunks } = require('../lib/testing.js')

// ---- helpers -------------------------------------------------------------------------------------

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug']

/** Run `fn` with the console silenced: JAF logs every request (and papaparse warns). */
async function quiet(fn) {
  const saved = CONSOLE_METHODS.map((m) => console[m])
  for (const m of CONSOLE_METHODS) console[m] = () => {}
  try {
    return await fn()
  } finally {
    CONSOLE_METHODS.forEach((m, i) => (console[m] = saved[i]))
  }
}

const { makeLiteLLMProvider: makeJafProvider } = await quiet(() =>
  import(new URL('../node_modules/@xynehq/jaf/dist/providers/model.js', import.meta.url)),
)

async function collect(generator) {
  const out = []
  for await (const chunk of generator) out.push(chunk)
  return out
}

const RUN_STATE_BASE = {
  runId: 'run_parity',
  traceId: 'trace_parity',
  currentAgentName: 'Helper',
  context: { userId: 'u-1' },
  turnCount: 0,
}

const stateOf = (messages, extra = {}) => ({ ...RUN_STATE_BASE, messages, ...extra })

const agentOf = (overrides = {}) => ({
  name: 'Helper',
  instructions: (state) => `You are a helpful assistant. Turn ${state.turnCount}.`,
  modelConfig: { name: 'gpt-4o-mini' },
  ...overrides,
})

const b64 = (text) => Buffer.from(text, 'utf-8').toString('base64')

let jafMock
let syMock
let jaf
let sy
let docServer
let docBase

/** A local server for URL documents. */
function startDocServer() {
  const docs = {
    '/notes.txt': { type: 'text/plain; charset=utf-8', body: '  Meeting notes:\nship on Friday.  \n\n' },
    '/people.csv': { type: 'text/csv', body: 'name,role\nAda,engineer\nGrace,admiral\n' },
    '/config.json': { type: 'application/json', body: '{"zeta":1,"alpha":{"b":[1,2],"a":null}}' },
  }
  const server = http.createServer((req, res) => {
    const doc = docs[req.url]
    if (!doc) {
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end('no such document')
      return
    }
    res.writeHead(200, { 'content-type': doc.type })
    res.end(doc.body)
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

before(async () => {
  jafMock = await startMockUpstream()
  syMock = await startMockUpstream()
  jaf = await quiet(() => makeJafProvider(jafMock.url, 'k'))
  sy = switchyard.makeLiteLLMProvider(syMock.url, 'k')
  docServer = await startDocServer()
  docBase = `http://127.0.0.1:${docServer.address().port}`
})

after(async () => {
  await jafMock?.close()
  await syMock?.close()
  await new Promise((resolve) => docServer?.close(resolve))
})

/**
 * Run the same call through JAF's provider and Switchyard's, each against its own mock (reset
 * first; `replies`, when given, are queued on both). Returns both results and both recorded bodies.
 */
async function runBoth({ state, agent, config = {}, stream = false, replies }) {
  jafMock.reset()
  syMock.reset()
  if (replies) {
    jafMock.reply(...replies)
    syMock.reply(...replies)
  }
  const call = (provider) =>
    stream ? collect(provider.getCompletionStream(state, agent, config)) : provider.getCompletion(state, agent, config)
  const jafResult = await quiet(() => call(jaf))
  const syResult = await call(sy)
  return {
    jafResult,
    syResult,
    jafBodies: jafMock.requests.map((r) => r.json),
    syBodies: syMock.requests.map((r) => r.json),
  }
}

// ---- request parity --------------------------------------------------------------------------

const weatherTool = {
  schema: {
    name: 'get_weather',
    description: 'Current weather for a city',
    // Every zod type JAF's converter supports.
    parameters: z.object({
      city: z.string().describe('City name'),
      units: z.enum(['metric', 'imperial']),
      days: z.number().int(), // JAF: integers become `number`
      detailed: z.boolean(),
      tags: z.array(z.string()),
      note: z.string().optional(),
      hint: z.string().describe('A described optional string').optional(),
      scores: z.record(z.number()),
      flags: z.record(z.string(), z.boolean()),
      location: z.object({ lat: z.number(), lon: z.number().optional() }),
      points: z.array(z.object({ x: z.number(), y: z.number() })),
    }),
  },
  execute: async () => 'sunny',
}

const pingTool = {
  schema: { name: 'ping', description: 'No arguments', parameters: z.object({}) },
  execute: async () => 'pong',
}

const allOptionalTool = {
  schema: {
    name: 'search',
    description: 'All optional',
    parameters: z.object({ q: z.string().optional(), limit: z.number().optional() }),
  },
  execute: async () => '[]',
}

const toolConversation = [
  { role: 'user', content: 'Weather in Paris and Rome?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
    ],
  },
  { role: 'tool', content: 'Sunny, 22C', tool_call_id: 'call_1' },
  { role: 'tool', content: 'Rain, 15C', tool_call_id: 'call_2' },
]

const CSV_PLAIN = 'name,age,city\nAlice,30,Paris\nBob,25,Berlin\n'
const CSV_QUOTED = 'name,notes\n"Smith, J","line1\nline2"\n"He said ""hi""",x\n\n3,4\n'
const CSV_SEMICOLON = 'name;age\nAlice;30\nBob;25\n'
const CSV_DUPLICATE_HEADERS = 'a,a,b\n1,2,3\n'
const CSV_QUOTE_IN_UNQUOTED_FIELD = 'name,size\nMonitor,27" wide\nTV,55" big\n'
const CSV_TRAILING_COMMAS = 'a,b,,\n1,2,,\n'
const CSV_MIXED_LINE_ENDINGS = 'a,b\r\n1,2\n3,4\n5,6\n'
const CSV_MANY_ROWS = ['id,value', ...Array.from({ length: 14 }, (_, i) => `${i},v${i}`)].join('\r\n')

const csvMessage = (csv, name = 'data.csv') => [
  {
    role: 'user',
    content: 'Summarise this table',
    attachments: [{ kind: 'document', mimeType: 'text/csv', name, data: b64(csv) }],
  },
]

/** JAF's document text for one attachment, as the first JAF body carries it. */
const attachmentTexts = (body) =>
  body.messages.at(-1).content.filter((p) => p.type === 'text').map((p) => p.text)

/**
 * Each case runs through `getCompletion` and `getCompletionStream`. `check` makes sure the case
 * really exercises what it claims (asserted on JAF's body, so the comparison isn't vacuous).
 */
const REQUEST_CASES = [
  {
    name: 'plain user message',
    state: stateOf([{ role: 'user', content: 'Hello there' }]),
    agent: agentOf(),
    check: (body) => {
      assert.equal(body.model, 'gpt-4o-mini')
      assert.deepEqual(body.messages, [
        { role: 'system', content: 'You are a helpful assistant. Turn 0.' },
        { role: 'user', content: 'Hello there' },
      ])
    },
  },
  {
    name: 'model: agent.modelConfig.name wins over config.modelOverride',
    state: stateOf([{ role: 'user', content: 'hi' }]),
    agent: agentOf({ modelConfig: { name: 'agent-model' } }),
    config: { modelOverride: 'override-model' },
    check: (body) => assert.equal(body.model, 'agent-model'),
  },
  {
    name: 'model: config.modelOverride when modelConfig has no name',
    state: stateOf([{ role: 'user', content: 'hi' }]),
    agent: agentOf({ modelConfig: { temperature: 0.5 } }),
    config: { modelOverride: 'override-model' },
    check: (body) => {
      assert.equal(body.model, 'override-model')
      assert.equal(body.temperature, 0.5)
    },
  },
  {
    name: 'model: config.modelOverride when the agent has no modelConfig',
    state: stateOf([{ role: 'user', content: 'hi' }]),
    agent: agentOf({ modelConfig: undefined }),
    config: { modelOverride: 'override-model' },
    check: (body) => assert.equal(body.model, 'override-model'),
  },
  {
    name: 'temperature 0 is sent, with max_tokens',
    state: stateOf([{ role: 'user', content: 'hi' }]),
    agent: agentOf({ modelConfig: { name: 'gpt-4o', temperature: 0, maxTokens: 256 } }),
    check: (body) => {
      assert.equal(body.temperature, 0)
      assert.equal(body.max_tokens, 256)
      assert.equal('reasoning_effort' in body, false)
    },
  },
  {
    name: 'reasoning effort set',
    state: stateOf([{ role: 'user', content: 'think hard' }]),
    agent: agentOf({ modelConfig: { name: 'o3-mini', reasoning: { effort: 'high' } } }),
    check: (body) => assert.equal(body.reasoning_effort, 'high'),
  },
  {
    name: "reasoning effort 'none' is sent",
    state: stateOf([{ role: 'user', content: 'quick' }]),
    agent: agentOf({ modelConfig: { name: 'o3-mini', reasoning: { effort: 'none' } } }),
    check: (body) => assert.equal(body.reasoning_effort, 'none'),
  },
  {
    name: 'reasoning config without effort sends nothing',
    state: stateOf([{ role: 'user', content: 'quick' }]),
    agent: agentOf({ modelConfig: { name: 'o3-mini', reasoning: {} } }),
    check: (body) => assert.equal('reasoning_effort' in body, false),
  },
  {
    name: 'tools with every zod type JAF supports; no tool_choice before a tool message',
    state: stateOf([{ role: 'user', content: 'Weather in Paris?' }]),
    agent: agentOf({ tools: [weatherTool, pingTool, allOptionalTool] }),
    check: (body) => {
      assert.equal(body.tools.length, 3)
      assert.equal('tool_choice' in body, false)
      const params = body.tools[0].function.parameters
      assert.deepEqual(params.properties.city, { type: 'string', description: 'City name' })
      assert.deepEqual(params.properties.days, { type: 'number' })
      assert.deepEqual(params.properties.scores, { type: 'object', additionalProperties: { type: 'number' } })
      assert.deepEqual(body.tools[1].function.parameters, { type: 'object', properties: {}, additionalProperties: false })
      assert.equal('required' in body.tools[2].function.parameters, false)
    },
  },
  {
    name: 'empty tools array sends no tools',
    state: stateOf([{ role: 'user', content: 'hi' }]),
    agent: agentOf({ tools: [] }),
    check: (body) => {
      assert.equal('tools' in body, false)
      assert.equal('tool_choice' in body, false)
    },
  },
  {
    name: "tool_choice 'auto' after tool messages; assistant null content sent as ''",
    state: stateOf(toolConversation, { turnCount: 1 }),
    agent: agentOf({ tools: [weatherTool] }),
    check: (body) => {
      assert.equal(body.tool_choice, 'auto')
      assert.equal(body.messages[2].content, '')
      assert.equal(body.messages[2].tool_calls.length, 2)
      assert.deepEqual(body.messages[3], { role: 'tool', content: 'Sunny, 22C', tool_call_id: 'call_1' })
    },
  },
  {
    name: 'tool messages without tools on the agent send no tool_choice',
    state: stateOf(toolConversation, { turnCount: 1 }),
    agent: agentOf(),
    check: (body) => {
      assert.equal('tool_choice' in body, false)
      assert.equal('tools' in body, false)
    },
  },
  {
    name: 'tool_choice absent when a user message follows the tool messages',
    state: stateOf([...toolConversation, { role: 'assistant', content: 'Done.' }, { role: 'user', content: 'thanks' }]),
    agent: agentOf({ tools: [weatherTool] }),
    check: (body) => assert.equal('tool_choice' in body, false),
  },
  {
    name: 'assistant and tool content arrays become their text parts joined by a space',
    state: stateOf(
      [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Calling' },
            { type: 'image_url', image_url: { url: 'https://example.com/x.png' } },
            { type: 'text', text: 'the tool' },
          ],
          tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'ping', arguments: '{}' } }],
        },
        { role: 'tool', content: [{ type: 'text', text: 'pong' }, { type: 'text', text: 'again' }], tool_call_id: 'call_9' },
      ],
      { turnCount: 1 },
    ),
    agent: agentOf({ tools: [pingTool] }),
    check: (body) => {
      assert.equal(body.messages[2].content, 'Calling the tool')
      assert.equal(body.messages[3].content, 'pong again')
    },
  },
  {
    name: 'user content-part arrays: text, image_url with and without detail, file',
    state: stateOf([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare these' },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'high' } },
          { type: 'image_url', image_url: { url: 'https://example.com/b.png' } },
          { type: 'file', file: { file_id: 'file-abc', format: 'application/pdf' } },
          { type: 'file', file: { file_id: 'file-def' } },
        ],
        // Ignored by JAF when the content is already an array.
        attachments: [{ kind: 'image', url: 'https://example.com/ignored.png' }],
      },
    ]),
    agent: agentOf(),
    check: (body) => {
      assert.equal(body.messages[1].content.length, 5)
      assert.deepEqual(body.messages[1].content[1], {
        type: 'image_url',
        image_url: { url: 'https://example.com/a.png', detail: 'high' },
      })
    },
  },
  {
    name: 'image attachments: url, base64 with mimeType, url beats data, no mimeType skipped',
    state: stateOf([
      {
        role: 'user',
        content: 'What is in these images?',
        attachments: [
          { kind: 'image', url: 'https://example.com/cat.jpg' },
          { kind: 'image', mimeType: 'image/png', data: 'iVBORw0KGgo=' },
          { kind: 'image', mimeType: 'image/png', data: 'iVBORw0KGgo=', url: 'https://example.com/wins.png' },
          { kind: 'image', data: 'iVBORw0KGgo=' },
          { kind: 'image', mimeType: 'image/gif' },
        ],
      },
    ]),
    agent: agentOf(),
    check: (body) => {
      assert.deepEqual(body.messages[1].content, [
        { type: 'text', text: 'What is in these images?' },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        { type: 'image_url', image_url: { url: 'https://example.com/wins.png' } },
      ])
    },
  },
  {
    name: 'whitespace-only text with attachments sends no text part',
    state: stateOf([{ role: 'user', content: '   ', attachments: [{ kind: 'image', url: 'https://example.com/a.png' }] }]),
    agent: agentOf(),
    check: (body) =>
      assert.deepEqual(body.messages[1].content, [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }]),
  },
  {
    name: 'text/plain document from base64 data (trimmed), as document and as file',
    state: stateOf([
      {
        role: 'user',
        content: 'Read these',
        attachments: [
          { kind: 'document', mimeType: 'text/plain', name: 'notes.txt', data: b64('\n  Line one\nLine two  \n\n') },
          { kind: 'file', mimeType: 'TEXT/PLAIN', data: b64('unnamed file') },
        ],
      },
    ]),
    agent: agentOf(),
    check: (body) =>
      assert.deepEqual(attachmentTexts(body), [
        'Read these',
        'DOCUMENT: notes.txt (plain text content):\n\nLine one\nLine two',
        'DOCUMENT: document (plain text content):\n\nunnamed file',
      ]),
  },
  {
    name: 'CSV document: summary of a simple table',
    state: stateOf(csvMessage(CSV_PLAIN)),
    agent: agentOf(),
    check: (body) =>
      assert.equal(
        attachmentTexts(body)[1],
        'DOCUMENT: data.csv (CSV data structure and sample rows):\n\nCSV File Content:\nRows: 2, Columns: 3\n' +
          'Columns: name, age, city\n\nFirst few rows:\nname,age,city\nAlice,30,Paris\nBob,25,Berlin',
      ),
  },
  {
    name: 'CSV document: quoted commas, newlines and escaped quotes; blank lines skipped',
    state: stateOf(csvMessage(CSV_QUOTED)),
    agent: agentOf(),
    check: (body) => assert.match(attachmentTexts(body)[1], /Rows: 3, Columns: 2\nColumns: name, notes\n/),
  },
  {
    name: 'CSV document: more than 10 lines, CRLF line endings (preview cut at 10 lines)',
    state: stateOf(csvMessage(CSV_MANY_ROWS)),
    agent: agentOf(),
    check: (body) => assert.match(attachmentTexts(body)[1], /Rows: 14, Columns: 2\n/),
  },
  {
    // papaparse guesses the delimiter (',', '\t', '|', ';', ...) when none is given.
    name: 'CSV document: semicolon-delimited (papaparse auto-detects the delimiter)',
    state: stateOf(csvMessage(CSV_SEMICOLON)),
    agent: agentOf(),
    check: (body) => assert.match(attachmentTexts(body)[1], /Rows: 2, Columns: 2\nColumns: name, age\n/),
  },
  {
    // papaparse 5.4+ renames duplicate header fields (a, a_1) and reports the renamed fields.
    name: 'CSV document: duplicate header names (papaparse renames them)',
    state: stateOf(csvMessage(CSV_DUPLICATE_HEADERS)),
    agent: agentOf(),
    check: (body) => assert.match(attachmentTexts(body)[1], /Rows: 1, Columns: 3\nColumns: a, a_1, b\n/),
  },
  {
    // papaparse treats a quote inside an unquoted field as a literal character.
    name: 'CSV document: a quote inside an unquoted field (27" wide)',
    state: stateOf(csvMessage(CSV_QUOTE_IN_UNQUOTED_FIELD)),
    agent: agentOf(),
    check: (body) => assert.match(attachmentTexts(body)[1], /Rows: 2, Columns: 2\nColumns: name, size\n/),
  },
  {
    // Two empty header fields: papaparse renames the second to `_1`.
    name: 'CSV document: trailing commas in the header (duplicate empty names)',
    state: stateOf(csvMessage(CSV_TRAILING_COMMAS)),
    agent: agentOf(),
    check: (body) => assert.match(attachmentTexts(body)[1], /Rows: 1, Columns: 4\nColumns: a, b, , _1\n/),
  },
  {
    // papaparse picks one newline style for the whole file (here \r\n, from the first line).
    name: 'CSV document: mixed line endings (papaparse guesses one newline style)',
    state: stateOf(csvMessage(CSV_MIXED_LINE_ENDINGS)),
    agent: agentOf(),
    check: (body) => assert.match(attachmentTexts(body)[1], /Rows: 1, Columns: 2\nColumns: a, b\n/),
  },
  {
    name: 'JSON document: pretty-printed in original key order; invalid JSON sent as trimmed text',
    state: stateOf([
      {
        role: 'user',
        content: 'Check the config',
        attachments: [
          { kind: 'document', mimeType: 'application/json', name: 'cfg.json', data: b64('{"zeta":1,"alpha":{"b":[1,2],"a":null},"s":"é"}') },
          { kind: 'document', mimeType: 'application/json', name: 'broken.json', data: b64('  {not json  \n') },
        ],
      },
    ]),
    agent: agentOf(),
    check: (body) =>
      assert.deepEqual(attachmentTexts(body).slice(1), [
        'DOCUMENT: cfg.json (JSON data structure):\n\nJSON File Content:\n' +
          JSON.stringify({ zeta: 1, alpha: { b: [1, 2], a: null }, s: 'é' }, null, 2),
        'DOCUMENT: broken.json (JSON data structure):\n\n{not json',
      ]),
  },
  {
    name: 'unsupported and incomplete documents become ATTACHMENT placeholders',
    state: stateOf([
      {
        role: 'user',
        content: 'Files attached',
        attachments: [
          { kind: 'document', mimeType: 'application/msword', name: 'old.doc', data: b64('x') },
          { kind: 'file', mimeType: 'image/svg+xml', format: 'svg', url: 'https://example.com/logo.svg' },
          { kind: 'document', mimeType: 'application/x-thing' },
          { kind: 'document', mimeType: 'text/plain', name: 'no-data.txt' },
          { kind: 'document' },
          { kind: 'document', name: 'no-type.bin', url: 'https://example.com/blob' },
        ],
      },
    ]),
    agent: agentOf(),
    check: (body) =>
      assert.deepEqual(attachmentTexts(body).slice(1), [
        'ATTACHMENT: document: old.doc',
        'ATTACHMENT: file: svg (https://example.com/logo.svg)',
        'ATTACHMENT: document: application/x-thing',
        'ATTACHMENT: document: no-data.txt',
        'ATTACHMENT: document: attachment',
        'ATTACHMENT: document: no-type.bin (https://example.com/blob)',
      ]),
  },
  {
    name: 'documents fetched from a local http server (text, CSV, JSON)',
    state: () =>
      stateOf([
        {
          role: 'user',
          content: 'Read the linked files',
          attachments: [
            { kind: 'document', mimeType: 'text/plain', name: 'notes.txt', url: `${docBase}/notes.txt` },
            { kind: 'document', mimeType: 'text/csv', name: 'people.csv', url: `${docBase}/people.csv` },
            { kind: 'file', mimeType: 'Application/JSON', url: `${docBase}/config.json` },
          ],
        },
      ]),
    agent: agentOf(),
    check: (body) => {
      const texts = attachmentTexts(body)
      assert.equal(texts[1], 'DOCUMENT: notes.txt (plain text content):\n\nMeeting notes:\nship on Friday.')
      assert.match(texts[2], /^DOCUMENT: people\.csv \(CSV data structure and sample rows\):\n\nCSV File Content:\nRows: 2, Columns: 2\n/)
      assert.match(texts[3], /^DOCUMENT: document \(JSON data structure\):\n\nJSON File Content:\n\{\n {2}"zeta": 1,/)
    },
  },
  {
    name: 'document URL that 404s becomes ERROR text',
    state: () =>
      stateOf([
        {
          role: 'user',
          content: 'Read this',
          attachments: [{ kind: 'document', mimeType: 'text/plain', name: 'gone.txt', url: `${docBase}/missing` }],
        },
      ]),
    agent: agentOf(),
    check: (body) =>
      assert.equal(
        attachmentTexts(body)[1],
        'ERROR: Failed to process document: gone.txt (Failed to fetch URL content: HTTP 404: Not Found)',
      ),
  },
  {
    name: 'outputCodec object schema → json_schema with a normalized name',
    state: stateOf([{ role: 'user', content: 'Classify this' }]),
    agent: agentOf({
      name: 'Weather Bot (v2) — beta!!',
      outputCodec: z.object({
        label: z.enum(['good', 'bad']),
        confidence: z.number(),
        reasons: z.array(z.string().describe('one reason')),
        extra: z.string().optional(),
      }),
    }),
    check: (body) => {
      assert.equal(body.response_format.type, 'json_schema')
      assert.equal(body.response_format.json_schema.name, 'Weather_Bot_v2_beta')
      assert.equal(body.response_format.json_schema.strict, true)
      assert.deepEqual(body.response_format.json_schema.schema.required, ['label', 'confidence', 'reasons'])
    },
  },
  {
    name: 'outputCodec: agent name longer than 64 characters is cut; optional object unwrapped',
    state: stateOf([{ role: 'user', content: 'x' }]),
    agent: agentOf({ name: `${'agent-'.repeat(15)}end`, outputCodec: z.object({ ok: z.boolean() }).optional() }),
    check: (body) => {
      assert.equal(body.response_format.type, 'json_schema')
      assert.equal(body.response_format.json_schema.name.length, 64)
    },
  },
  {
    name: 'outputCodec: name with no usable characters falls back to jaf_output',
    state: stateOf([{ role: 'user', content: 'x' }]),
    agent: agentOf({ name: '!!! ???', outputCodec: z.object({ ok: z.boolean() }) }),
    check: (body) => assert.equal(body.response_format.json_schema.name, 'jaf_output'),
  },
  {
    name: 'outputCodec with a top-level union → json_object fallback',
    state: stateOf([{ role: 'user', content: 'Answer' }]),
    agent: agentOf({ outputCodec: z.union([z.object({ a: z.string() }), z.object({ b: z.number() })]) }),
    check: (body) => assert.deepEqual(body.response_format, { type: 'json_object' }),
  },
  {
    name: 'outputCodec with a top-level nullable → json_object fallback',
    state: stateOf([{ role: 'user', content: 'Answer' }]),
    agent: agentOf({ outputCodec: z.object({ a: z.string() }).nullable() }),
    check: (body) => assert.deepEqual(body.response_format, { type: 'json_object' }),
  },
  {
    name: 'everything at once: tools, codec, settings, multi-turn history',
    state: stateOf(
      [
        { role: 'user', content: 'Plan a trip', attachments: [{ kind: 'image', url: 'https://example.com/map.png' }] },
        ...toolConversation.slice(1),
      ],
      { turnCount: 3, context: { userId: 'u-9', locale: 'fr' } },
    ),
    agent: agentOf({
      name: 'Trip Planner',
      instructions: (state) => `Locale ${state.context.locale}; ${state.messages.length} messages so far.`,
      tools: [weatherTool, pingTool],
      outputCodec: z.object({ plan: z.array(z.string()) }),
      modelConfig: { name: 'gpt-4.1', temperature: 0.2, maxTokens: 1000, reasoning: { effort: 'low' } },
    }),
    config: { modelOverride: 'ignored', maxTurns: 5 },
    check: (body) => {
      assert.equal(body.messages[0].content, 'Locale fr; 4 messages so far.')
      assert.equal(body.tool_choice, 'auto')
      assert.equal(body.reasoning_effort, 'low')
    },
  },
]

describe('request bodies: JAF vs Switchyard', () => {
  for (const c of REQUEST_CASES) {
    for (const stream of [false, true]) {
      test(`${c.name} (${stream ? 'getCompletionStream' : 'getCompletion'})`, async () => {
        const state = typeof c.state === 'function' ? c.state() : c.state
        const { jafBodies, syBodies } = await runBoth({ state, agent: c.agent, config: c.config, stream })
        assert.equal(jafBodies.length, 1, 'JAF sent exactly one request')
        assert.equal(syBodies.length, 1, 'Switchyard sent exactly one request')
        const [jafBody] = jafBodies
        if (stream) {
          assert.equal(jafBody.stream, true)
          assert.deepEqual(jafBody.stream_options, { include_usage: true })
        } else {
          assert.equal('stream' in jafBody, false)
        }
        c.check?.(jafBody)
        assert.deepEqual(syBodies[0], jafBody)
      })
    }
  }

  test('no model anywhere: both reject with the same message and send nothing', async () => {
    const state = stateOf([{ role: 'user', content: 'hi' }])
    const cases = [
      { agent: agentOf({ name: 'Nameless', modelConfig: undefined }), config: {} },
      { agent: agentOf({ name: 'Nameless', modelConfig: { temperature: 1 } }), config: {} },
      // `??`, not `||`: an empty name does not fall back to modelOverride.
      { agent: agentOf({ name: 'Nameless', modelConfig: { name: '' } }), config: { modelOverride: 'gpt-4o' } },
    ]
    jafMock.reset()
    syMock.reset()
    for (const { agent, config } of cases) {
      const expected = { message: 'Model not specified for agent Nameless' }
      await quiet(() => assert.rejects(jaf.getCompletion(state, agent, config), expected))
      await quiet(() => assert.rejects(collect(jaf.getCompletionStream(state, agent, config)), expected))
      await assert.rejects(sy.getCompletion(state, agent, config), expected)
      await assert.rejects(collect(sy.getCompletionStream(state, agent, config)), expected)
    }
    assert.equal(jafMock.requests.length, 0)
    assert.equal(syMock.requests.length, 0)
  })

  test('unknown message role or content part type: both reject with the same message', async () => {
    const cases = [
      { messages: [{ role: 'system', content: 'sneaky' }], message: 'Unknown message role: system' },
      { messages: [{ role: 'user', content: [{ type: 'audio', audio: {} }] }], message: 'Unknown content part type: audio' },
    ]
    jafMock.reset()
    syMock.reset()
    for (const { messages, message } of cases) {
      const state = stateOf(messages)
      await quiet(() => assert.rejects(jaf.getCompletion(state, agentOf(), {}), { message }))
      await assert.rejects(sy.getCompletion(state, agentOf(), {}), { message })
    }
    assert.equal(jafMock.requests.length, 0)
    assert.equal(syMock.requests.length, 0)
  })
})

// ---- deliberate differences -------------------------------------------------------------------

describe('deliberate differences (Switchyard converts what JAF cannot)', () => {
  const UNSUPPORTED = { type: 'string', description: 'Unsupported schema type' }

  const omitParameters = (body) => ({
    ...body,
    tools: body.tools.map((t) => ({ ...t, function: { ...t.function, parameters: '<compared separately>' } })),
  })

  test('tool parameters: nullable, union, literal, default, date and descriptions on non-strings', async () => {
    // JAF turns nullable/union/literal/default/date into the `Unsupported schema type` string (a
    // JAF defect) and drops descriptions on anything but a plain string. Switchyard converts them
    // properly and keeps every description. Everything else in the body is identical.
    const tool = {
      schema: {
        name: 'lookup',
        description: 'Look a user up',
        parameters: z.object({
          nickname: z.string().nullable(),
          id: z.union([z.string(), z.number()]),
          kind: z.literal('user'),
          limit: z.number().default(10),
          count: z.number().describe('How many'),
          mode: z.enum(['a', 'b']).describe('Mode'),
          filters: z.object({ q: z.string() }).describe('Filters'),
          since: z.date(),
          tag: z.string().optional().describe('Optional tag'),
        }),
      },
      execute: async () => '',
    }
    const { jafBodies, syBodies } = await runBoth({
      state: stateOf([{ role: 'user', content: 'find bob' }]),
      agent: agentOf({ tools: [tool] }),
    })
    assert.deepEqual(omitParameters(syBodies[0]), omitParameters(jafBodies[0]))

    const required = ['nickname', 'id', 'kind', 'count', 'mode', 'filters', 'since']
    // JAF's output, for the record.
    assert.deepEqual(jafBodies[0].tools[0].function.parameters, {
      type: 'object',
      properties: {
        nickname: UNSUPPORTED,
        id: UNSUPPORTED,
        kind: UNSUPPORTED,
        limit: UNSUPPORTED,
        count: { type: 'number' },
        mode: { type: 'string', enum: ['a', 'b'] },
        filters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'], additionalProperties: false },
        since: UNSUPPORTED,
        tag: { type: 'string' },
      },
      required,
      additionalProperties: false,
    })
    // Switchyard's output.
    assert.deepEqual(syBodies[0].tools[0].function.parameters, {
      type: 'object',
      properties: {
        nickname: { anyOf: [{ type: 'string' }, { type: 'null' }] },
        id: { anyOf: [{ type: 'string' }, { type: 'number' }] },
        kind: { type: 'string', const: 'user' },
        limit: { type: 'number', default: 10 },
        count: { type: 'number', description: 'How many' },
        mode: { type: 'string', enum: ['a', 'b'], description: 'Mode' },
        filters: {
          type: 'object',
          properties: { q: { type: 'string' } },
          required: ['q'],
          additionalProperties: false,
          description: 'Filters',
        },
        since: { type: 'string', format: 'date-time' },
        tag: { type: 'string', description: 'Optional tag' },
      },
      required,
      additionalProperties: false,
    })
  })

  test('outputCodec object with a nullable field: same json_schema envelope, proper nested schema', async () => {
    const { jafBodies, syBodies } = await runBoth({
      state: stateOf([{ role: 'user', content: 'x' }]),
      agent: agentOf({ outputCodec: z.object({ answer: z.string(), source: z.string().nullable() }) }),
    })
    const jafFormat = jafBodies[0].response_format
    const syFormat = syBodies[0].response_format
    assert.deepEqual({ ...syBodies[0], response_format: null }, { ...jafBodies[0], response_format: null })
    assert.equal(jafFormat.json_schema.name, 'Helper')
    assert.deepEqual(jafFormat.json_schema.schema.properties.source, UNSUPPORTED) // JAF
    assert.deepEqual(syFormat, {
      type: 'json_schema',
      json_schema: {
        name: 'Helper',
        strict: true,
        schema: {
          type: 'object',
          properties: { answer: { type: 'string' }, source: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
          required: ['answer', 'source'],
          additionalProperties: false,
        },
      },
    })
  })
})

// ---- response parity -----------------------------------------------------------------------------

describe('getCompletion results: JAF vs Switchyard', () => {
  const state = stateOf([{ role: 'user', content: 'hi' }])

  test('text answer', async () => {
    const body = {
      ...completion({ content: 'Hello there!', usage: { prompt_tokens: 12, completion_tokens: 3 } }),
      system_fingerprint: 'fp_123',
    }
    body.usage.prompt_tokens_details = { cached_tokens: 4 }
    const { jafResult, syResult } = await runBoth({ state, agent: agentOf(), replies: [{ json: body }] })
    assert.equal(jafResult.message.content, 'Hello there!')
    assert.equal(jafResult.id, body.id)
    assert.deepEqual(jafResult.usage, body.usage)
    assert.deepEqual(syResult, jafResult)
  })

  test('tool-call answer (two calls, null content)', async () => {
    const body = completion({
      toolCalls: [
        { id: 'call_a', name: 'get_weather', arguments: { city: 'Paris' } },
        { id: 'call_b', name: 'get_weather', arguments: '{"city":"Rome","units":"metric"}' },
      ],
      usage: { prompt_tokens: 40, completion_tokens: 20 },
    })
    const { jafResult, syResult } = await runBoth({
      state,
      agent: agentOf({ tools: [weatherTool] }),
      replies: [{ json: body }],
    })
    assert.equal(jafResult.message.content, null)
    assert.equal(jafResult.message.tool_calls.length, 2)
    assert.equal(jafResult.finish_reason, 'tool_calls')
    assert.deepEqual(syResult, jafResult)
  })
})

describe('stream chunk sequences: JAF vs Switchyard', () => {
  const state = stateOf([{ role: 'user', content: 'hi' }])

  const streamBoth = (sse, { done = true, agent = agentOf() } = {}) =>
    runBoth({ state, agent, stream: true, replies: [{ sse, done }] })

  // A chunk in OpenAI's wire format, for hand-built sequences.
  const chunk = (delta, { finish = null, usage, choices } = {}) => ({
    id: 'chatcmpl-hand',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'gpt-4o-mini',
    choices: choices ?? [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(usage !== undefined && { usage }),
  })

  test('text stream', async () => {
    const sse = streamChunks({ content: 'Hello brave new world', usage: { prompt_tokens: 7 } })
    const { jafResult, syResult } = await streamBoth(sse)
    assert.equal(
      jafResult.filter((c) => c.delta).map((c) => c.delta).join(''),
      'Hello brave new world',
    )
    assert.deepEqual(syResult, jafResult)
  })

  test('streamed tool calls: 2 parallel calls', async () => {
    const sse = streamChunks({
      toolCalls: [
        { id: 'call_p', name: 'get_weather', arguments: { city: 'Paris', units: 'metric' } },
        { id: 'call_r', name: 'get_weather', arguments: { city: 'Rome', units: 'imperial' } },
      ],
    })
    const { jafResult, syResult } = await streamBoth(sse, { agent: agentOf({ tools: [weatherTool] }) })
    const deltas = jafResult.filter((c) => c.toolCallDelta).map((c) => c.toolCallDelta)
    assert.deepEqual([...new Set(deltas.map((d) => d.index))], [0, 1])
    assert.deepEqual(syResult, jafResult)
  })

  test('streamed tool calls: both calls in one chunk, interleaved fragments, a missing index', async () => {
    const sse = [
      chunk({ role: 'assistant', content: null }),
      chunk({
        tool_calls: [
          { index: 0, id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '' } },
          { index: 1, id: 'call_1', type: 'function', function: { name: 'ping', arguments: '' } },
        ],
      }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '{}' } }] }),
      chunk({ tool_calls: [{ function: { arguments: '{"city":' } }] }), // no index → 0
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }),
      chunk({}, { finish: 'tool_calls' }),
    ]
    const { jafResult, syResult } = await streamBoth(sse, { agent: agentOf({ tools: [weatherTool, pingTool] }) })
    assert.equal(jafResult.filter((c) => c.toolCallDelta).length, 5)
    assert.deepEqual(syResult, jafResult)
  })

  test('stream with usage after the finish chunk', async () => {
    const sse = streamChunks({ content: 'Done.', usage: { prompt_tokens: 5, completion_tokens: 2 } })
    const { jafResult, syResult } = await streamBoth(sse)
    const finish = jafResult.find((c) => c.finishReason)
    assert.equal(finish.usage, null)
    assert.deepEqual(jafResult.at(-1), { isDone: true, usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } })
    assert.deepEqual(syResult, jafResult)
  })

  test('stream with usage on the finish chunk itself', async () => {
    const usage = { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }
    const sse = [chunk({ role: 'assistant', content: 'Hi' }), chunk({}, { finish: 'stop', usage })]
    const { jafResult, syResult } = await streamBoth(sse)
    assert.deepEqual(jafResult.find((c) => c.finishReason).usage, usage)
    assert.deepEqual(jafResult.at(-1), { isDone: true, usage })
    assert.deepEqual(syResult, jafResult)
  })

  test('stream without usage', async () => {
    const sse = streamChunks({ content: 'No usage here', includeUsage: false })
    const { jafResult, syResult } = await streamBoth(sse)
    assert.equal(jafResult.at(-1).finishReason, 'stop')
    assert.equal(jafResult.at(-1).usage, null)
    assert.deepEqual(syResult, jafResult)
  })

  test('a chunk with empty-string content is not yielded', async () => {
    const sse = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'A' }),
      chunk({ content: '' }),
      chunk({ content: 'B' }),
      chunk({}, { finish: 'stop' }),
    ]
    const { jafResult, syResult } = await streamBoth(sse)
    assert.deepEqual(
      jafResult.map((c) => c.delta ?? (c.isDone ? 'DONE' : '?')),
      ['A', 'B', 'DONE'],
    )
    assert.deepEqual(syResult, jafResult)
  })

  test('data after [DONE] is ignored', async () => {
    const sse = [
      ...streamChunks({ content: 'Before done', includeUsage: false }),
      'data: [DONE]\n\n',
      chunk({ content: 'AFTER' }),
      chunk({}, { finish: 'length' }),
    ]
    const { jafResult, syResult } = await streamBoth(sse, { done: false })
    assert.equal(jafResult.some((c) => c.delta === 'AFTER'), false)
    assert.deepEqual(syResult, jafResult)
  })

  test('keep-alive comments, a chunk without choices and a finish chunk without delta', async () => {
    const sse = [
      ': keep-alive\n\n',
      chunk({ role: 'assistant', content: 'x' }),
      chunk(undefined, { choices: [] }),
      ': ping\n\n',
      chunk(undefined, { choices: [{ index: 0, finish_reason: 'stop' }] }),
    ]
    const { jafResult, syResult } = await streamBoth(sse)
    assert.equal(jafResult.at(-1).finishReason, 'stop')
    assert.deepEqual(syResult, jafResult)
  })
})

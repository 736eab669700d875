// Contract fixture: AWS Bedrock Runtime, Converse and ConverseStream (plus Cohere embeddings
// through InvokeModel). Replies follow the Bedrock API reference: Converse JSON bodies,
// ConverseStream as binary `application/vnd.amazon.eventstream` messages (prelude, string
// headers, JSON payload with Bedrock's `p` padding, both CRC-32s), errors as `{"message"}`
// bodies typed by the `x-amzn-ErrorType` header. Every request's SigV4 signature is recomputed
// here with node:crypto from what the mock received.
import { createHash, createHmac } from 'node:crypto'

const MODEL_ID = 'anthropic.claude-3-5-sonnet-20240620-v1:0'
const ENCODED_MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1%3A0'
const EMBED_ID = 'cohere.embed-english-v3'
const REGION = 'eu-west-1'
const CREDENTIALS = {
  accessKeyId: 'AKIDCONTRACTBEDROCK',
  secretAccessKey: 'contract/Bedrock+secret/KEY',
  sessionToken: 'contract-session-token-FwoGZXIvYXdzEJr',
}
const EVENT_STREAM = 'application/vnd.amazon.eventstream'
const ERROR_TYPE_SUFFIX = ':http://internal.amazon.com/coral/com.amazon.bedrock/'

// ---- AWS event-stream framing -------------------------------------------------------------

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** CRC-32/ISO-HDLC, the checksum AWS event streams use. */
function crc32(buf) {
  let c = 0xffffffff
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function stringHeader(name, value) {
  const n = Buffer.from(name)
  const v = Buffer.from(value)
  const out = Buffer.alloc(1 + n.length + 1 + 2 + v.length)
  out.writeUInt8(n.length, 0)
  n.copy(out, 1)
  out.writeUInt8(7, 1 + n.length)
  out.writeUInt16BE(v.length, 2 + n.length)
  v.copy(out, 4 + n.length)
  return out
}

/** One event-stream message: prelude, prelude CRC, headers, payload, message CRC. */
function message(headers, payload) {
  const h = Buffer.concat(headers.map(([name, value]) => stringHeader(name, value)))
  const body = Buffer.from(payload)
  const total = 12 + h.length + body.length + 4
  const prelude = Buffer.alloc(12)
  prelude.writeUInt32BE(total, 0)
  prelude.writeUInt32BE(h.length, 4)
  prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8)
  const withoutCrc = Buffer.concat([prelude, h, body])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(withoutCrc), 0)
  return Buffer.concat([withoutCrc, crc])
}

// Bedrock pads every stream payload with a `p` field of varying length.
const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
let padding = 0
const padded = (body) => ({ ...body, p: PADDING.slice(0, 5 + (padding++ % 40)) })

const event = (type, body) =>
  message(
    [
      [':event-type', type],
      [':content-type', 'application/json'],
      [':message-type', 'event'],
    ],
    JSON.stringify(padded(body)),
  )

const streamReply = (frames) => ({
  raw: frames,
  headers: { 'content-type': EVENT_STREAM, 'x-amzn-requestid': 'f2a1c0de-0000-4000-8000-000000000001' },
})

// ---- Converse bodies --------------------------------------------------------------------------

const usageOf = (u) => ({
  inputTokens: u.input,
  outputTokens: u.output,
  totalTokens: u.input + u.output,
  ...(u.cached !== undefined && { cacheReadInputTokens: u.cached, cacheWriteInputTokens: 0 }),
})

const words = (text) => text.split(/(?=\s)/).filter(Boolean)
const thirds = (text) => {
  const size = Math.ceil(text.length / 3)
  return [text.slice(0, size), text.slice(size, 2 * size), text.slice(2 * size)].filter(Boolean)
}

/** `[{ text } | { toolUse }]` blocks and the stop reason of a scenario. */
function blocksOf(scenario) {
  switch (scenario.kind) {
    case 'text':
      return { blocks: [{ text: scenario.text }], stopReason: scenario.finish ?? 'end_turn' }
    case 'json':
      // The forced structured-output tool: its input is the answer.
      return {
        blocks: [{ toolUse: { toolUseId: 'tooluse_json_5vMnZ0Qe', name: 'json_tool_call', input: scenario.value } }],
        stopReason: 'tool_use',
      }
    case 'tools':
      return {
        blocks: [
          { text: 'Let me look that up.' },
          ...scenario.calls.map((c) => ({ toolUse: { toolUseId: c.id, name: c.name, input: c.args } })),
        ],
        stopReason: 'tool_use',
      }
    default:
      throw new Error(`no blocks for scenario ${scenario.kind}`)
  }
}

function converse(scenario) {
  const { blocks, stopReason } = blocksOf(scenario)
  return {
    output: { message: { role: 'assistant', content: blocks } },
    stopReason,
    usage: usageOf(scenario.usage),
    metrics: { latencyMs: 412 },
  }
}

/** The ConverseStream events of a scenario, in Bedrock's order. */
function converseStream(scenario) {
  const { blocks, stopReason } = blocksOf(scenario)
  const frames = [event('messageStart', { role: 'assistant' })]
  blocks.forEach((block, contentBlockIndex) => {
    if (block.text !== undefined) {
      for (const text of words(block.text)) frames.push(event('contentBlockDelta', { contentBlockIndex, delta: { text } }))
    } else {
      const { toolUseId, name, input } = block.toolUse
      frames.push(event('contentBlockStart', { contentBlockIndex, start: { toolUse: { toolUseId, name } } }))
      for (const piece of thirds(JSON.stringify(input))) {
        frames.push(event('contentBlockDelta', { contentBlockIndex, delta: { toolUse: { input: piece } } }))
      }
    }
    frames.push(event('contentBlockStop', { contentBlockIndex }))
  })
  frames.push(event('messageStop', { stopReason }))
  frames.push(event('metadata', { usage: usageOf(scenario.usage), metrics: { latencyMs: 388 } }))
  return frames
}

// Status, `x-amzn-ErrorType` and message as Bedrock sends them; the scenario's text leads.
const ERRORS = {
  rate_limited: [429, 'ThrottlingException', (m) => m],
  auth: [403, 'UnrecognizedClientException', (m) => m],
  invalid_request: [400, 'ValidationException', (m) => m],
  context_length_exceeded: [400, 'ValidationException', (m) => `${m}: Input is too long for requested model.`],
  overloaded: [503, 'ServiceUnavailableException', (m) => m],
  content_filter: [400, 'ValidationException', (m) => `${m}: This request has been blocked by our content filters.`],
}

// ---- SigV4, recomputed --------------------------------------------------------------------------

const sha256 = (data) => createHash('sha256').update(data).digest('hex')
const hmac = (key, data) => createHmac('sha256', key).update(data).digest()

/** RFC 3986 unreserved characters stay; every other UTF-8 byte becomes %XX. */
function uriEncode(text, encodeSlash) {
  let out = ''
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte)
    if (/[A-Za-z0-9\-_.~]/.test(ch) || (ch === '/' && !encodeSlash)) out += ch
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

function canonicalQuery(query) {
  if (!query) return ''
  return query
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=')
      const [k, v] = at === -1 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)]
      return [uriEncode(decodeURIComponent(k), true), uriEncode(decodeURIComponent(v), true)]
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

/** Checks the Authorization header's shape, then recomputes its signature from the request. */
function checkSignature(req, assert) {
  const auth = req.headers.authorization
  const shape =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/
  const m = shape.exec(auth)
  assert.ok(m, `SigV4 Authorization header: ${auth}`)
  const [, keyId, date, region, service, signedHeaders, signature] = m
  assert.deepEqual([keyId, region, service], [CREDENTIALS.accessKeyId, REGION, 'bedrock'])
  const amzDate = req.headers['x-amz-date']
  assert.match(amzDate, /^\d{8}T\d{6}Z$/)
  assert.equal(date, amzDate.slice(0, 8))
  assert.ok(Math.abs(Date.now() - Date.parse(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`)) < 5 * 60_000)
  assert.equal(req.headers['x-amz-security-token'], CREDENTIALS.sessionToken)
  const names = signedHeaders.split(';')
  for (const required of ['host', 'x-amz-date', 'x-amz-security-token']) assert.ok(names.includes(required), `${required} is signed`)
  if (req.method === 'POST') assert.ok(names.includes('content-type'), 'content-type is signed')

  const [path, query = ''] = req.path.split(/\?(.*)/s)
  const canonicalHeaders = names.map((n) => `${n}:${String(req.headers[n]).trim().replace(/\s+/g, ' ')}\n`).join('')
  const canonicalRequest = [
    req.method,
    uriEncode(path, false),
    canonicalQuery(query),
    canonicalHeaders,
    signedHeaders,
    sha256(Buffer.from(req.body, 'utf8')),
  ].join('\n')
  const scope = `${date}/${region}/${service}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n')
  const key = hmac(hmac(hmac(hmac(`AWS4${CREDENTIALS.secretAccessKey}`, date), region), service), 'aws4_request')
  assert.equal(signature, hmac(key, stringToSign).toString('hex'), `SigV4 signature over:\n${canonicalRequest}`)
}

// ---- the fixture ------------------------------------------------------------------------------

const chatPath = (action) => `/model/${ENCODED_MODEL}/${action}`

export default {
  id: 'bedrock',
  model: `bedrock/${MODEL_ID}`,
  embedModel: `bedrock/${EMBED_ID}`,
  supports: { structured: 'tool', imageUrl: false, seed: false, extraFields: 'reject', embeddings: true, models: false },
  settings: (mock) => ({
    baseURL: mock.url,
    region: REGION,
    awsAccessKeyId: CREDENTIALS.accessKeyId,
    awsSecretAccessKey: CREDENTIALS.secretAccessKey,
    awsSessionToken: CREDENTIALS.sessionToken,
  }),

  /** The reply, in Bedrock's wire format, for an abstract scenario. */
  render(scenario, req) {
    const stream = req.path.endsWith('/converse-stream')
    switch (scenario.kind) {
      case 'text':
      case 'json':
      case 'tools':
        return stream ? streamReply(converseStream(scenario)) : { json: converse(scenario) }
      case 'cut': {
        // Four whole messages, then half of the fifth: the body ends inside a message.
        const frames = converseStream({ kind: 'text', text: scenario.text, usage: { input: 1, output: 1 } })
        const half = frames[4].subarray(0, Math.floor(frames[4].length / 2))
        return streamReply([...frames.slice(0, 4), half])
      }
      case 'error': {
        const [status, type, text] = ERRORS[scenario.error]
        return {
          error: {
            status,
            body: { message: text(scenario.message) },
            headers: { 'x-amzn-errortype': `${type}${ERROR_TYPE_SUFFIX}`, 'x-amzn-requestid': 'f2a1c0de-0000-4000-8000-0000000000e1' },
          },
        }
      }
      case 'embedding':
        // Cohere Embed on Bedrock (InvokeModel).
        return {
          json: {
            embeddings: scenario.vectors,
            id: '5e0f6a2b-36c4-4d8e-9f3a-6c1d2e7b8a90',
            response_type: 'embeddings_floats',
            texts: req.json.texts,
          },
        }
      default:
        throw new Error(`unknown scenario ${scenario.kind}`)
    }
  },

  /** The exact wire request each scenario must produce, signature included. */
  checkRequest(name, req, assert, ctx) {
    const body = req.json
    assert.equal(req.method, 'POST')
    assert.equal(req.headers['content-type'], 'application/json')
    checkSignature(req, assert)
    const userText = { role: 'user', content: [{ text: ctx.user }] }
    switch (name) {
      case 'text':
      case 'stream':
        assert.equal(req.path, chatPath(name === 'stream' ? 'converse-stream' : 'converse'))
        assert.deepEqual(body, {
          messages: [userText],
          system: [{ text: ctx.system }],
          inferenceConfig: { maxTokens: ctx.maxTokens, temperature: ctx.temperature },
        })
        if (name === 'stream') assert.equal(req.headers.accept, EVENT_STREAM)
        break
      case 'tools':
        assert.equal(req.path, chatPath('converse'))
        assert.deepEqual(body.toolConfig, {
          tools: [
            { toolSpec: { name: 'get_weather', description: 'Weather for a city', inputSchema: { json: ctx.weatherSchema } } },
            { toolSpec: { name: 'get_time', description: 'Local time in a city', inputSchema: { json: ctx.timeSchema } } },
          ],
        })
        break
      case 'tool_result':
        // The assistant's empty text is left out (Converse refuses blank text blocks); the two
        // tool results share one user turn.
        assert.deepEqual(body.messages, [
          userText,
          {
            role: 'assistant',
            content: ctx.toolCalls.map((c) => ({
              toolUse: { toolUseId: c.id, name: c.function.name, input: JSON.parse(c.function.arguments) },
            })),
          },
          {
            role: 'user',
            content: ctx.toolCalls.map((c, i) => ({ toolResult: { toolUseId: c.id, content: [{ text: ctx.toolResults[i] }] } })),
          },
        ])
        assert.deepEqual(body.toolConfig.toolChoice, { auto: {} })
        break
      case 'structured':
        assert.deepEqual(body.toolConfig, {
          tools: [
            {
              toolSpec: {
                name: 'json_tool_call',
                description: `Respond with a JSON object that matches the ${ctx.agentName} schema.`,
                inputSchema: { json: ctx.outputSchema },
              },
            },
          ],
          toolChoice: { tool: { name: 'json_tool_call' } },
        })
        break
      case 'params':
        assert.equal(req.path, chatPath('converse'))
        assert.deepEqual(body, {
          messages: [userText],
          inferenceConfig: { maxTokens: 50, temperature: 0.2, topP: 0.9, stopSequences: ['END'] },
        })
        break
      case 'embed':
        assert.equal(req.path, `/model/${EMBED_ID}/invoke`)
        assert.deepEqual(body, { texts: ['alpha', 'beta'], input_type: 'search_document' })
        break
      default:
        throw new Error(`unknown request check ${name}`)
    }
  },
}

// Vertex AI with a service-account key (GOOGLE_APPLICATION_CREDENTIALS, VERTEXAI_CREDENTIALS,
// `credentials`): the JWT bearer exchange against a loopback token endpoint that checks the
// assertion's claims and RS256 signature, token caching and refresh, and the minted token reaching
// a mock Vertex endpoint as `Authorization: Bearer`.
import { test, describe, before, after, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import http from 'node:http'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { rejection, throwsSync, assertSwitchyard } from './support/assertions.mjs'

const require = createRequire(import.meta.url)
const { makeModelProvider, createProvider } = require('../lib/index.js')
const { serviceAccountFrom, accessToken, vertexCredentials } = require('../lib/google-auth.js')
const { startMockUpstream } = require('../lib/testing.js')

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform'
const MODEL = 'gemini-1.5-pro'
const BASE_PATH = '/v1/projects/sa-project/locations/us-central1/publishers/google'

// ---- environment ------------------------------------------------------------------------------

const TOUCHED = /^(GOOGLE_APPLICATION_CREDENTIALS|GOOGLE_CLOUD_PROJECT|GOOGLE_CLOUD_LOCATION|VERTEXAI_.*|VERTEX_.*)$/
let savedEnv
beforeEach(() => {
  savedEnv = { ...process.env }
  for (const name of Object.keys(process.env)) if (TOUCHED.test(name)) delete process.env[name]
})
afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name]
  Object.assign(process.env, savedEnv)
})

// ---- fixtures ---------------------------------------------------------------------------------

const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
const PRIVATE_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' })
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-vertex-'))

let tokenServer
let tokenURI
let vertex
const tokenRequests = [] // { email, claims, header, jwt }
// Per client_email: how the token endpoint answers (default: a fresh token valid for an hour).
const tokenReplies = new Map()
let minted = 0

const decode = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))

function verifyAssertion(jwt) {
  const [h, c, sig] = jwt.split('.')
  const header = decode(h)
  const claims = decode(c)
  assert.equal(header.alg, 'RS256')
  assert.equal(header.typ, 'JWT')
  assert.equal(header.kid, 'key-id-1')
  assert.match(claims.iss, /@sa-project\.iam\.gserviceaccount\.com$/)
  assert.equal(claims.aud, tokenURI)
  assert.equal(claims.scope, SCOPE)
  assert.equal(claims.exp - claims.iat, 3600)
  assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 60)
  const ok = crypto.createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, sig, 'base64url')
  assert.ok(ok, 'RS256 signature does not verify')
  return { header, claims }
}

before(async () => {
  tokenServer = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      const send = (status, json) => {
        const body = JSON.stringify(json)
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        res.end(body)
      }
      try {
        assert.equal(req.method, 'POST')
        assert.equal(req.url, '/token')
        assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded')
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
        assert.equal(form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:jwt-bearer')
        const jwt = form.get('assertion')
        const { header, claims } = verifyAssertion(jwt)
        tokenRequests.push({ email: claims.iss, header, claims, jwt })
        const reply = tokenReplies.get(claims.iss)
        if (reply) return send(reply.status, reply.json)
        send(200, { access_token: `ya29.minted-${++minted}`, expires_in: 3599, token_type: 'Bearer' })
      } catch (err) {
        send(418, { error: 'test_assertion_failed', error_description: err.message })
      }
    })
  })
  await new Promise((resolve) => tokenServer.listen(0, '127.0.0.1', resolve))
  tokenURI = `http://127.0.0.1:${tokenServer.address().port}/token`

  vertex = await startMockUpstream({
    handler: (req) => ({
      json: {
        candidates: [{ content: { role: 'model', parts: [{ text: 'hello from vertex' }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 3, totalTokenCount: 6 },
        modelVersion: MODEL,
        responseId: 'resp-1',
        createTime: '2025-06-01T10:00:00.000000Z',
      },
    }),
  })
})

after(async () => {
  await vertex?.close()
  tokenServer?.closeAllConnections()
  await new Promise((resolve) => (tokenServer ? tokenServer.close(resolve) : resolve()))
  fs.rmSync(tmp, { recursive: true, force: true })
})

let accounts = 0
/** A fresh service account (its own cache entry), as a document. */
function account(extra = {}) {
  const n = ++accounts
  return {
    type: 'service_account',
    project_id: 'sa-project',
    private_key_id: 'key-id-1',
    private_key: PRIVATE_PEM,
    client_email: `tester-${n}@sa-project.iam.gserviceaccount.com`,
    client_id: `1000${n}`,
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: tokenURI,
    ...extra,
  }
}

function writeAccount(doc) {
  const file = path.join(tmp, `${doc.client_email ?? `doc-${++accounts}`}.json`)
  fs.writeFileSync(file, JSON.stringify(doc, null, 2))
  return file
}

const hits = (doc) => tokenRequests.filter((r) => r.email === doc.client_email)
const vertexBase = () => `${vertex.url}${BASE_PATH}`
const hiState = () => ({ messages: [{ role: 'user', content: 'hi' }] })
const agent = { name: 'a', instructions: () => 's', modelConfig: { name: `vertex_ai/${MODEL}` } }
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function lastVertexRequest() {
  const req = vertex.lastRequest()
  assert.equal(req.path, `${BASE_PATH}/models/${MODEL}:generateContent`)
  return req
}

// ---- makeModelProvider ------------------------------------------------------------------------

describe('makeModelProvider with a service account', () => {
  test('GOOGLE_APPLICATION_CREDENTIALS: the minted token reaches Vertex and is reused', async () => {
    const doc = account()
    process.env.GOOGLE_APPLICATION_CREDENTIALS = writeAccount(doc)
    const provider = makeModelProvider({ providers: { vertex_ai: { baseURL: vertexBase() } } })

    const first = await provider.getCompletion(hiState(), agent, {})
    assert.equal(first.message.content, 'hello from vertex')
    assert.equal(hits(doc).length, 1)
    const token = `ya29.minted-${minted}`
    assert.equal(lastVertexRequest().headers.authorization, `Bearer ${token}`)

    await provider.getCompletion(hiState(), agent, {})
    assert.equal(hits(doc).length, 1, 'the token is cached')
    assert.equal(lastVertexRequest().headers.authorization, `Bearer ${token}`)
  })

  test('a token about to expire is refreshed and the new one is used', async () => {
    const doc = account()
    process.env.GOOGLE_APPLICATION_CREDENTIALS = writeAccount(doc)
    tokenReplies.set(doc.client_email, { status: 200, json: { access_token: 'ya29.short-lived', expires_in: 61, token_type: 'Bearer' } })
    const provider = makeModelProvider({ providers: { vertex_ai: { baseURL: vertexBase() } } })

    await provider.getCompletion(hiState(), agent, {})
    assert.equal(lastVertexRequest().headers.authorization, 'Bearer ya29.short-lived')
    await provider.getCompletion(hiState(), agent, {})
    assert.equal(hits(doc).length, 1, 'still fresh for a second')

    tokenReplies.set(doc.client_email, { status: 200, json: { access_token: 'ya29.refreshed', expires_in: 3599, token_type: 'Bearer' } })
    await sleep(1100) // 61 s lifetime minus the 60 s margin
    await provider.getCompletion(hiState(), agent, {})
    assert.equal(hits(doc).length, 2)
    assert.equal(lastVertexRequest().headers.authorization, 'Bearer ya29.refreshed')
  })

  test('concurrent first calls share one token request', async () => {
    const doc = account()
    process.env.VERTEXAI_CREDENTIALS = JSON.stringify(doc)
    const provider = makeModelProvider({ providers: { vertex_ai: { baseURL: vertexBase() } } })
    await Promise.all([1, 2, 3].map(() => provider.getCompletion(hiState(), agent, {})))
    assert.equal(hits(doc).length, 1)
  })

  test('inline VERTEXAI_CREDENTIALS, with the base URL from VERTEXAI_API_BASE', async () => {
    const doc = account()
    process.env.VERTEXAI_CREDENTIALS = JSON.stringify(doc)
    process.env.VERTEXAI_API_BASE = vertexBase()
    const provider = makeModelProvider()
    await provider.getCompletion(hiState(), agent, {})
    assert.equal(hits(doc).length, 1)
    assert.equal(lastVertexRequest().headers.authorization, `Bearer ya29.minted-${minted}`)
  })

  test('VERTEX_CREDENTIALS as a path, and streaming', async () => {
    const doc = account()
    process.env.VERTEX_CREDENTIALS = writeAccount(doc)
    vertex.reply({
      sse: [{ candidates: [{ content: { role: 'model', parts: [{ text: 'streamed' }] }, finishReason: 'STOP', index: 0 }], modelVersion: MODEL }],
      done: false,
    })
    const provider = makeModelProvider({ providers: { vertex_ai: { baseURL: vertexBase() } } })
    let text = ''
    for await (const chunk of provider.getCompletionStream(hiState(), agent, {})) text += chunk.delta ?? ''
    assert.equal(text, 'streamed')
    assert.equal(vertex.lastRequest().headers.authorization, `Bearer ya29.minted-${minted}`)
    assert.equal(hits(doc).length, 1)
  })

  test('an explicit apiKey or an access token in the environment wins over GOOGLE_APPLICATION_CREDENTIALS', async () => {
    const doc = account()
    process.env.GOOGLE_APPLICATION_CREDENTIALS = writeAccount(doc)
    await makeModelProvider({ providers: { vertex_ai: { baseURL: vertexBase(), apiKey: 'ya29.explicit' } } }).getCompletion(hiState(), agent, {})
    assert.equal(lastVertexRequest().headers.authorization, 'Bearer ya29.explicit')
    process.env.VERTEXAI_ACCESS_TOKEN = 'ya29.from-env'
    await makeModelProvider({ providers: { vertex_ai: { baseURL: vertexBase() } } }).getCompletion(hiState(), agent, {})
    assert.equal(lastVertexRequest().headers.authorization, 'Bearer ya29.from-env')
    assert.equal(hits(doc).length, 0)
  })

  test('a refused assertion rejects with kind auth, without the key or the JWT in the message', async () => {
    const doc = account()
    process.env.GOOGLE_APPLICATION_CREDENTIALS = writeAccount(doc)
    tokenReplies.set(doc.client_email, { status: 400, json: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } })
    const before = vertex.requests.length
    const provider = makeModelProvider({ providers: { vertex_ai: { baseURL: vertexBase() } } })
    const err = await rejection(provider.getCompletion(hiState(), agent, {}))
    assertSwitchyard(err, 'auth')
    assert.equal(err.status, 400)
    assert.equal(err.provider, 'vertex_ai')
    assert.match(err.message, /invalid_grant/)
    const jwt = hits(doc)[0].jwt
    for (const secret of [jwt, jwt.split('.')[2], PRIVATE_PEM, PRIVATE_PEM.split('\n')[1]]) {
      assert.ok(!err.message.includes(secret), 'the message leaks a secret')
      assert.ok(!JSON.stringify(err).includes(secret), 'the error leaks a secret')
    }
    assert.equal(vertex.requests.length, before, 'Vertex was never called')

    // Failures are not cached: the next call asks again.
    tokenReplies.delete(doc.client_email)
    await provider.getCompletion(hiState(), agent, {})
    assert.equal(hits(doc).length, 2)
  })

  test('an authorized_user file rejects with invalid_input naming the supported type', async () => {
    process.env.GOOGLE_APPLICATION_CREDENTIALS = writeAccount({
      type: 'authorized_user',
      client_id: 'x.apps.googleusercontent.com',
      client_secret: 'secret-value',
      refresh_token: '1//refresh-token-value',
    })
    const provider = makeModelProvider({ providers: { vertex_ai: { baseURL: vertexBase() } } })
    const err = await rejection(provider.getCompletion(hiState(), agent, {}))
    assertSwitchyard(err, 'invalid_input')
    assert.match(err.message, /authorized_user/)
    assert.match(err.message, /service_account/)
    assert.ok(!err.message.includes('secret-value') && !err.message.includes('refresh-token-value'))
  })

  test('the token endpoint unreachable → network', async () => {
    const doc = account({ token_uri: 'http://127.0.0.1:1/token' })
    process.env.VERTEXAI_CREDENTIALS = JSON.stringify(doc)
    const provider = makeModelProvider({ providers: { vertex_ai: { baseURL: vertexBase() } } })
    assertSwitchyard(await rejection(provider.getCompletion(hiState(), agent, {})), 'network')
  })
})

// ---- createProvider ---------------------------------------------------------------------------

describe('createProvider with a service account', () => {
  test('execute reaches Vertex with the minted token, cached across calls', async () => {
    const doc = account()
    process.env.GOOGLE_APPLICATION_CREDENTIALS = writeAccount(doc)
    const provider = createProvider('vertex_ai', { baseURL: vertexBase() })
    const result = await provider.execute(MODEL, 'hi', { systemPrompt: 's' })
    assert.equal(result.text, 'hello from vertex')
    const token = `ya29.minted-${minted}`
    assert.equal(lastVertexRequest().headers.authorization, `Bearer ${token}`)
    await provider.execute(`vertex_ai/${MODEL}`, 'again')
    assert.equal(lastVertexRequest().headers.authorization, `Bearer ${token}`)
    assert.equal(hits(doc).length, 1)
  })

  test('settings.credentials as an object, JSON text or a path', async () => {
    for (const make of [(doc) => doc, (doc) => JSON.stringify(doc), (doc) => writeAccount(doc)]) {
      const doc = account()
      const provider = createProvider('vertex_ai', { baseURL: vertexBase(), credentials: make(doc) })
      await provider.execute(MODEL, 'hi')
      assert.equal(hits(doc).length, 1)
      assert.equal(lastVertexRequest().headers.authorization, `Bearer ya29.minted-${minted}`)
    }
  })

  test('a refused assertion rejects with kind auth', async () => {
    const doc = account()
    tokenReplies.set(doc.client_email, { status: 401, json: { error: 'unauthorized_client' } })
    const provider = createProvider('vertex_ai', { baseURL: vertexBase(), credentials: doc })
    const err = await rejection(provider.execute(MODEL, 'hi'))
    assertSwitchyard(err, 'auth')
    assert.ok(!err.message.includes(hits(doc)[0].jwt))
    assert.ok(!err.message.includes('PRIVATE KEY'))
  })

  test('an authorized_user document is refused when the provider is created', () => {
    const err = throwsSync(() => createProvider('vertex_ai', { baseURL: vertexBase(), credentials: { type: 'authorized_user' } }))
    assertSwitchyard(err, 'invalid_input')
    assert.match(err.message, /service_account/)
  })
})

// ---- google-auth.js ---------------------------------------------------------------------------

describe('google-auth', () => {
  test('serviceAccountFrom: settings, then VERTEXAI_CREDENTIALS, then GOOGLE_APPLICATION_CREDENTIALS', () => {
    const a = account()
    const b = account()
    const c = account()
    const env = { VERTEXAI_CREDENTIALS: JSON.stringify(b), GOOGLE_APPLICATION_CREDENTIALS: writeAccount(c) }
    assert.equal(serviceAccountFrom({ credentials: a }, env).client_email, a.client_email)
    assert.equal(serviceAccountFrom({}, env).client_email, b.client_email)
    assert.equal(serviceAccountFrom({}, { GOOGLE_APPLICATION_CREDENTIALS: env.GOOGLE_APPLICATION_CREDENTIALS }).client_email, c.client_email)
    assert.equal(serviceAccountFrom({}, {}), null)
    assert.equal(serviceAccountFrom({ credentials: { ...a, token_uri: undefined } }, {}).token_uri, 'https://oauth2.googleapis.com/token')
  })

  test('unusable documents are invalid_input without their contents', () => {
    const cases = [
      [{ credentials: { type: 'external_account', audience: 'x' } }, /external_account/],
      [{ credentials: '{"type": "service_account", "private_key": "-----BEGIN' }, /not valid JSON/],
      [{ credentials: path.join(tmp, 'missing.json') }, /ENOENT/],
      [{ credentials: { type: 'service_account', private_key: PRIVATE_PEM } }, /client_email/],
    ]
    for (const [settings, message] of cases) {
      const err = throwsSync(() => serviceAccountFrom(settings, {}))
      assertSwitchyard(err, 'invalid_input')
      assert.match(err.message, message)
      assert.ok(!err.message.includes('BEGIN'))
    }
  })

  test('accessToken returns the token and its expiry', async () => {
    const doc = account()
    const startedAt = Date.now()
    const { token, expiresAt } = await accessToken(serviceAccountFrom({ credentials: doc }, {}))
    assert.equal(token, `ya29.minted-${minted}`)
    assert.ok(expiresAt >= startedAt + 3599_000 && expiresAt <= Date.now() + 3599_000)
  })

  test("the account's project_id is the default project", async () => {
    const doc = account({ project_id: 'from-the-key' })
    const seen = []
    const makeClient = (settings) => {
      seen.push(settings)
      return {}
    }
    await vertexCredentials({ credentials: doc }, makeClient, {}).clientNow()
    await vertexCredentials({ credentials: doc }, makeClient, { VERTEXAI_PROJECT: 'from-env' }).clientNow()
    await vertexCredentials({ credentials: doc, project: 'explicit' }, makeClient, {}).clientNow()
    assert.deepEqual(
      seen.map((s) => s.project),
      ['from-the-key', undefined, 'explicit'],
    )
    assert.ok(seen.every((s) => s.apiKey === `ya29.minted-${minted}`))
    assert.equal(vertexCredentials({ apiKey: 'k', credentials: doc }, makeClient, {}), null)
    assert.equal(vertexCredentials({}, makeClient, { VERTEX_AI_ACCESS_TOKEN: 't', GOOGLE_APPLICATION_CREDENTIALS: '/nope' }), null)
  })
})

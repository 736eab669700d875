'use strict'

// Vertex AI credentials from Google's usual environment: a service-account JSON key (inline, or a
// file named by GOOGLE_APPLICATION_CREDENTIALS) traded for an OAuth access token with a signed JWT
// (RFC 7523). The token then goes to the native client as its bearer key; the Rust core never sees
// the private key.

const fs = require('node:fs')
const { createSign } = require('node:crypto')
const { SwitchyardError, invalidInput } = require('./errors.js')

const PROVIDER = 'vertex_ai'
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform'
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token'
const TOKEN_LIFETIME_S = 3600
const REFRESH_MARGIN_MS = 60_000
const TOKEN_TIMEOUT_MS = 30_000
const SUPPORTED = "only service-account keys (type 'service_account') are supported"

const fail = (message) => invalidInput(message, { provider: PROVIDER })

/** A parsed credentials document from inline JSON or a file path; `where` names it in errors. */
function loadCredentials(value, where) {
  if (value !== null && typeof value === 'object') return value
  if (typeof value !== 'string' || value.trim() === '') throw fail(`${where} must be a service-account JSON object, JSON text or a file path`)
  const text = value.trim()
  if (text.startsWith('{')) return parseJson(text, `${where} (inline JSON)`)
  let contents
  try {
    contents = fs.readFileSync(text, 'utf8')
  } catch (err) {
    throw fail(`could not read the credentials file ${JSON.stringify(text)} from ${where}: ${err.code ?? err.message}`)
  }
  return parseJson(contents, `the credentials file ${JSON.stringify(text)} from ${where}`)
}

// JSON.parse's messages quote the input, which here holds a private key: name the source only.
function parseJson(text, where) {
  try {
    return JSON.parse(text)
  } catch {
    throw fail(`${where} is not valid JSON`)
  }
}

/** Checks a credentials document and keeps what the token exchange needs. */
function toServiceAccount(doc, where) {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw fail(`${where} is not a JSON object`)
  if (doc.type !== 'service_account') {
    const got = doc.type === undefined ? 'no type' : `type ${JSON.stringify(doc.type)}`
    throw fail(`${where} has ${got}: Vertex AI credentials support ${SUPPORTED}; for other credentials pass an access token as apiKey or VERTEXAI_ACCESS_TOKEN`)
  }
  for (const field of ['client_email', 'private_key']) {
    if (typeof doc[field] !== 'string' || doc[field] === '') throw fail(`${where} has no ${field}`)
  }
  return {
    type: doc.type,
    client_email: doc.client_email,
    private_key: doc.private_key,
    private_key_id: typeof doc.private_key_id === 'string' ? doc.private_key_id : undefined,
    project_id: typeof doc.project_id === 'string' && doc.project_id !== '' ? doc.project_id : undefined,
    token_uri: typeof doc.token_uri === 'string' && doc.token_uri !== '' ? doc.token_uri : DEFAULT_TOKEN_URI,
  }
}

const envValue = (env, name) => (typeof env[name] === 'string' && env[name].trim() !== '' ? env[name] : undefined)

/**
 * The service account to use, or `null` when none is configured. Looks at `settings.credentials`
 * (an object, JSON text or a file path), then VERTEXAI_CREDENTIALS / VERTEX_CREDENTIALS (JSON
 * text or a path), then GOOGLE_APPLICATION_CREDENTIALS (a path). Throws `invalid_input` for a
 * document that cannot be used.
 */
function serviceAccountFrom(settings = {}, env = process.env) {
  if (settings?.credentials !== undefined && settings.credentials !== null) {
    return toServiceAccount(loadCredentials(settings.credentials, 'credentials'), 'credentials')
  }
  for (const name of ['VERTEXAI_CREDENTIALS', 'VERTEX_CREDENTIALS']) {
    const value = envValue(env, name)
    if (value !== undefined) return toServiceAccount(loadCredentials(value, name), name)
  }
  const path = envValue(env, 'GOOGLE_APPLICATION_CREDENTIALS')
  if (path !== undefined) {
    const where = 'GOOGLE_APPLICATION_CREDENTIALS'
    let contents
    try {
      contents = fs.readFileSync(path.trim(), 'utf8')
    } catch (err) {
      throw fail(`could not read the credentials file ${JSON.stringify(path.trim())} from ${where}: ${err.code ?? err.message}`)
    }
    return toServiceAccount(parseJson(contents, `the credentials file from ${where}`), where)
  }
  return null
}

/** The signed JWT bearer assertion for one token request. */
function assertion(account, nowS) {
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const header = { alg: 'RS256', typ: 'JWT', ...(account.private_key_id && { kid: account.private_key_id }) }
  const claims = { iss: account.client_email, scope: SCOPE, aud: account.token_uri, iat: nowS, exp: nowS + TOKEN_LIFETIME_S }
  const unsigned = `${b64(header)}.${b64(claims)}`
  let signature
  try {
    signature = createSign('RSA-SHA256').update(unsigned).sign(account.private_key, 'base64url')
  } catch {
    throw fail(`the private_key of service account ${account.client_email} is not a usable RSA key`)
  }
  return `${unsigned}.${signature}`
}

const tokens = new Map() // client_email + token_uri → { token, expiresAt } | { pending }

/**
 * An OAuth access token for the service account: `{ token, expiresAt }` (ms since the epoch).
 * Cached until a minute before it expires; concurrent callers share one request.
 */
function accessToken(account) {
  const key = `${account.client_email}\n${account.token_uri}`
  const entry = tokens.get(key)
  if (entry?.pending) return entry.pending
  if (entry && Date.now() < entry.expiresAt - REFRESH_MARGIN_MS) return Promise.resolve({ token: entry.token, expiresAt: entry.expiresAt })
  const pending = fetchToken(account).then(
    (fresh) => {
      tokens.set(key, fresh)
      return { ...fresh }
    },
    (err) => {
      if (tokens.get(key)?.pending === pending) tokens.delete(key)
      throw err
    },
  )
  tokens.set(key, { pending })
  return pending
}

async function fetchToken(account) {
  const started = Date.now()
  const body = new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    assertion: assertion(account, Math.floor(started / 1000)),
  })
  const where = `the token endpoint ${account.token_uri}`
  let res
  let text
  try {
    res = await fetch(account.token_uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
    })
    text = await res.text()
  } catch (err) {
    const timedOut = err?.name === 'TimeoutError'
    throw new SwitchyardError({
      kind: timedOut ? 'timeout' : 'network',
      retryable: true,
      message: timedOut
        ? `vertex_ai: ${where} did not answer within ${TOKEN_TIMEOUT_MS / 1000} s`
        : `vertex_ai: could not reach ${where}: ${err?.cause?.code ?? err?.cause?.message ?? err?.message ?? err}`,
      provider: PROVIDER,
    })
  }
  let json
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  if (!res.ok) {
    // Google answers `{ error, error_description }`; neither echoes the assertion, but be sure.
    const detail = [json?.error, json?.error_description]
      .filter((v) => typeof v === 'string')
      .join(': ')
      .replaceAll(body.get('assertion'), '[assertion]')
      .slice(0, 300)
    const denied = res.status === 400 || res.status === 401 || res.status === 403
    throw new SwitchyardError({
      kind: denied ? 'auth' : res.status === 429 ? 'rate_limited' : 'upstream_error',
      retryable: !denied && (res.status === 429 || res.status >= 500),
      status: res.status,
      message: `vertex_ai: ${where} refused service account ${account.client_email} (${res.status}${detail ? ` ${detail}` : ''})`,
      provider: PROVIDER,
    })
  }
  if (typeof json?.access_token !== 'string' || json.access_token === '') {
    throw new SwitchyardError({ kind: 'bad_response', message: `vertex_ai: ${where} answered without an access_token`, provider: PROVIDER })
  }
  const lifetimeS = Number(json.expires_in)
  return { token: json.access_token, expiresAt: started + (Number.isFinite(lifetimeS) && lifetimeS > 0 ? lifetimeS : TOKEN_LIFETIME_S) * 1000 }
}

const PROJECT_ENV = ['VERTEXAI_PROJECT', 'VERTEX_PROJECT', 'GOOGLE_CLOUD_PROJECT']
const TOKEN_ENV = ['VERTEXAI_ACCESS_TOKEN', 'VERTEX_AI_ACCESS_TOKEN']

/**
 * For Vertex AI settings that name no access token (no `apiKey`, no VERTEXAI_ACCESS_TOKEN /
 * VERTEX_AI_ACCESS_TOKEN) but find a service account: `{ account, clientNow }`, where
 * `clientNow()` resolves to a client built by `makeClient(settings)` with a current token as
 * `apiKey` (and the account's project unless one is set), rebuilt when the token is refreshed.
 * `null` otherwise. Explicit `settings.credentials` wins over an access token in the environment.
 */
function vertexCredentials(settings = {}, makeClient, env = process.env) {
  if (settings?.apiKey) return null
  const explicit = settings?.credentials !== undefined && settings.credentials !== null
  if (!explicit && TOKEN_ENV.some((name) => envValue(env, name) !== undefined)) return null
  const account = serviceAccountFrom(settings, env)
  if (!account) return null
  const project =
    settings.project ?? (PROJECT_ENV.some((name) => envValue(env, name) !== undefined) ? undefined : account.project_id)
  let current // { token, expiresAt, client }
  async function clientNow() {
    if (current && Date.now() < current.expiresAt - REFRESH_MARGIN_MS) return current.client
    const { token, expiresAt } = await accessToken(account)
    // Concurrent callers get the same token: build its client once.
    if (current?.token === token) current.expiresAt = Math.max(current.expiresAt, expiresAt)
    else current = { token, expiresAt, client: makeClient({ ...settings, apiKey: token, project }) }
    return current.client
  }
  return { account, clientNow }
}

module.exports = { serviceAccountFrom, accessToken, vertexCredentials }

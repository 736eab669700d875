'use strict'

// Every credential Switchyard was handed, so no error it raises can carry one: a key pasted into
// a model name, an agent name or a URL is scrubbed from messages and fields alike. The Rust
// core scrubs its own errors the same way; this covers what JS writes.

const MAX_SECRETS = 1000
const MIN_LENGTH = 8
const REPLACEMENT = '[redacted]'

// Values that are placeholders, not secrets (the agent builder's default key).
const PLACEHOLDERS = new Set(['anything'])

// Environment variables that hold credentials, beside each provider's own key variables.
const EXTRA_ENV = ['LITELLM_API_KEY', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_BEARER_TOKEN_BEDROCK', 'VERTEXAI_ACCESS_TOKEN', 'VERTEX_AI_ACCESS_TOKEN']

const known = new Set()

/** Remember `value` as a secret (an API key, a token, a credential header value). */
function registerSecret(value) {
  if (typeof value !== 'string' || value.length < MIN_LENGTH || PLACEHOLDERS.has(value) || known.has(value)) return
  if (known.size >= MAX_SECRETS) known.delete(known.values().next().value)
  known.add(value)
}

let keyEnv
let asking = false
/** The credential variables: every provider's key variables (from the core) and the extras. */
function keyEnvNames() {
  // The addon failing to load raises an error, which comes back here: then the extras do.
  if (keyEnv || asking) return keyEnv ?? EXTRA_ENV
  asking = true
  try {
    keyEnv = [...new Set([...require('./binding.js').listProviders().flatMap((p) => p.apiKeyEnv), ...EXTRA_ENV])]
    return keyEnv
  } catch {
    return EXTRA_ENV
  } finally {
    asking = false
  }
}

function envSecrets() {
  // Read when an error is made, never at load: the variables' current values count.
  return keyEnvNames()
    .map((name) => process.env[name])
    .filter((v) => typeof v === 'string' && v.length >= MIN_LENGTH && !PLACEHOLDERS.has(v))
}

// `scheme://user:password@` in any URL a message quotes. Bounded, so a huge message is scanned
// in linear time.
const USERINFO = /([a-z][a-z0-9+.-]{0,31}:\/\/)[^/\s@]{0,1024}@/gi

function scrubText(text, secrets) {
  let out = text.replace(USERINFO, `$1${REPLACEMENT}@`)
  for (const secret of secrets) if (out.includes(secret)) out = out.replaceAll(secret, REPLACEMENT)
  return out
}

/** `value` with every known secret replaced, in strings at any depth (a copy where needed). */
function scrub(value, secrets = [...known, ...envSecrets()], depth = 0) {
  if (typeof value === 'string') return scrubText(value, secrets)
  if (value === null || typeof value !== 'object' || depth > 32) return value
  if (Array.isArray(value)) return value.map((v) => scrub(v, secrets, depth + 1))
  const out = {}
  for (const [k, v] of Object.entries(value)) out[scrubText(k, secrets)] = scrub(v, secrets, depth + 1)
  return out
}

/** A URL fit to show: no userinfo, and query values hidden (some gateways take keys there). */
function displayUrl(url) {
  if (typeof url !== 'string') return url
  if (!url.includes('@') && !url.includes('?')) return scrubText(url, [...known, ...envSecrets()])
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    for (const key of [...u.searchParams.keys()]) u.searchParams.set(key, REPLACEMENT)
    return scrubText(u.toString(), [...known, ...envSecrets()])
  } catch {
    return REPLACEMENT
  }
}

module.exports = { registerSecret, scrub, displayUrl }

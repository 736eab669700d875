'use strict'

// Direct provider access without a proxy: a model name picks the provider
// (`anthropic/claude-…`, `gpt-4o`), each provider speaks its own wire format in Rust.

const native = require('../index.js')
const { makeJafProvider, nativeClient, transportOptions, headerList, toSwitchyardError } = require('./provider.js')
const { providerId } = require('./aliases.js')
const { vertexCredentials } = require('./google-auth.js')

/** Where a model name leads: `{ provider, model, baseURL, hasApiKey, apiKeyEnv, baseURLEnv }`. */
function resolveModel(model) {
  let resolved
  try {
    resolved = native.resolveModel(model)
  } catch (err) {
    throw toSwitchyardError(err)
  }
  const { baseUrl, baseUrlEnv, ...rest } = resolved
  return { ...rest, baseURL: baseUrl ?? null, baseURLEnv: baseUrlEnv }
}

/** Native client options for one provider from `makeModelProvider`'s options. */
function providerClientOptions(settings = {}, options) {
  return {
    baseUrl: settings.baseURL,
    apiKey: settings.apiKey,
    headers: headerList(settings.headers),
    apiVersion: settings.apiVersion,
    region: settings.region,
    project: settings.project,
    awsAccessKeyId: settings.awsAccessKeyId,
    awsSecretAccessKey: settings.awsSecretAccessKey,
    awsSessionToken: settings.awsSessionToken,
    ...transportOptions(options, options.proxyConfig),
  }
}

/**
 * A JAF `ModelProvider` that routes each call by its model name to the provider's own API.
 * `options.providers[id]` overrides a provider's key, base URL and settings; anything unset
 * comes from the provider's usual environment variables, read when it is first used.
 */
function makeModelProvider(options = {}) {
  // Settings may be keyed by alias ('claude', 'together'); an unknown key is an error, not ignored.
  const settingsById = Object.fromEntries(Object.entries(options.providers ?? {}).map(([name, s]) => [providerId(name), s]))
  const makeClient = (provider) => (settings) => nativeClient(provider, providerClientOptions(settings, options))
  // provider → its native client, or (Vertex AI with a service account) `{ clientNow }`.
  const clients = new Map()
  const clientFor = (provider) => {
    let client = clients.get(provider)
    if (!client) {
      const settings = settingsById[provider]
      client =
        (provider === 'vertex_ai' && vertexCredentials(settings, makeClient(provider))) ||
        makeClient(provider)(settings)
      clients.set(provider, client)
    }
    return client
  }
  const routes = new Map()
  const route = (model) => {
    let target = routes.get(model)
    if (!target) {
      const resolved = resolveModel(model)
      const client = clientFor(resolved.provider)
      const { clientNow } = client
      target = { provider: resolved.provider, model: resolved.model, ...(clientNow ? { clientNow } : { client }) }
      routes.set(model, target)
    }
    // A service account's token expires: such routes look their client up per call.
    if (target.clientNow) return target.clientNow().then((client) => ({ ...target, client }))
    return target
  }
  return makeJafProvider(route, options)
}

module.exports = { makeModelProvider, resolveModel, providerClientOptions }

'use strict'

// Routing by model name, without a proxy: a model name picks the provider (`anthropic/claude-…`,
// `gpt-4o`) through the core's registry, and each provider speaks its own wire format in Rust.
// (Not the Router: this maps names to providers; it does not balance, retry or fall back.)

const native = require('./native.js')
const { makeJafProvider, jafOptions } = require('./provider.js')
const { providerId } = require('./aliases.js')
const v = require('./validate.js')

/** `{ [provider id]: settings }` from settings keyed by id or alias; an unknown name is an error. */
function settingsById(providers, path) {
  if (v.optObject(providers, path) === undefined) return {}
  return Object.fromEntries(
    v.entries(providers, path, 100).map(([name, settings]) => [providerId(name), native.providerSettings(settings, `${path}[${JSON.stringify(name)}]`)]),
  )
}

/** The transport of every client a multi-provider face makes: timeouts, retries, proxy. */
function sharedTransport(options, path) {
  if (v.optObject(options, path) === undefined) return {}
  return { ...native.transportOptions(options, path), ...native.proxyOptions(v.read(options, 'proxyConfig', `${path}.proxyConfig`), `${path}.proxyConfig`) }
}

/**
 * The model id to send to provider `id` for `model`: its own prefix is stripped once, so
 * `openrouter/openrouter/auto` reaches OpenRouter as `openrouter/auto`.
 */
function wireModel(id, model) {
  v.string(model, 'model', { nonEmpty: true })
  return model.startsWith(`${id}/`) ? model.slice(id.length + 1) : model
}

/**
 * A JAF `ModelProvider` that routes each call by its model name to the provider's own API.
 * `options.providers[id]` overrides a provider's key, base URL and settings; anything unset
 * comes from the provider's usual environment variables, read when it is first used.
 */
function makeModelProvider(options) {
  try {
    const jaf = jafOptions(options, 'options')
    const settings = settingsById(options && v.read(options, 'providers', 'options.providers'), 'options.providers')
    const transport = sharedTransport(options, 'options')
    const sources = new Map() // provider id → () => client | Promise<client>
    const routes = new Map() // model name → { provider, model, source }
    const route = (model) => {
      let target = routes.get(model)
      if (!target) {
        const resolved = native.resolveModel(model)
        let source = sources.get(resolved.provider)
        if (!source) {
          source = native.clientSource(resolved.provider, settings[resolved.provider] ?? {}, transport)
          sources.set(resolved.provider, source)
        }
        target = { provider: resolved.provider, model: resolved.model, source }
        routes.set(model, target)
      }
      const client = target.source()
      // A service account's token expires: such a source answers with a promise.
      return typeof client.then === 'function' ? client.then((c) => ({ ...target, client: c })) : { ...target, client }
    }
    return makeJafProvider(route, { ...jaf, transport })
  } catch (err) {
    throw v.typed(err, 'makeModelProvider')
  }
}

module.exports = { makeModelProvider, settingsById, sharedTransport, wireModel }

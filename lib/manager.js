'use strict'

// Several providers behind one object, dispatching by model name (seed 003's ProviderManager).

const { createProvider, providerId } = require('./direct.js')
const { resolveModel } = require('./router.js')
const { invalidInput } = require('./errors.js')
const { toSwitchyardError } = require('./provider.js')

class ProviderManager {
  /** `options`: timeouts, retries and proxy for every provider it creates. */
  constructor(options = {}) {
    this.options = options
    this.providers = new Map()
  }

  /** Register a provider by name or alias with its settings; replaces one of the same id. */
  addProvider(name, settings = {}) {
    const provider = createProvider(name, settings, this.options)
    this.providers.set(provider.id, provider)
    return provider
  }

  getProvider(name) {
    const provider = this.providers.get(providerId(name))
    if (!provider) throw invalidInput(`no provider ${JSON.stringify(name)} was added`)
    return provider
  }

  /** The provider serving `model` (added, or created from the environment) and its model id. */
  route(model) {
    const resolved = resolveModel(model)
    let provider = this.providers.get(resolved.provider)
    if (!provider) provider = this.addProvider(resolved.provider)
    return { provider, model: resolved.model }
  }

  /** Run `prompt` on a named provider. */
  execute(name, model, prompt, opts) {
    return this.getProvider(name).execute(model, prompt, opts)
  }

  /** Run `prompt` on whichever provider serves `model` (`claude-…` → Anthropic, `ollama/…` → Ollama). */
  autoExecute(model, prompt, opts) {
    const target = this.route(model)
    return target.provider.execute(target.model, prompt, opts)
  }

  /** Stream `prompt`'s answer from whichever provider serves `model`. */
  autoStream(model, prompt, opts) {
    const target = this.route(model)
    return target.provider.streamExecute(target.model, prompt, opts)
  }

  /** An OpenAI-shaped chat request routed by its `model`. */
  chat(request, opts) {
    const target = this.route(request.model)
    return target.provider.chat({ ...request, model: target.model }, opts)
  }

  /** `{ [providerId]: models }` for every added provider; a provider that fails gives `{ error }`. */
  async listAllModels() {
    const entries = await Promise.all(
      [...this.providers].map(async ([id, provider]) => {
        try {
          return [id, await provider.listModels()]
        } catch (err) {
          return [id, { error: toSwitchyardError(err) }]
        }
      }),
    )
    return Object.fromEntries(entries)
  }

  /** `{ [providerId]: info }` for every added provider. */
  getAllInfo() {
    return Object.fromEntries([...this.providers].map(([id, provider]) => [id, provider.getInfo()]))
  }
}

module.exports = { ProviderManager }

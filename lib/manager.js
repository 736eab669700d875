'use strict'

// Several providers behind one object, dispatching by model name (seed 003's ProviderManager).

const { createProvider } = require('./direct.js')
const { providerId } = require('./aliases.js')
const { resolveModel } = require('./native.js')
const { sharedTransport } = require('./model-routing.js')
const { invalidInput } = require('./errors.js')
const v = require('./validate.js')

class ProviderManager {
  /** `options`: timeouts, retries and proxy for every provider it creates. */
  constructor(options) {
    try {
      sharedTransport(options, 'options')
    } catch (err) {
      throw v.typed(err, 'ProviderManager')
    }
    this.options = options ?? {}
    this.providers = new Map()
  }

  /** Register a provider by name or alias with its settings; replaces one of the same id. */
  addProvider(name, settings = {}) {
    const provider = createProvider(name, settings, this.options)
    this.providers.set(provider.id, provider)
    return provider
  }

  getProvider(name) {
    v.string(name, 'name', { nonEmpty: true, maxBytes: 256 })
    const provider = this.providers.get(providerId(name))
    if (!provider) throw invalidInput(`no provider ${JSON.stringify(name)} was added`)
    return provider
  }

  /** The provider serving `model`: added, or created from the environment. */
  route(model) {
    const { provider: id } = resolveModel(model)
    return this.providers.get(id) ?? this.addProvider(id)
  }

  /** The model of an OpenAI-shaped request, checked. */
  static modelOf(request) {
    v.object(request, 'request')
    return v.read(request, 'model', 'request.model')
  }

  // The providers take the full model name and strip their own prefix once, so
  // `openrouter/openrouter/auto` reaches OpenRouter as `openrouter/auto`.

  /** Run `prompt` on a named provider. */
  async execute(name, model, prompt, opts) {
    return this.getProvider(name).execute(model, prompt, opts)
  }

  /** Run `prompt` on whichever provider serves `model` (`claude-…` → Anthropic, `ollama/…` → Ollama). */
  async autoExecute(model, prompt, opts) {
    return this.route(model).execute(model, prompt, opts)
  }

  /** Stream `prompt`'s answer from whichever provider serves `model`. */
  async *autoStream(model, prompt, opts) {
    yield* this.route(model).streamExecute(model, prompt, opts)
  }

  /** An OpenAI-shaped chat request routed by its `model`. */
  async chat(request, opts) {
    return this.route(ProviderManager.modelOf(request)).chat(request, opts)
  }

  /** `{ [providerId]: models }` for every added provider; a provider that fails gives `{ error }`. */
  async listAllModels() {
    const entries = await Promise.all(
      [...this.providers].map(async ([id, provider]) => {
        try {
          return [id, await provider.listModels()]
        } catch (err) {
          return [id, { error: v.typed(err, `${id}.listModels`) }]
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

v.typedMethods(ProviderManager.prototype, 'ProviderManager')

module.exports = { ProviderManager }

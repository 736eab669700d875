'use strict'

// Sampling parameters under the names people use for them (seed 003's normalisation), mapped to
// the OpenAI names the adapters translate.

const { invalidInput } = require('./errors.js')
const v = require('./validate.js')

const ALIASES = {
  temperature: 'temperature',
  temp: 'temperature',
  top_p: 'top_p',
  topP: 'top_p',
  nucleus_sampling: 'top_p',
  max_tokens: 'max_tokens',
  maxTokens: 'max_tokens',
  max_length: 'max_tokens',
  max_new_tokens: 'max_tokens',
  num_predict: 'max_tokens',
  max_completion_tokens: 'max_completion_tokens',
  stop: 'stop',
  stop_sequences: 'stop',
  stopSequences: 'stop',
  seed: 'seed',
  presence_penalty: 'presence_penalty',
  frequency_penalty: 'frequency_penalty',
  context: 'num_ctx',
  context_length: 'num_ctx',
  ctx_size: 'num_ctx',
  num_ctx: 'num_ctx',
}

/** Providers whose context window is set per request. */
const PER_REQUEST_CONTEXT = new Set(['ollama'])

/**
 * `{ temp: 0.7, nucleus_sampling: 0.9, max_length: 2000, ctx_size: 8192 }` →
 * `{ temperature: 0.7, top_p: 0.9, max_tokens: 2000, num_ctx: 8192 }`. Unknown names and names
 * given twice under different spellings are errors, never guesses.
 */
function normalizeParameters(parameters, provider) {
  const out = {}
  const from = {}
  if (v.optObject(parameters, 'parameters') === undefined) return out
  for (const [name, value] of v.entries(parameters, 'parameters', 1000)) {
    if (value === undefined) continue
    const canonical = ALIASES[name]
    if (!canonical) throw invalidInput(`unknown parameter ${JSON.stringify(name)}: use one of ${Object.keys(ALIASES).join(', ')}`)
    if (canonical in out) {
      throw invalidInput(`parameters ${JSON.stringify(from[canonical])} and ${JSON.stringify(name)} both set ${canonical}`)
    }
    out[canonical] = canonical === 'stop' && typeof value === 'string' ? [value] : value
    from[canonical] = name
  }
  if ('num_ctx' in out && provider !== undefined && !PER_REQUEST_CONTEXT.has(provider)) {
    throw invalidInput(`${provider} fixes the context window on the server; ${from.num_ctx} applies to ollama`, { provider })
  }
  return out
}

module.exports = { normalizeParameters }

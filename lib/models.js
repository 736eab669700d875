'use strict'

// The JAF agent builder's provider detection, rule for rule, reading the environment at call time.

const LITELLM_PREFIXES = new Set(['anthropic', 'gemini', 'cohere', 'replicate', 'together_ai', 'azure', 'openrouter'])

const nonEmpty = (value) => typeof value === 'string' && value.length > 0

/** Which path the agent builder takes for `model`: 'openai' | 'anthropic' | 'google' | 'litellm'. */
function getProviderFromModel(model) {
  const env = process.env
  if (env.USE_LITELLM === 'true' || env.NEXT_PUBLIC_USE_LITELLM === 'true') return 'litellm'
  if (nonEmpty(env.LITELLM_URL) || nonEmpty(env.NEXT_PUBLIC_LITELLM_URL)) return 'litellm'
  if (model.includes('/') && LITELLM_PREFIXES.has(model.slice(0, model.indexOf('/')))) return 'litellm'
  if (model.includes('gpt')) return 'openai'
  if (model.includes('claude')) return 'anthropic'
  if (model.includes('gemini')) return 'google'
  if (model.includes('llama') || model.includes('mixtral') || model.includes('mistral')) return 'litellm'
  return 'openai'
}

module.exports = { getProviderFromModel }

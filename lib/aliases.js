'use strict'

// Provider names people use, mapped to provider ids (LiteLLM's prefixes).

const native = require('./binding.js')
const { invalidInput } = require('./errors.js')

const ALIASES = {
  gpt: 'openai',
  chatgpt: 'openai',
  claude: 'anthropic',
  google: 'gemini',
  vertex: 'vertex_ai',
  vertexai: 'vertex_ai',
  aws: 'bedrock',
  'llama.cpp': 'llamacpp',
  'llama-cpp': 'llamacpp',
  llama_cpp: 'llamacpp',
  together: 'together_ai',
  togetherai: 'together_ai',
  hf: 'huggingface',
  hugging_face: 'huggingface',
  grok: 'xai',
  fireworks: 'fireworks_ai',
  pplx: 'perplexity',
  azure_openai: 'azure',
}

/** A provider id from a name or alias (case-insensitive), or an `invalid_input` error. */
function providerId(name) {
  const key = String(name).trim().toLowerCase()
  const id = ALIASES[key] ?? key
  if (!native.listProviders().some((p) => p.id === id)) {
    throw invalidInput(`unknown provider ${JSON.stringify(name)}: use one of ${native.listProviders().map((p) => p.id).join(', ')}`)
  }
  return id
}

module.exports = { providerId, ALIASES }

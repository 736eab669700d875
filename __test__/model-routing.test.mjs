// Routing by model name: `resolveModel` (the LiteLLM naming conventions, defaults and env
// overrides) and `makeModelProvider` (a JAF ModelProvider dispatching each call to its provider)
// against real loopback servers.
import { test, describe, before, beforeEach, afterEach, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import util from 'node:util'
import { rejection, throwsSync, assertSwitchyard } from './support/assertions.mjs'

const require = createRequire(import.meta.url)
const { resolveModel, makeModelProvider } = require('../lib/index.js')
const { startMockUpstream, completion, streamChunks, errorBody } = require('../lib/testing.js')

// ---- environment ------------------------------------------------------------------------------

// Every variable the routing reads, plus proxies: the suite must not depend on whoever runs it.
const ROUTING_ENV = [
  ...['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'],
  ...['OPENAI_API_KEY', 'OPENAI_API_BASE', 'OPENAI_BASE_URL'],
  ...['AZURE_API_KEY', 'AZURE_OPENAI_API_KEY', 'AZURE_API_BASE', 'AZURE_OPENAI_ENDPOINT'],
  ...['AZURE_API_VERSION', 'OPENAI_API_VERSION', 'AZURE_OPENAI_API_VERSION'],
  ...['ANTHROPIC_API_KEY', 'ANTHROPIC_API_BASE', 'ANTHROPIC_BASE_URL'],
  ...['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GEMINI_API_BASE'],
  ...['VERTEXAI_ACCESS_TOKEN', 'VERTEX_AI_ACCESS_TOKEN', 'VERTEXAI_API_BASE', 'VERTEX_AI_API_BASE'],
  ...['VERTEXAI_PROJECT', 'VERTEX_PROJECT', 'GOOGLE_CLOUD_PROJECT'],
  ...['VERTEXAI_LOCATION', 'VERTEX_LOCATION', 'GOOGLE_CLOUD_LOCATION'],
  ...['BEDROCK_API_BASE', 'AWS_REGION_NAME', 'AWS_REGION', 'AWS_DEFAULT_REGION'],
  ...['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'],
  ...['OLLAMA_API_KEY', 'OLLAMA_API_BASE', 'OLLAMA_BASE_URL', 'OLLAMA_HOST'],
  ...['LLAMACPP_API_KEY', 'LLAMACPP_API_BASE'],
  ...['OPENROUTER_API_KEY', 'OPENROUTER_API_BASE'],
  ...['GROQ_API_KEY', 'GROQ_API_BASE'],
  ...['TOGETHER_API_KEY', 'TOGETHERAI_API_KEY', 'TOGETHER_AI_API_KEY', 'TOGETHER_AI_API_BASE', 'TOGETHER_API_BASE'],
  ...['COHERE_API_KEY', 'CO_API_KEY', 'COHERE_API_BASE'],
  ...['REPLICATE_API_KEY', 'REPLICATE_API_TOKEN', 'REPLICATE_API_BASE'],
  ...['HUGGINGFACE_API_KEY', 'HF_TOKEN', 'HUGGINGFACE_API_BASE'],
  ...['MISTRAL_API_KEY', 'MISTRAL_API_BASE'],
  ...['DEEPSEEK_API_KEY', 'DEEPSEEK_API_BASE'],
  ...['XAI_API_KEY', 'XAI_API_BASE'],
  ...['FIREWORKS_AI_API_KEY', 'FIREWORKS_API_KEY', 'FIREWORKS_AI_API_BASE', 'FIREWORKS_API_BASE'],
  ...['PERPLEXITYAI_API_KEY', 'PERPLEXITY_API_KEY', 'PERPLEXITY_API_BASE', 'PERPLEXITYAI_API_BASE'],
]

let savedEnv
beforeEach(() => {
  savedEnv = { ...process.env }
  for (const name of ROUTING_ENV) delete process.env[name]
})
afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name]
  Object.assign(process.env, savedEnv)
})

// ---- helpers ----------------------------------------------------------------------------------




/** Drain a JAF stream: every event and the error it ended with (if any). */
async function drain(gen) {
  const events = []
  let error
  try {
    for await (const event of gen) events.push(event)
  } catch (err) {
    error = err
  }
  return { events, error }
}

// ---- resolveModel: the defaults of every provider ----------------------------------------------

const PROFILE = {
  openai: {
    baseURL: 'https://api.openai.com/v1',
    apiKeyEnv: ['OPENAI_API_KEY'],
    baseURLEnv: ['OPENAI_API_BASE', 'OPENAI_BASE_URL'],
  },
  azure: {
    baseURL: null, // every Azure resource has its own endpoint
    apiKeyEnv: ['AZURE_API_KEY', 'AZURE_OPENAI_API_KEY'],
    baseURLEnv: ['AZURE_API_BASE', 'AZURE_OPENAI_ENDPOINT'],
  },
  anthropic: {
    baseURL: 'https://api.anthropic.com',
    apiKeyEnv: ['ANTHROPIC_API_KEY'],
    baseURLEnv: ['ANTHROPIC_API_BASE', 'ANTHROPIC_BASE_URL'],
  },
  gemini: {
    baseURL: 'https://generativelanguage.googleapis.com',
    apiKeyEnv: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
    baseURLEnv: ['GEMINI_API_BASE'],
  },
  vertex_ai: {
    baseURL: null, // needs a project and location
    apiKeyEnv: ['VERTEXAI_ACCESS_TOKEN', 'VERTEX_AI_ACCESS_TOKEN'],
    baseURLEnv: ['VERTEXAI_API_BASE', 'VERTEX_AI_API_BASE'],
  },
  bedrock: {
    baseURL: 'https://bedrock-runtime.us-east-1.amazonaws.com',
    // Bedrock API keys (bearer); SigV4 credentials come from the AWS_* variables.
    apiKeyEnv: ['AWS_BEARER_TOKEN_BEDROCK'],
    baseURLEnv: ['BEDROCK_API_BASE'],
  },
  ollama: {
    baseURL: 'http://localhost:11434',
    apiKeyEnv: ['OLLAMA_API_KEY'],
    baseURLEnv: ['OLLAMA_API_BASE', 'OLLAMA_BASE_URL', 'OLLAMA_HOST'],
  },
  llamacpp: {
    baseURL: 'http://localhost:8080/v1',
    apiKeyEnv: ['LLAMACPP_API_KEY'],
    baseURLEnv: ['LLAMACPP_API_BASE'],
  },
  openrouter: {
    baseURL: 'https://openrouter.ai/api/v1',
    apiKeyEnv: ['OPENROUTER_API_KEY'],
    baseURLEnv: ['OPENROUTER_API_BASE'],
  },
  groq: {
    baseURL: 'https://api.groq.com/openai/v1',
    apiKeyEnv: ['GROQ_API_KEY'],
    baseURLEnv: ['GROQ_API_BASE'],
  },
  together_ai: {
    baseURL: 'https://api.together.xyz/v1',
    apiKeyEnv: ['TOGETHER_API_KEY', 'TOGETHERAI_API_KEY', 'TOGETHER_AI_API_KEY'],
    baseURLEnv: ['TOGETHER_AI_API_BASE', 'TOGETHER_API_BASE'],
  },
  cohere: {
    baseURL: 'https://api.cohere.com',
    apiKeyEnv: ['COHERE_API_KEY', 'CO_API_KEY'],
    baseURLEnv: ['COHERE_API_BASE'],
  },
  replicate: {
    baseURL: 'https://api.replicate.com/v1',
    apiKeyEnv: ['REPLICATE_API_KEY', 'REPLICATE_API_TOKEN'],
    baseURLEnv: ['REPLICATE_API_BASE'],
  },
  huggingface: {
    baseURL: 'https://router.huggingface.co/v1',
    apiKeyEnv: ['HUGGINGFACE_API_KEY', 'HF_TOKEN'],
    baseURLEnv: ['HUGGINGFACE_API_BASE'],
  },
  mistral: {
    baseURL: 'https://api.mistral.ai/v1',
    apiKeyEnv: ['MISTRAL_API_KEY'],
    baseURLEnv: ['MISTRAL_API_BASE'],
  },
  deepseek: {
    baseURL: 'https://api.deepseek.com/v1',
    apiKeyEnv: ['DEEPSEEK_API_KEY'],
    baseURLEnv: ['DEEPSEEK_API_BASE'],
  },
  xai: {
    baseURL: 'https://api.x.ai/v1',
    apiKeyEnv: ['XAI_API_KEY'],
    baseURLEnv: ['XAI_API_BASE'],
  },
  fireworks_ai: {
    baseURL: 'https://api.fireworks.ai/inference/v1',
    apiKeyEnv: ['FIREWORKS_AI_API_KEY', 'FIREWORKS_API_KEY'],
    baseURLEnv: ['FIREWORKS_AI_API_BASE', 'FIREWORKS_API_BASE'],
  },
  perplexity: {
    baseURL: 'https://api.perplexity.ai',
    apiKeyEnv: ['PERPLEXITYAI_API_KEY', 'PERPLEXITY_API_KEY'],
    baseURLEnv: ['PERPLEXITY_API_BASE', 'PERPLEXITYAI_API_BASE'],
  },
}

// [name as people write it (LiteLLM docs conventions), provider, model id sent to the provider]
const MODEL_TABLE = [
  // bare OpenAI names
  ['gpt-4o', 'openai', 'gpt-4o'],
  ['gpt-4o-mini-2024-07-18', 'openai', 'gpt-4o-mini-2024-07-18'],
  ['gpt-4-turbo', 'openai', 'gpt-4-turbo'],
  ['gpt-3.5-turbo', 'openai', 'gpt-3.5-turbo'],
  ['o1', 'openai', 'o1'],
  ['o1-mini', 'openai', 'o1-mini'],
  ['o3-mini', 'openai', 'o3-mini'],
  ['o4-mini', 'openai', 'o4-mini'],
  ['chatgpt-4o-latest', 'openai', 'chatgpt-4o-latest'],
  ['text-embedding-3-small', 'openai', 'text-embedding-3-small'],
  ['text-embedding-ada-002', 'openai', 'text-embedding-ada-002'],
  // bare Anthropic, Gemini, Cohere names
  ['claude-3-5-sonnet-20241022', 'anthropic', 'claude-3-5-sonnet-20241022'],
  ['claude-3-haiku-20240307', 'anthropic', 'claude-3-haiku-20240307'],
  ['claude-3-7-sonnet-latest', 'anthropic', 'claude-3-7-sonnet-latest'],
  ['gemini-1.5-pro', 'gemini', 'gemini-1.5-pro'],
  ['gemini-2.0-flash', 'gemini', 'gemini-2.0-flash'],
  ['gemini-1.5-flash-8b', 'gemini', 'gemini-1.5-flash-8b'],
  ['command-r-plus', 'cohere', 'command-r-plus'],
  ['command-r', 'cohere', 'command-r'],
  // provider/model
  ['openai/gpt-4o', 'openai', 'gpt-4o'],
  ['openai/o3-mini', 'openai', 'o3-mini'],
  ['openai/ft:gpt-4o-mini-2024-07-18:my-org:custom-suffix:9zQx1', 'openai', 'ft:gpt-4o-mini-2024-07-18:my-org:custom-suffix:9zQx1'],
  ['anthropic/claude-3-opus-20240229', 'anthropic', 'claude-3-opus-20240229'],
  ['anthropic/claude-3-5-haiku-20241022', 'anthropic', 'claude-3-5-haiku-20241022'],
  ['gemini/gemini-1.5-flash', 'gemini', 'gemini-1.5-flash'],
  ['gemini/gemini-2.0-flash-exp', 'gemini', 'gemini-2.0-flash-exp'],
  ['vertex_ai/gemini-1.5-pro', 'vertex_ai', 'gemini-1.5-pro'],
  ['azure/my-deployment', 'azure', 'my-deployment'],
  ['azure/gpt-4o-2024-08-06', 'azure', 'gpt-4o-2024-08-06'],
  ['bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0', 'bedrock', 'anthropic.claude-3-5-sonnet-20240620-v1:0'],
  ['bedrock/amazon.titan-embed-text-v2:0', 'bedrock', 'amazon.titan-embed-text-v2:0'],
  ['bedrock/meta.llama3-1-70b-instruct-v1:0', 'bedrock', 'meta.llama3-1-70b-instruct-v1:0'],
  ['ollama/llama3.1:8b', 'ollama', 'llama3.1:8b'],
  ['ollama/qwen2.5-coder:7b-instruct-q4_K_M', 'ollama', 'qwen2.5-coder:7b-instruct-q4_K_M'],
  ['llamacpp/qwen2.5', 'llamacpp', 'qwen2.5'],
  ['openrouter/anthropic/claude-3.5-sonnet', 'openrouter', 'anthropic/claude-3.5-sonnet'],
  ['openrouter/openai/gpt-4o', 'openrouter', 'openai/gpt-4o'],
  ['openrouter/meta-llama/llama-3.1-405b-instruct:free', 'openrouter', 'meta-llama/llama-3.1-405b-instruct:free'],
  ['groq/llama-3.1-70b-versatile', 'groq', 'llama-3.1-70b-versatile'],
  ['groq/llama3-70b-8192', 'groq', 'llama3-70b-8192'],
  ['together_ai/meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo', 'together_ai', 'meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo'],
  ['cohere/command-r', 'cohere', 'command-r'],
  ['replicate/meta/meta-llama-3-70b-instruct', 'replicate', 'meta/meta-llama-3-70b-instruct'],
  ['huggingface/meta-llama/Llama-3.1-8B-Instruct', 'huggingface', 'meta-llama/Llama-3.1-8B-Instruct'],
  ['mistral/mistral-large-latest', 'mistral', 'mistral-large-latest'],
  ['mistral/codestral-latest', 'mistral', 'codestral-latest'],
  ['deepseek/deepseek-chat', 'deepseek', 'deepseek-chat'],
  ['deepseek/deepseek-reasoner', 'deepseek', 'deepseek-reasoner'],
  ['xai/grok-2-latest', 'xai', 'grok-2-latest'],
  ['fireworks_ai/accounts/fireworks/models/llama-v3p1-70b-instruct', 'fireworks_ai', 'accounts/fireworks/models/llama-v3p1-70b-instruct'],
  ['perplexity/llama-3.1-sonar-large-128k-online', 'perplexity', 'llama-3.1-sonar-large-128k-online'],
]

describe('resolveModel', () => {
  test('the table has at least 40 real model names and covers every provider', () => {
    assert.ok(MODEL_TABLE.length >= 40, `${MODEL_TABLE.length} names`)
    assert.deepEqual(new Set(MODEL_TABLE.map(([, p]) => p)), new Set(Object.keys(PROFILE)))
  })

  for (const [name, provider, model] of MODEL_TABLE) {
    test(`${name} → ${provider} ${model}`, () => {
      const r = resolveModel(name)
      assert.deepEqual(r, {
        provider,
        model,
        hasApiKey: false,
        apiKeyEnv: PROFILE[provider].apiKeyEnv,
        baseURL: PROFILE[provider].baseURL,
        baseURLEnv: PROFILE[provider].baseURLEnv,
      })
    })
  }

  test('bare names nobody owns are refused with a message saying how to write them', () => {
    for (const name of ['llama-3-70b', 'mixtral-8x7b', 'mistral-large-latest', 'Meta-Llama-3.1-8B-Instruct', 'o1x', 'gpt4']) {
      const err = throwsSync(() => resolveModel(name))
      assertSwitchyard(err, 'invalid_input')
      assert.ok(err.message.includes(JSON.stringify(name)), `message names the model: ${err.message}`)
      assert.match(err.message, /provider\/model/, err.message)
      assert.match(err.message, /ollama\//, err.message)
    }
  })

  test('unknown prefixes are refused, not routed by what follows', () => {
    for (const name of ['mystery/gpt-4o', 'unknownprov/claude-3-5-sonnet-20241022', 'my-proxy/llama3']) {
      const err = throwsSync(() => resolveModel(name))
      assertSwitchyard(err, 'invalid_input')
      assert.ok(err.message.includes(JSON.stringify(name)), err.message)
      assert.match(err.message, /provider\/model/, err.message)
    }
  })

  test('a provider prefix with no model after it is refused', () => {
    for (const name of ['anthropic/', 'openrouter/']) {
      const err = throwsSync(() => resolveModel(name))
      assertSwitchyard(err, 'invalid_input')
      assert.match(err.message, /names no model/, err.message)
    }
  })

  test('the base URL comes from the env, read at call time', () => {
    assert.equal(resolveModel('groq/llama3-70b-8192').baseURL, PROFILE.groq.baseURL)
    process.env.GROQ_API_BASE = 'http://127.0.0.1:9/groq/v1'
    assert.equal(resolveModel('groq/llama3-70b-8192').baseURL, 'http://127.0.0.1:9/groq/v1')
    delete process.env.GROQ_API_BASE
    assert.equal(resolveModel('groq/llama3-70b-8192').baseURL, PROFILE.groq.baseURL)
  })

  test('OPENAI_BASE_URL works alone; OPENAI_API_BASE wins when both are set', () => {
    process.env.OPENAI_BASE_URL = 'http://127.0.0.1:9/base-url/v1'
    assert.equal(resolveModel('gpt-4o').baseURL, 'http://127.0.0.1:9/base-url/v1')
    assert.equal(resolveModel('openai/gpt-4o').baseURL, 'http://127.0.0.1:9/base-url/v1')
    process.env.OPENAI_API_BASE = 'http://127.0.0.1:9/api-base/v1'
    assert.equal(resolveModel('gpt-4o').baseURL, 'http://127.0.0.1:9/api-base/v1')
  })

  test('OLLAMA_API_BASE and OLLAMA_HOST set the Ollama base URL, in that order', () => {
    process.env.OLLAMA_HOST = 'http://10.0.0.5:11434'
    assert.equal(resolveModel('ollama/llama3.1:8b').baseURL, 'http://10.0.0.5:11434')
    process.env.OLLAMA_API_BASE = 'http://gpu-box:11434'
    assert.equal(resolveModel('ollama/llama3.1:8b').baseURL, 'http://gpu-box:11434')
  })

  test('OLLAMA_HOST in Ollama’s own host[:port] form becomes an http URL', () => {
    // Ollama documents OLLAMA_HOST as host[:port] (default 127.0.0.1:11434); its clients add
    // http:// and the default port (ollama-python's _parse_host).
    process.env.OLLAMA_HOST = '127.0.0.1:11434'
    assert.equal(resolveModel('ollama/llama3.1:8b').baseURL, 'http://127.0.0.1:11434')
    process.env.OLLAMA_HOST = 'gpu-box'
    assert.equal(resolveModel('ollama/llama3.1:8b').baseURL, 'http://gpu-box:11434')
  })

  test('ANTHROPIC_API_BASE applies to bare and prefixed Claude names', () => {
    process.env.ANTHROPIC_API_BASE = 'http://127.0.0.1:9/anthropic'
    assert.equal(resolveModel('claude-3-haiku-20240307').baseURL, 'http://127.0.0.1:9/anthropic')
    assert.equal(resolveModel('anthropic/claude-3-opus-20240229').baseURL, 'http://127.0.0.1:9/anthropic')
  })

  test('an empty or blank env variable counts as unset', () => {
    process.env.GROQ_API_BASE = ''
    process.env.OPENAI_API_BASE = '   '
    process.env.OPENAI_BASE_URL = 'http://127.0.0.1:9/v1'
    process.env.OPENAI_API_KEY = '  '
    assert.equal(resolveModel('groq/x').baseURL, PROFILE.groq.baseURL)
    assert.equal(resolveModel('gpt-4o').baseURL, 'http://127.0.0.1:9/v1')
    assert.equal(resolveModel('gpt-4o').hasApiKey, false)
  })

  test('Azure, Bedrock and Vertex AI base URLs follow their env', () => {
    assert.equal(resolveModel('azure/my-deployment').baseURL, null)
    process.env.AZURE_OPENAI_ENDPOINT = 'https://my-resource.openai.azure.com'
    assert.equal(resolveModel('azure/my-deployment').baseURL, 'https://my-resource.openai.azure.com')

    process.env.AWS_REGION_NAME = 'eu-west-1'
    assert.equal(resolveModel('bedrock/amazon.titan-embed-text-v2:0').baseURL, 'https://bedrock-runtime.eu-west-1.amazonaws.com')

    assert.equal(resolveModel('vertex_ai/gemini-1.5-pro').baseURL, null)
    process.env.VERTEXAI_PROJECT = 'my-project'
    process.env.VERTEXAI_LOCATION = 'us-central1'
    assert.equal(
      resolveModel('vertex_ai/gemini-1.5-pro').baseURL,
      'https://us-central1-aiplatform.googleapis.com/v1/projects/my-project/locations/us-central1/publishers/google',
    )
  })

  test('hasApiKey follows the env, read at call time', () => {
    assert.equal(resolveModel('gpt-4o').hasApiKey, false)
    process.env.OPENAI_API_KEY = 'sk-test'
    assert.equal(resolveModel('gpt-4o').hasApiKey, true)
    assert.equal(resolveModel('openai/gpt-4o').hasApiKey, true)
    assert.equal(resolveModel('groq/llama3-70b-8192').hasApiKey, false, 'one provider key is not another’s')
    delete process.env.OPENAI_API_KEY
    assert.equal(resolveModel('gpt-4o').hasApiKey, false)
  })

  test('every spelling of a key variable counts', () => {
    const cases = [
      ['together_ai/meta-llama/Llama-3-70b-chat-hf', 'TOGETHER_API_KEY'],
      ['together_ai/meta-llama/Llama-3-70b-chat-hf', 'TOGETHERAI_API_KEY'],
      ['together_ai/meta-llama/Llama-3-70b-chat-hf', 'TOGETHER_AI_API_KEY'],
      ['huggingface/meta-llama/Llama-3.1-8B-Instruct', 'HF_TOKEN'],
      ['huggingface/meta-llama/Llama-3.1-8B-Instruct', 'HUGGINGFACE_API_KEY'],
      ['gemini-1.5-pro', 'GEMINI_API_KEY'],
      ['gemini/gemini-1.5-flash', 'GOOGLE_API_KEY'],
      ['claude-3-haiku-20240307', 'ANTHROPIC_API_KEY'],
      ['command-r', 'CO_API_KEY'],
      ['replicate/meta/meta-llama-3-70b-instruct', 'REPLICATE_API_TOKEN'],
      ['fireworks_ai/accounts/fireworks/models/llama-v3p1-70b-instruct', 'FIREWORKS_API_KEY'],
      ['perplexity/llama-3.1-sonar-large-128k-online', 'PERPLEXITYAI_API_KEY'],
      ['azure/my-deployment', 'AZURE_OPENAI_API_KEY'],
      ['openrouter/openai/gpt-4o', 'OPENROUTER_API_KEY'],
    ]
    for (const [model, name] of cases) {
      assert.equal(resolveModel(model).hasApiKey, false, `${model} before ${name}`)
      process.env[name] = 'secret'
      assert.equal(resolveModel(model).hasApiKey, true, `${model} with ${name}`)
      delete process.env[name]
    }
  })

  test('the answer never contains the key itself', () => {
    process.env.GROQ_API_KEY = 'gsk_do_not_leak'
    assert.ok(!JSON.stringify(resolveModel('groq/llama3-70b-8192')).includes('gsk_do_not_leak'))
  })
})

// ---- makeModelProvider ------------------------------------------------------------------------

const agentFor = (model, extra = {}) => ({
  name: 'Router Agent',
  instructions: () => 'sys',
  ...(model && { modelConfig: { name: model } }),
  ...extra,
})
const hiState = () => ({ messages: [{ role: 'user', content: 'hi' }] })

/** Answers POST …/chat/completions under any base path (Groq's /openai/v1, OpenRouter's /api/v1). */
function chatHandler(req) {
  if (req.method !== 'POST' || !req.path.endsWith('/chat/completions')) return undefined
  const model = req.json?.model
  if (req.json?.stream) return { sse: streamChunks({ content: 'ok', model }) }
  return { json: completion({ content: 'ok', model }) }
}

describe('makeModelProvider', () => {
  let groq
  let openrouter
  let together

  before(async () => {
    ;[groq, openrouter, together] = await Promise.all([
      startMockUpstream({ handler: chatHandler }),
      startMockUpstream({ handler: chatHandler }),
      startMockUpstream({ handler: chatHandler }),
    ])
  })
  after(() => Promise.all([groq?.close(), openrouter?.close(), together?.close()]))
  beforeEach(() => {
    groq.reset()
    openrouter.reset()
    together.reset()
    process.env.GROQ_API_BASE = `${groq.url}/openai/v1`
    process.env.GROQ_API_KEY = 'gsk_env_key'
    process.env.OPENROUTER_API_BASE = `${openrouter.url}/api/v1`
    process.env.OPENROUTER_API_KEY = 'sk-or-env-key'
  })

  test('one provider routes each agent to its own upstream with its own key and model id', async () => {
    const provider = makeModelProvider()
    groq.reply({ json: completion({ content: 'from groq', model: 'llama-3.1-70b-versatile', usage: { prompt_tokens: 9, completion_tokens: 2 } }) })
    openrouter.reply({ json: completion({ content: 'from openrouter', model: 'openai/gpt-4o' }) })

    const a = await provider.getCompletion(hiState(), agentFor('groq/llama-3.1-70b-versatile'), {})
    assert.equal(a.message.content, 'from groq')
    assert.equal(a.finish_reason, 'stop')
    assert.deepEqual(a.usage, { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 })
    assert.equal(groq.requests.length, 1)
    assert.equal(openrouter.requests.length, 0)
    const g = groq.lastRequest()
    assert.equal(g.method, 'POST')
    assert.equal(g.path, '/openai/v1/chat/completions')
    assert.equal(g.headers.authorization, 'Bearer gsk_env_key')
    assert.equal(g.json.model, 'llama-3.1-70b-versatile')
    assert.deepEqual(g.json.messages, [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'hi' },
    ])
    assert.equal(g.json.stream, undefined)

    const b = await provider.getCompletion(hiState(), agentFor('openrouter/openai/gpt-4o'), {})
    assert.equal(b.message.content, 'from openrouter')
    assert.equal(groq.requests.length, 1, 'groq saw only its own call')
    assert.equal(openrouter.requests.length, 1)
    const o = openrouter.lastRequest()
    assert.equal(o.path, '/api/v1/chat/completions')
    assert.equal(o.headers.authorization, 'Bearer sk-or-env-key')
    assert.equal(o.json.model, 'openai/gpt-4o')
    assert.ok(!JSON.stringify(o).includes('gsk_env_key'), 'the groq key never reaches openrouter')
  })

  test('the env is read when a provider is first used, not when makeModelProvider is called', async () => {
    delete process.env.GROQ_API_BASE
    delete process.env.GROQ_API_KEY
    const provider = makeModelProvider()
    process.env.GROQ_API_BASE = `${groq.url}/openai/v1`
    process.env.GROQ_API_KEY = 'gsk_late_key'
    await provider.getCompletion(hiState(), agentFor('groq/llama-3.1-8b-instant'), {})
    assert.equal(groq.requests.length, 1)
    assert.equal(groq.lastRequest().headers.authorization, 'Bearer gsk_late_key')
    assert.equal(groq.lastRequest().json.model, 'llama-3.1-8b-instant')
  })

  test('options.providers overrides the env key and base URL', async () => {
    process.env.GROQ_API_BASE = `${openrouter.url}/wrong/v1`
    process.env.GROQ_API_KEY = 'gsk_env_key'
    const provider = makeModelProvider({ providers: { groq: { apiKey: 'gsk_code_key', baseURL: `${groq.url}/custom/v1` } } })
    await provider.getCompletion(hiState(), agentFor('groq/llama-3.1-70b-versatile'), {})
    assert.equal(openrouter.requests.length, 0)
    assert.equal(groq.requests.length, 1)
    assert.equal(groq.lastRequest().path, '/custom/v1/chat/completions')
    assert.equal(groq.lastRequest().headers.authorization, 'Bearer gsk_code_key')
  })

  test('options.providers for one provider leaves the others on the env', async () => {
    const provider = makeModelProvider({ providers: { groq: { apiKey: 'gsk_code_key' } } })
    await provider.getCompletion(hiState(), agentFor('groq/llama3-70b-8192'), {})
    await provider.getCompletion(hiState(), agentFor('openrouter/anthropic/claude-3.5-sonnet'), {})
    assert.equal(groq.lastRequest().headers.authorization, 'Bearer gsk_code_key')
    assert.equal(groq.lastRequest().path, '/openai/v1/chat/completions', 'base URL still from GROQ_API_BASE')
    assert.equal(openrouter.lastRequest().headers.authorization, 'Bearer sk-or-env-key')
    assert.equal(openrouter.lastRequest().json.model, 'anthropic/claude-3.5-sonnet')
  })

  test('TOGETHER_API_KEY wins over TOGETHERAI_API_KEY; TOGETHER_AI_API_BASE sets the base', async () => {
    process.env.TOGETHER_AI_API_BASE = `${together.url}/v1`
    process.env.TOGETHERAI_API_KEY = 'litellm-style-key'
    process.env.TOGETHER_API_KEY = 'together-sdk-key'
    const provider = makeModelProvider()
    await provider.getCompletion(hiState(), agentFor('together_ai/meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo'), {})
    const req = together.lastRequest()
    assert.equal(req.path, '/v1/chat/completions')
    assert.equal(req.headers.authorization, 'Bearer together-sdk-key')
    assert.equal(req.json.model, 'meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo')
  })

  test('modelOverride is used when the agent names no model', async () => {
    const provider = makeModelProvider()
    const agent = agentFor(undefined)
    assert.equal(agent.modelConfig, undefined)
    await provider.getCompletion(hiState(), agent, { modelOverride: 'groq/llama3-8b-8192' })
    assert.equal(groq.requests.length, 1)
    assert.equal(groq.lastRequest().json.model, 'llama3-8b-8192')
    assert.equal(openrouter.requests.length, 0)
  })

  test('the agent’s own model wins over modelOverride', async () => {
    const provider = makeModelProvider()
    await provider.getCompletion(hiState(), agentFor('openrouter/openai/gpt-4o'), { modelOverride: 'groq/llama3-8b-8192' })
    assert.equal(groq.requests.length, 0)
    assert.equal(openrouter.lastRequest().json.model, 'openai/gpt-4o')
  })

  test('streams through the routed provider: deltas in order, then the finish', async () => {
    const provider = makeModelProvider()
    groq.reply({ sse: streamChunks({ content: ['Hel', 'lo', ' there'], model: 'llama-3.1-70b-versatile', usage: { prompt_tokens: 5, completion_tokens: 3 } }) })
    const { events, error } = await drain(provider.getCompletionStream(hiState(), agentFor('groq/llama-3.1-70b-versatile'), {}))
    assert.equal(error, undefined)
    assert.deepEqual(
      events.filter((e) => e.delta !== undefined).map((e) => e.delta),
      ['Hel', 'lo', ' there'],
    )
    const finish = events.find((e) => e.isDone && e.finishReason)
    assert.equal(finish?.finishReason, 'stop')
    assert.deepEqual(events.at(-1), { isDone: true, usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } })
    const req = groq.lastRequest()
    assert.equal(req.path, '/openai/v1/chat/completions')
    assert.equal(req.json.model, 'llama-3.1-70b-versatile')
    assert.equal(req.json.stream, true)
    assert.deepEqual(req.json.stream_options, { include_usage: true })
    assert.equal(req.headers.authorization, 'Bearer gsk_env_key')
    assert.equal(openrouter.requests.length, 0)
  })

  test('a model that cannot be routed rejects with invalid_input and sends nothing', async () => {
    const provider = makeModelProvider()
    for (const model of ['llama-3-70b', 'mixtral-8x7b', 'mystery/model', 'groq/']) {
      const err = await rejection(provider.getCompletion(hiState(), agentFor(model), {}))
      assertSwitchyard(err, 'invalid_input')
      const streamed = await drain(provider.getCompletionStream(hiState(), agentFor(model), {}))
      assert.deepEqual(streamed.events, [])
      assertSwitchyard(streamed.error, 'invalid_input')
    }
    const noModel = await rejection(provider.getCompletion(hiState(), agentFor(undefined), {}))
    assertSwitchyard(noModel, 'invalid_input')
    assert.equal(groq.requests.length, 0)
    assert.equal(openrouter.requests.length, 0)
  })

  test('an OpenRouter model whose own id starts with openrouter/ keeps it on the wire', async () => {
    const provider = makeModelProvider()
    await provider.getCompletion(hiState(), agentFor('openrouter/openrouter/auto'), {})
    assert.equal(openrouter.lastRequest().json.model, 'openrouter/auto')
  })

  test('a provider without a base URL is invalid_input naming its env variables, and sends nothing', async () => {
    const provider = makeModelProvider()
    const err = await rejection(provider.getCompletion(hiState(), agentFor('azure/my-deployment'), {}))
    assertSwitchyard(err, 'invalid_input')
    assert.match(err.message, /AZURE_API_BASE/)
    assert.equal(groq.requests.length + openrouter.requests.length, 0)
  })

  test('upstream errors carry the routed provider and the model', async () => {
    const provider = makeModelProvider({ maxRetries: 0 })
    groq.reply({ error: { status: 401, body: errorBody('Invalid API Key', { code: 'invalid_api_key' }) } })
    const err = await rejection(provider.getCompletion(hiState(), agentFor('groq/llama-3.1-70b-versatile'), {}))
    assertSwitchyard(err, 'auth')
    assert.equal(err.status, 401)
    assert.equal(err.provider, 'groq')
    assert.equal(err.model, 'groq/llama-3.1-70b-versatile')
    assert.equal(err.code, 'invalid_api_key')
    assert.ok(!err.message.includes('gsk_env_key'))

    groq.reply({ error: { status: 503 } })
    const streamed = await drain(provider.getCompletionStream(hiState(), agentFor('groq/llama3-70b-8192'), {}))
    assert.equal(streamed.events.length, 0)
    assert.equal(streamed.error?.status, 503, util.inspect(streamed.error))
    assert.equal(streamed.error.provider, 'groq')
    assert.equal(streamed.error.model, 'groq/llama3-70b-8192')
  })

  test('onUsage reports the routed provider', async () => {
    const events = []
    const provider = makeModelProvider({ onUsage: (e) => events.push(e) })
    groq.reply({ json: completion({ content: 'x', usage: { prompt_tokens: 12, completion_tokens: 4 } }) })
    await provider.getCompletion(hiState(), agentFor('groq/llama-3.1-70b-versatile'), {})
    openrouter.reply({ sse: streamChunks({ content: 'a b', usage: { prompt_tokens: 3, completion_tokens: 2 } }) })
    await drain(provider.getCompletionStream(hiState(), agentFor('openrouter/openai/gpt-4o'), {}))
    assert.equal(events.length, 2)
    assert.equal(events[0].provider, 'groq')
    assert.equal(events[0].model, 'groq/llama-3.1-70b-versatile')
    assert.equal(events[0].stream, false)
    assert.equal(events[0].outcome, 'ok')
    assert.deepEqual(events[0].usage, { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 })
    assert.equal(events[0].estimated, false)
    assert.equal(events[1].provider, 'openrouter')
    assert.equal(events[1].stream, true)
    assert.equal(events[1].outcome, 'ok')
    assert.deepEqual(events[1].usage, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 })
  })
})

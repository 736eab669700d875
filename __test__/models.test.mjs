import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { getProviderFromModel } = require('../lib/index.js')

const DETECTION_ENV = ['USE_LITELLM', 'NEXT_PUBLIC_USE_LITELLM', 'LITELLM_URL', 'NEXT_PUBLIC_LITELLM_URL']

function withEnv(vars, fn) {
  const saved = Object.fromEntries(DETECTION_ENV.map((k) => [k, process.env[k]]))
  for (const k of DETECTION_ENV) delete process.env[k]
  Object.assign(process.env, vars)
  try {
    return fn()
  } finally {
    for (const k of DETECTION_ENV) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
  }
}

test('model names map as the agent builder maps them', () => {
  const table = [
    ['gpt-4o', 'openai'],
    ['gpt-3.5-turbo', 'openai'],
    ['claude-3-opus', 'anthropic'],
    ['claude-3-5-sonnet-20241022', 'anthropic'],
    ['gemini-pro', 'google'],
    ['gemini-1.5-flash', 'google'],
    ['anthropic/claude-3-opus', 'litellm'],
    ['gemini/gemini-pro', 'litellm'],
    ['cohere/command-r', 'litellm'],
    ['replicate/mistral-7b', 'litellm'],
    ['together_ai/llama-2-70b', 'litellm'],
    ['azure/gpt-4', 'litellm'],
    ['openrouter/auto', 'litellm'],
    // Prefixes outside the builder's list fall through to the substring rules.
    ['openai/gpt-4o', 'openai'],
    ['huggingface/meta-llama/Llama-2-70b', 'litellm'],
    ['groq/mixtral-8x7b', 'litellm'],
    ['bedrock/anthropic.claude-v2', 'anthropic'],
    ['llama-2-70b', 'litellm'],
    ['mixtral-8x7b', 'litellm'],
    ['mistral-large', 'litellm'],
    ['command-r', 'openai'],
    ['o1-mini', 'openai'],
    ['', 'openai'],
    // Case-sensitive, as in the builder.
    ['GPT-4', 'openai'],
    ['Claude-3', 'openai'],
    ['Llama-3', 'openai'],
    // 'gpt' is checked before 'claude'.
    ['gpt-claude', 'openai'],
    ['my-claude-gemini', 'anthropic'],
  ]
  withEnv({}, () => {
    for (const [model, expected] of table) assert.equal(getProviderFromModel(model), expected, model)
  })
})

test('the environment forces litellm, read at call time', () => {
  for (const vars of [
    { USE_LITELLM: 'true' },
    { NEXT_PUBLIC_USE_LITELLM: 'true' },
    { LITELLM_URL: 'http://proxy:4000' },
    { NEXT_PUBLIC_LITELLM_URL: 'http://proxy:4000' },
  ]) {
    withEnv(vars, () => assert.equal(getProviderFromModel('gpt-4o'), 'litellm', JSON.stringify(vars)))
  }
  for (const vars of [{ USE_LITELLM: 'TRUE' }, { USE_LITELLM: '1' }, { USE_LITELLM: 'false' }, { LITELLM_URL: '' }]) {
    withEnv(vars, () => assert.equal(getProviderFromModel('gpt-4o'), 'openai', JSON.stringify(vars)))
  }
})

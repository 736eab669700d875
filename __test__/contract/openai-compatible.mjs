// Contract fixtures for the OpenAI-compatible family: the same adapter as OpenAI, configured per
// provider (id, base path, model names as people write them), each run through the whole suite.
import { openAiFixture } from './openai.mjs'

export default [
  openAiFixture({ id: 'openrouter', wireModel: 'anthropic/claude-3.5-sonnet', basePath: '/api/v1' }),
  openAiFixture({ id: 'groq', wireModel: 'llama-3.1-70b-versatile', basePath: '/openai/v1' }),
  openAiFixture({ id: 'together_ai', wireModel: 'meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo' }),
  openAiFixture({ id: 'mistral', wireModel: 'mistral-large-latest' }),
  openAiFixture({ id: 'deepseek', wireModel: 'deepseek-chat' }),
  openAiFixture({ id: 'xai', wireModel: 'grok-2-latest' }),
  openAiFixture({ id: 'fireworks_ai', wireModel: 'accounts/fireworks/models/llama-v3p1-70b-instruct', basePath: '/inference/v1' }),
  openAiFixture({ id: 'perplexity', wireModel: 'llama-3.1-sonar-large-128k-online', basePath: '' }),
  openAiFixture({ id: 'huggingface', wireModel: 'meta-llama/Llama-3.1-8B-Instruct' }),
  openAiFixture({ id: 'llamacpp', wireModel: 'qwen2.5-7b-instruct' }),
]

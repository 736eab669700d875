'use strict'

// What each provider can do through Switchyard: the README's capability matrix and getInfo().
// 'yes' = translated natively; 'fallback' = a faithful substitute (the note says which);
// 'no' = refused with an invalid_input error naming the field (the note says why).

const FEATURES = [
  'chat',
  'stream',
  'tools',
  'parallelTools',
  'streamTools',
  'structured',
  'imageUrl',
  'imageBase64',
  'system',
  'stop',
  'temperature',
  'topP',
  'maxTokens',
  'seed',
  'usage',
  'embeddings',
  'models',
]

const yes = (note) => ({ support: 'yes', ...(note && { note }) })
const fallback = (note) => ({ support: 'fallback', note })
const no = (note) => ({ support: 'no', note })

const allYes = (notes = {}) => Object.fromEntries(FEATURES.map((f) => [f, notes[f] ?? yes()]))

/** OpenAI's format forwards every field untouched: the provider's models decide what works. */
const openaiFamily = (overrides = {}) =>
  allYes({ usage: yes('cached and reasoning tokens when the provider reports them'), ...overrides })

const noTools = (why) => ({ tools: no(why), parallelTools: no(why), streamTools: no(why) })

const CAPABILITIES = {
  openai: openaiFamily(),
  azure: openaiFamily({
    models: yes("the resource's deployable base models (deployments are listed by Azure's management API)"),
  }),
  anthropic: allYes({
    structured: fallback('a forced tool (json_tool_call) whose input is the answer, returned as text content'),
    maxTokens: yes('required by Anthropic: 4096 when unset'),
    seed: no('Anthropic has no seed'),
    usage: yes('cache reads as cached_tokens, cache writes in prompt_tokens, thinking as reasoning_tokens'),
    embeddings: no('Anthropic offers no embeddings endpoint'),
    models: yes('with display_name and created_at'),
  }),
  bedrock: allYes({
    parallelTools: yes('parallel_tool_calls: false is refused: Converse cannot turn parallel calls off'),
    structured: fallback('a forced tool (json_tool_call) whose input is the answer, returned as text content'),
    imageUrl: no('Converse takes image bytes only'),
    imageBase64: yes('png, jpeg, gif, webp'),
    seed: no('Converse has no seed'),
    usage: yes('cache reads as cached_tokens; Bedrock reports no reasoning tokens'),
    embeddings: yes('cohere.embed-* in batches; amazon.titan-embed-* one input per request'),
    models: no('ListFoundationModels lives on another host (bedrock.{region}) behind another IAM action'),
  }),
  gemini: allYes({
    parallelTools: yes('parallel_tool_calls: false is refused: Gemini has no switch for it'),
    streamTools: yes('each call arrives whole in one event'),
    structured: yes('responseMimeType application/json + responseSchema (JSON Schema converted to Gemini\'s subset)'),
    imageUrl: yes('https and gs:// URLs as fileData; other schemes are refused'),
    usage: yes('cached (cachedContentTokenCount) and reasoning (thoughtsTokenCount)'),
    embeddings: yes('batchEmbedContents; the reply carries no token counts'),
  }),
  vertex_ai: allYes({
    parallelTools: yes('parallel_tool_calls: false is refused: Gemini has no switch for it'),
    streamTools: yes('each call arrives whole in one event'),
    structured: yes('responseMimeType application/json + responseSchema'),
    imageUrl: yes('https and gs:// URLs whose extension names an image type'),
    usage: yes('cached and reasoning tokens'),
    embeddings: yes(':predict, with usage'),
    models: no('Vertex lists publisher models through Model Garden (v1beta1), a different API'),
  }),
  cohere: allYes({
    tools: yes('a named tool_choice becomes REQUIRED with only that tool offered: Cohere cannot name one'),
    parallelTools: yes('parallel_tool_calls: false is refused: Cohere cannot turn parallel calls off'),
    structured: yes('response_format json_object with json_schema'),
    topP: yes('as p'),
    usage: yes('billed units; Cohere reports no reasoning token count'),
    embeddings: yes('/v2/embed, input_type search_document unless given'),
  }),
  ollama: allYes({
    tools: yes('tool_choice auto or none (none withholds the tools); required or a named function is refused: Ollama cannot force a call'),
    parallelTools: yes('parallel_tool_calls: false is refused: Ollama cannot turn parallel calls off'),
    streamTools: yes('each call arrives whole on one line; servers without tool-call ids get generated call_… ids'),
    structured: yes('format: the JSON schema; json_object as format "json"'),
    imageUrl: no('Ollama takes base64 images only and cannot fetch URLs'),
    imageBase64: yes('message images array'),
    maxTokens: yes('as options.num_predict'),
    usage: yes('prompt_eval_count / eval_count; Ollama reports no cached or reasoning token counts'),
    embeddings: yes('/api/embed'),
    models: yes('/api/tags with size, digest and details; pullModel / deleteModel too'),
  }),
  replicate: allYes({
    ...noTools('Replicate language models have no tool calling'),
    structured: no('no JSON mode or schema input; refused rather than faked in the prompt'),
    imageUrl: no('chat models are text-only; vision models each take their own inputs'),
    imageBase64: no('chat models are text-only; vision models each take their own inputs'),
    stop: yes('comma-joined stop_sequences; a stop containing a comma is refused'),
    seed: yes("input.seed; a model whose schema lacks it answers 422"),
    usage: yes('whole answers only (metrics); streams carry no token counts'),
    embeddings: no('no uniform embeddings API: each model has its own schema'),
    models: yes('first page, with the next-page cursor'),
  }),
  litellm: openaiFamily({ embeddings: no('makeLiteLLMProvider is chat only; use createProvider("openai", { baseURL }) for a proxy\'s /embeddings') }),
  openrouter: openaiFamily({ embeddings: no('OpenRouter offers no embeddings endpoint'), models: yes('with pricing and context length') }),
  groq: openaiFamily({ embeddings: no('Groq offers no embeddings endpoint') }),
  together_ai: openaiFamily(),
  mistral: openaiFamily(),
  deepseek: openaiFamily({
    structured: fallback('DeepSeek has JSON mode only: json_schema is forwarded and DeepSeek answers 400 unless it is json_object'),
    imageUrl: no('DeepSeek chat models take no images'),
    imageBase64: no('DeepSeek chat models take no images'),
    embeddings: no('DeepSeek offers no embeddings endpoint'),
  }),
  xai: openaiFamily({ embeddings: no('xAI offers no public embeddings endpoint') }),
  fireworks_ai: openaiFamily(),
  perplexity: openaiFamily({
    tools: no('Perplexity answers with search results, not tool calls'),
    parallelTools: no('no tool calls'),
    streamTools: no('no tool calls'),
    embeddings: no('Perplexity offers no embeddings endpoint'),
    models: no('Perplexity publishes no /models endpoint'),
  }),
  huggingface: openaiFamily({ embeddings: no('the router\'s OpenAI-compatible API is chat only') }),
  llamacpp: openaiFamily({
    tools: yes('llama-server started with --jinja'),
    embeddings: yes('llama-server started with --embeddings'),
    models: yes('the loaded model; /health and /props too'),
  }),
}

/** `{ feature: { support, note? } }` for a provider id. */
function capabilitiesOf(id) {
  return CAPABILITIES[id] ?? null
}

module.exports = { FEATURES, CAPABILITIES, capabilitiesOf }

// Public typings of `switchyard-llm`. Structural: they match `@xynehq/jaf`'s types without
// importing them, so JAF stays an optional peer and a provider is assignable to JAF's
// `ModelProvider<Ctx>`. The inputs carry index signatures: with only optional members they would
// be weak types, which reject JAF's own values and object literals that share no member.

export { estimateCost } from '../index'
export { toReadableStream, toSSEResponse, type StreamSource, type StreamOptions, type SSEOptions, type StreamUsage } from './web'

/** A tool call as chat completions carries it (JAF's `ToolCall`). */
export interface ToolCall {
  id: string
  type: 'function'
  function: { name: string; arguments: string }
}

export type MessageContentPart =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'image_url'; readonly image_url: { readonly url: string; readonly detail?: 'low' | 'high' | 'auto' } }
  | { readonly type: 'file'; readonly file: { readonly file_id: string; readonly format?: string } }

export interface Attachment {
  readonly kind: 'image' | 'document' | 'file'
  readonly mimeType?: string
  readonly name?: string
  readonly url?: string
  /** Base64 content. */
  readonly data?: string
  readonly format?: string
  readonly useLiteLLMFormat?: boolean
}

/** What Switchyard reads of a JAF `Message`. */
export interface MessageInput {
  readonly role: 'user' | 'assistant' | 'tool'
  readonly content: string | readonly MessageContentPart[]
  readonly attachments?: readonly Attachment[]
  readonly tool_call_id?: string
  readonly tool_calls?: readonly ToolCall[]
}

/** What Switchyard reads of a JAF `RunState` (the rest: runId, context, turnCount, …). */
export interface RunStateInput {
  readonly messages: readonly MessageInput[]
  readonly [field: string]: unknown
}

/** What Switchyard reads of a JAF `Tool`: the name, description and zod parameters. */
export interface ToolInput {
  readonly schema: { readonly name: string; readonly description: string; readonly parameters: unknown }
}

/** What Switchyard reads of a JAF `Agent`. */
export interface AgentInput {
  readonly name: string
  readonly instructions: (state: any) => string
  readonly tools?: readonly ToolInput[]
  /** A zod schema; becomes `response_format`. */
  readonly outputCodec?: unknown
  readonly modelConfig?: {
    readonly name?: string
    readonly temperature?: number
    readonly maxTokens?: number
    readonly reasoning?: { readonly effort?: 'none' | 'low' | 'medium' | 'high' }
    readonly [field: string]: unknown
  }
  /** The rest of a JAF agent: handoffs, guardrails, … */
  readonly [field: string]: unknown
}

/** What Switchyard reads of a JAF `RunConfig`; the rest (agentRegistry, modelProvider, maxTurns, onEvent, …) passes. */
export interface RunConfigInput {
  readonly modelOverride?: string
  /** Aborts this call (an extension: JAF itself has no per-run signal). */
  readonly signal?: AbortSignal
  readonly [field: string]: unknown
}

/** Token usage in the OpenAI spelling JAF's engine reads. */
export interface Usage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  [detail: string]: unknown
}

/** `getCompletion`'s result: `{ ...choices[0], usage, model, id, created }`, as JAF returns it. */
export interface CompletionResult {
  index?: number
  message?: {
    role?: 'assistant'
    content?: string | null
    tool_calls?: ToolCall[]
    refusal?: string | null
    [field: string]: unknown
  }
  finish_reason?: string | null
  logprobs?: unknown
  usage?: Usage
  model?: string
  id?: string
  created?: number
}

/** One streamed piece, shaped like JAF's `CompletionStreamChunk`. */
export interface CompletionStreamChunk {
  readonly delta?: string
  readonly toolCallDelta?: {
    readonly index: number
    readonly id?: string
    readonly type: 'function'
    readonly function?: { readonly name?: string; readonly argumentsDelta?: string }
  }
  readonly isDone?: boolean
  readonly finishReason?: string | null
  /** Usage as the upstream reported it; `null` on the finish chunk when it comes after. */
  readonly usage?: Usage | null
  /** The upstream chunk this piece came from. */
  readonly raw?: any
}

/** A JAF `ModelProvider`, assignable to `@xynehq/jaf`'s `ModelProvider<Ctx>`. */
export interface SwitchyardModelProvider<Ctx = unknown> {
  getCompletion: (state: RunStateInput, agent: AgentInput, config: RunConfigInput) => Promise<CompletionResult>
  getCompletionStream: (
    state: RunStateInput,
    agent: AgentInput,
    config: RunConfigInput,
  ) => AsyncGenerator<CompletionStreamChunk, void, unknown>
  /** Never set: only carries `Ctx` so inference matches JAF's generic. */
  readonly __context?: Ctx
}

/** JAF's proxy settings. Unset fields fall back to HTTP_PROXY / HTTPS_PROXY / NO_PROXY. */
export interface ProxyConfig {
  httpProxy?: string
  httpsProxy?: string
  noProxy?: string
}

/** Reported once per call on every exit path: success, error and abort. */
export interface UsageReport {
  provider: string
  model: string
  stream: boolean
  outcome: 'ok' | 'error' | 'aborted'
  usage: {
    prompt_tokens: number
    completion_tokens: number
    total_tokens: number
    /** Present when some prompt tokens came from the provider's cache (billed at the cached price). */
    prompt_tokens_details?: { cached_tokens: number }
    /** Present when some completion tokens were spent reasoning. */
    completion_tokens_details?: { reasoning_tokens: number }
  }
  /** True when the upstream never reported usage and the counts are estimated (≈4 chars a token). */
  estimated: boolean
  /** USD at list price (cached and reasoning tokens at their own rates), or `null` for models without a known price. */
  cost: number | null
  durationMs: number
  /** What a stream delivered before it ended. */
  delivered?: StreamProgress
  error?: SwitchyardError
}

export interface StreamProgress {
  /** Upstream chunks processed. */
  chunks: number
  contentChars: number
  toolCallDeltas: number
  finishReason: string | null
}

/** Switchyard's own options: a fifth argument JAF's provider does not have. */
export interface SwitchyardOptions {
  /** Per attempt: a whole call, or a stream's wait for headers and for each chunk. @default 600000 */
  timeoutMs?: number
  /** @default 10000 */
  connectTimeoutMs?: number
  /** Retries on 408, 409, 429, 5xx and connection errors, as the `openai` SDK does. @default 2 */
  maxRetries?: number
  /** Aborts every call of this provider; per call, pass `signal` in the run config. */
  signal?: AbortSignal
  onUsage?: (report: UsageReport) => void
  /** USD per million tokens, overriding the built-in list prices. */
  pricing?: Record<string, Price>
}

/** USD per million tokens. */
export interface Price {
  input: number
  output: number
  /** Cached prompt tokens; billed as input when absent. */
  cachedInput?: number
  /** Reasoning tokens (part of the completion); billed as output when absent. */
  reasoning?: number
}

/**
 * A drop-in for `@xynehq/jaf`'s `makeLiteLLMProvider`. `baseURL` defaults to LITELLM_URL,
 * NEXT_PUBLIC_LITELLM_URL, then http://localhost:4000; `apiKey` to LITELLM_API_KEY, then 'anything'.
 * `defaultHeaders` are sent on every request and override the Authorization header; `null` removes one.
 */
export declare function makeLiteLLMProvider<Ctx = unknown>(
  baseURL?: string,
  apiKey?: string,
  proxyConfig?: ProxyConfig,
  defaultHeaders?: Record<string, string | null>,
  options?: SwitchyardOptions,
): SwitchyardModelProvider<Ctx>

/** The JAF agent builder's provider detection, reading the environment at call time. */
export declare function getProviderFromModel(model: string): 'openai' | 'anthropic' | 'google' | 'litellm'

export type ErrorKind =
  | 'rate_limited'
  | 'auth'
  | 'invalid_request'
  | 'not_found'
  | 'upstream_error'
  | 'timeout'
  | 'network'
  | 'bad_response'
  | 'aborted'
  | 'invalid_input'
  | 'internal'
  | 'context_length_exceeded'
  | 'content_filter'
  | 'overloaded'
  | 'policy'
  | 'budget_exceeded'

export declare const ERROR_KINDS: readonly ErrorKind[]

/**
 * Every failure. Upstream HTTP errors keep the `openai` SDK's fields and message format.
 */
export declare class SwitchyardError extends Error {
  readonly kind: ErrorKind
  /** Whether the same call may succeed if tried again. */
  readonly retryable: boolean
  /** The upstream's HTTP status, when there was one. */
  readonly status?: number
  /** Upstream response headers, lower-case names. */
  readonly headers?: Record<string, string>
  /** The body's `error` object, as the `openai` SDK exposes it. */
  readonly error?: any
  readonly code?: string | null
  readonly type?: string
  readonly param?: string | null
  readonly request_id?: string
  /** The whole upstream body: parsed JSON, or the text (an HTML error page, say). */
  readonly body?: unknown
  /** Seconds the upstream asked us to wait. */
  readonly retryAfter?: number
  readonly provider?: string
  readonly model?: string
  /** For stream errors: what was delivered before it. */
  readonly delivered?: StreamProgress
  /** For stream errors: usage, when the upstream reported it before failing. */
  readonly usage?: Usage
  /** For `invalid_input` errors whose message is JAF's own: where the bad value was. */
  readonly path?: string
  /** For `policy` and `budget_exceeded`: the governance rule that refused the call (`governance.tags.free.deny`). */
  readonly rule?: string
  /** What a user callback (or getter) threw, when that is why the call failed. */
  readonly cause?: unknown
}

/** Converts a zod (3, or 4 for tool parameters) schema to the JSON Schema sent upstream. */
export declare function zodToJsonSchema(schema: unknown, label?: string): Record<string, unknown>

// ---- direct provider access -------------------------------------------------------------------

/** A provider id: LiteLLM's prefix. */
export type ProviderId =
  | 'openai'
  | 'azure'
  | 'anthropic'
  | 'gemini'
  | 'vertex_ai'
  | 'bedrock'
  | 'ollama'
  | 'llamacpp'
  | 'openrouter'
  | 'groq'
  | 'together_ai'
  | 'cohere'
  | 'replicate'
  | 'huggingface'
  | 'mistral'
  | 'deepseek'
  | 'xai'
  | 'fireworks_ai'
  | 'perplexity'

/** How to reach one provider; anything unset comes from the provider's usual environment variables. */
export interface ProviderSettings {
  apiKey?: string
  /** Overrides the provider's base URL (also `<PROVIDER>_API_BASE`). */
  baseURL?: string
  /** Sent on every request; `null` removes a header. */
  headers?: Record<string, string | null>
  /** Azure's `api-version`. */
  apiVersion?: string
  /** Bedrock's region; Vertex AI's location. */
  region?: string
  /** Vertex AI's project. */
  project?: string
  /**
   * Vertex AI: a service-account key (`type: 'service_account'`), as the parsed JSON object, its
   * JSON text, or a path to the JSON file. Traded for OAuth access tokens that are refreshed
   * before they expire; its `project_id` is the default project. Without it (and without `apiKey`
   * or VERTEXAI_ACCESS_TOKEN), VERTEXAI_CREDENTIALS / VERTEX_CREDENTIALS (JSON or a path) and then
   * GOOGLE_APPLICATION_CREDENTIALS (a path) are read.
   */
  credentials?: string | object
  awsAccessKeyId?: string
  awsSecretAccessKey?: string
  awsSessionToken?: string
  /** OpenRouter's app ranking headers (`X-Title`, `HTTP-Referer`). */
  appName?: string
  appUrl?: string
}

/** Transport options shared by every provider a factory creates. */
export interface TransportOptions {
  timeoutMs?: number
  connectTimeoutMs?: number
  maxRetries?: number
  proxyConfig?: ProxyConfig
}

export interface ModelProviderOptions extends TransportOptions {
  /** Per-provider credentials and endpoints, keyed by provider id. */
  providers?: Partial<Record<ProviderId, ProviderSettings>>
  signal?: AbortSignal
  onUsage?: (report: UsageReport) => void
  pricing?: Record<string, Price>
}

/**
 * A JAF `ModelProvider` that routes each call by `agent.modelConfig.name` (or `modelOverride`) to
 * the provider's own API: `anthropic/claude-3-5-sonnet-20241022`, `gpt-4o`, `ollama/llama3.1`, …
 */
export declare function makeModelProvider<Ctx = unknown>(options?: ModelProviderOptions): SwitchyardModelProvider<Ctx>

/** Where a model name leads. */
export interface ResolvedModel {
  provider: ProviderId
  /** The model id as the provider expects it. */
  model: string
  /** From the environment or the provider's default; `null` when neither gives one. */
  baseURL: string | null
  hasApiKey: boolean
  apiKeyEnv: string[]
  baseURLEnv: string[]
}

/** Route a LiteLLM-style model name, reading the environment now. */
export declare function resolveModel(model: string): ResolvedModel

export interface ProviderProfile {
  id: ProviderId
  adapter: 'openai' | 'azure' | 'anthropic' | 'gemini' | 'bedrock' | 'ollama' | 'cohere' | 'replicate'
  defaultBaseUrl?: string
  apiKeyEnv: string[]
  baseUrlEnv: string[]
}

export declare function listProviders(): ProviderProfile[]

/** An OpenAI chat-completions request. */
export interface ChatRequest {
  model: string
  messages: Array<Record<string, unknown>>
  [field: string]: unknown
}

export interface ExecuteOptions {
  systemPrompt?: string
  /** Loose parameter names are normalised: temp, nucleus_sampling, max_length, ctx_size, … */
  parameters?: Record<string, unknown>
  signal?: AbortSignal
}

export interface ExecuteResult {
  text: string
  finishReason: string | null
  usage?: Usage
  /** The whole OpenAI-shaped completion. */
  raw: any
}

export interface ModelInfo {
  id: string
  [field: string]: unknown
}

export type Support = { support: 'yes' | 'fallback' | 'no'; note?: string }
export type Feature =
  | 'chat'
  | 'stream'
  | 'tools'
  | 'parallelTools'
  | 'streamTools'
  | 'structured'
  | 'imageUrl'
  | 'imageBase64'
  | 'system'
  | 'stop'
  | 'temperature'
  | 'topP'
  | 'maxTokens'
  | 'seed'
  | 'usage'
  | 'embeddings'
  | 'models'
export type Capabilities = Record<Feature, Support>

export interface ProviderInfo {
  id: ProviderId
  adapter: ProviderProfile['adapter']
  baseURL: string | null
  capabilities: Capabilities | null
}

/** One provider, OpenAI-shaped in and out. */
export interface DirectProvider {
  readonly id: ProviderId
  chat(request: ChatRequest, opts?: { signal?: AbortSignal }): Promise<any>
  /** OpenAI `chat.completion.chunk`s as they arrive. */
  stream(request: ChatRequest, opts?: { signal?: AbortSignal }): AsyncGenerator<any, void, unknown>
  execute(model: string, prompt: string, opts?: ExecuteOptions): Promise<ExecuteResult>
  streamExecute(model: string, prompt: string, opts?: ExecuteOptions): AsyncGenerator<string, void, unknown>
  embed(request: { model: string; input: string | string[] }, opts?: { signal?: AbortSignal }): Promise<{ data: Array<{ embedding: number[]; index: number }>; usage?: unknown; [field: string]: unknown }>
  listModels(): Promise<ModelInfo[]>
  searchModels(query?: { query?: string; provider?: string }): Promise<ModelInfo[]>
  validateConfig(): Promise<{ valid: boolean; error?: SwitchyardError }>
  getInfo(): ProviderInfo
  /** Any other JSON endpoint under the base URL, with the same credentials, retries and errors. */
  request(method: string, path: string, payload?: unknown): Promise<any>
  requestStream(method: string, path: string, payload?: unknown, framing?: 'ndjson' | 'sse'): AsyncGenerator<any, void, unknown>
  /** OpenRouter only. */
  getCredits?(): Promise<{ credits: number; totalCredits: number; totalUsage: number }>
  /** llama.cpp only: llama-server's /health and /props. */
  health?(): Promise<any>
  props?(): Promise<any>
  /** Ollama only. */
  pullModel?(model: string): AsyncGenerator<any, void, unknown>
  deleteModel?(model: string): Promise<any>
}

/** A provider by name or alias (`'gpt'`, `'claude'`, `'llama.cpp'`, …). */
export declare function createProvider(name: string, settings?: ProviderSettings, options?: TransportOptions): DirectProvider

/** Several providers, dispatching by model name. */
export declare class ProviderManager {
  constructor(options?: TransportOptions)
  addProvider(name: string, settings?: ProviderSettings): DirectProvider
  getProvider(name: string): DirectProvider
  /** The provider serving `model`: added, or created from the environment. */
  route(model: string): DirectProvider
  execute(name: string, model: string, prompt: string, opts?: ExecuteOptions): Promise<ExecuteResult>
  autoExecute(model: string, prompt: string, opts?: ExecuteOptions): Promise<ExecuteResult>
  autoStream(model: string, prompt: string, opts?: ExecuteOptions): AsyncGenerator<string, void, unknown>
  chat(request: ChatRequest, opts?: { signal?: AbortSignal }): Promise<any>
  listAllModels(): Promise<Record<string, ModelInfo[] | { error: SwitchyardError }>>
  getAllInfo(): Record<string, ProviderInfo>
}

/** `{ temp, nucleus_sampling, max_length, ctx_size }` → `{ temperature, top_p, max_tokens, num_ctx }`. */
export declare function normalizeParameters(parameters?: Record<string, unknown>, provider?: string): Record<string, unknown>

export declare const FEATURES: readonly Feature[]
export declare const CAPABILITIES: Record<string, Capabilities>

// ---- the router --------------------------------------------------------------------------------

/** LiteLLM's proxy config: `model_list`, `router_settings`, `litellm_settings` (see the README). */
export interface RouterConfig {
  model_list: Array<{
    model_name: string
    litellm_params: { model: string; [param: string]: unknown }
    model_info?: { id?: string; [field: string]: unknown }
  }>
  router_settings?: Record<string, unknown>
  litellm_settings?: Record<string, unknown>
  /** Task type → model group (seed 004's `[llm.routing]`). */
  task_routing?: Record<string, string>
  /** Model rules, data residency and budgets, enforced before the call (see the README). */
  governance?: GovernanceConfig
  [section: string]: unknown
}

/** A governance rule: model groups allowed and denied (`*` wildcards), and budgets in USD. */
export interface GovernanceRule {
  allow?: string[]
  deny?: string[]
  max_cost_per_day?: number
  max_cost?: number
}

export interface GovernanceConfig {
  /** For calls whose key has no entry in `keys` (its budgets count per key), and calls without a key. */
  default?: GovernanceRule
  /** Per app-level key, as written or as `sha256:<hex>`. */
  keys?: Record<string, GovernanceRule>
  tags?: Record<string, GovernanceRule>
  /** Tag → the only deployments (by `model_info.id`) or providers its calls may reach. */
  residency?: Record<string, { deployments?: string[]; providers?: string[] }>
  max_cost_per_run?: number
  max_cost_per_day?: number
  /** Output tokens the estimate assumes when a request sets no `max_tokens` (default 4096). */
  default_max_tokens?: number
}

/** Who a routed call is for, as governance sees it. */
export interface RouterIdentity {
  /** An app-level caller id (never a provider credential); hashed in the core, never echoed. */
  key?: string
  tags?: string[]
  /** The run the call belongs to, for `max_cost_per_run`; JAF calls default to `state.runId`. */
  runId?: string
}

export interface RouterCallOptions extends RouterIdentity {
  signal?: AbortSignal
}

/** What the router did for a call; delivered to `onEvent`, and on a failed call's error as `events`. */
/** Every event carries `atMs`: when it happened, in ms since the Unix epoch (µs precision). */
export type RouterEvent = { atMs: number } & (
  | { type: 'request'; group: string; deployment: string; provider: string; model: string; attempt: number }
  | { type: 'retry'; group: string; deployment: string; attempt: number; errorKind: ErrorKind; delayMs: number }
  | { type: 'fallback'; from: string; to: string; errorKind: ErrorKind }
  | { type: 'cooldown'; group: string; deployment: string; untilMs: number; errorKind: ErrorKind }
  | { type: 'hedge'; group: string; deployment: string; hedge: string; afterMs: number }
  | { type: 'cache_hit'; group: string }
  | { type: 'rate_limited'; group: string; retryAfterMs: number | null }
  /** Redis did not answer in time: the call used this process's state alone. */
  | { type: 'state_unavailable'; backend: 'redis' }
  | { type: 'policy'; decision: 'allowed' | 'denied'; rule: string; group: string; deployment?: string }
  | { type: 'budget'; budget: string; spentUsd: number; limitUsd: number; estimateUsd: number; decision: 'allowed' | 'denied' }
)

export interface RouterOptions extends RouterIdentity {
  onEvent?: (event: RouterEvent) => void
  /** Priced at the deployment that served the call; `deployment` names it. */
  onUsage?: (report: UsageReport & { deployment?: string }) => void
  signal?: AbortSignal
  /** Overrides `router_settings.deadline` for every call. */
  deadlineMs?: number
  connectTimeoutMs?: number
  proxyConfig?: ProxyConfig
}

export interface UsageStats {
  calls: number
  errors: number
  input_tokens: number
  output_tokens: number
  cached_tokens: number
  reasoning_tokens: number
  total_tokens: number
  cost_usd: number
  latency_ms: { p50: number; p95: number; p99: number } | null
  ttft_ms: { p50: number; p95: number; p99: number } | null
}

/** Seed 002's `model_stats`, per group and per deployment. */
/** Calls, errors, tokens and cost of every process sharing the router's Redis (refreshed each second). */
export type SharedUsageStats = Omit<UsageStats, 'latency_ms' | 'ttft_ms'>

export interface RouterStats {
  model_stats: Record<
    string,
    UsageStats & {
      /** With Redis: every process's figures together. */
      shared?: SharedUsageStats
      deployments: Record<string, UsageStats & { provider: string; model: string; cooling_until_ms: number | null; shared?: SharedUsageStats }>
    }
  >
}

/** A request to the router: `model` names a group or task type; LiteLLM's `cache` controls are read here. */
export interface RouterRequest extends ChatRequest {
  cache?: { 'no-cache'?: boolean; 'no-store'?: boolean }
}

/** LiteLLM's Router in process; itself a JAF `ModelProvider`. */
export interface Router<Ctx = unknown> extends SwitchyardModelProvider<Ctx> {
  complete(request: RouterRequest, opts?: RouterCallOptions): Promise<any>
  stream(request: RouterRequest, opts?: RouterCallOptions): AsyncGenerator<any, void, unknown>
  embed(request: { model: string; input: string | string[]; [field: string]: unknown }, opts?: RouterCallOptions): Promise<any>
  /** This router for one caller's calls (fields given replace the router's), sharing its state and budgets. */
  withIdentity(identity: RouterIdentity): Router<Ctx>
  stats(): RouterStats
  /** Config keys the router does not act on. */
  readonly warnings: string[]
  /** Refuse further calls. */
  close(): void
}

/** A router from a LiteLLM-shaped config object, or a `.yaml` / `.toml` / `.json` file path. */
export declare function makeRouter<Ctx = unknown>(configOrPath: RouterConfig | string, options?: RouterOptions): Router<Ctx>

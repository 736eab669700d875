// Typings for `switchyard-llm/testing`: a real loopback mock of an OpenAI-compatible upstream.

/** One request the mock received, recorded once its body has been read. */
export interface RecordedRequest {
  method: string
  /** The request target as sent, including any query string (e.g. `/v1/chat/completions`). */
  path: string
  /** Header names are lower-case; repeated headers are joined with `, `. */
  headers: Record<string, string>
  /** The raw body decoded as UTF-8 (`''` when there is none). */
  body: string
  /** The body parsed as JSON, or `undefined` when it is empty or not JSON. */
  json: any
  /** `Date.now()` when the request arrived. */
  receivedAt: number
  /** Whether the connection closed before the response was complete (a client abort, say). */
  disconnected: boolean
}

/**
 * One assistant turn, answered in the form the request asks for: SSE chunks (with usage when
 * `stream_options.include_usage`) for `stream: true`, a JSON completion otherwise. What to queue
 * for agents: JAF streams whenever the provider can.
 */
export interface TurnReply {
  turn: {
    content?: string | string[] | null
    toolCalls?: ToolCallInput[]
    usage?: UsageInput
    finishReason?: string
    /** Defaults to the request's model. */
    model?: string
  }
  headers?: Record<string, string>
  delayMs?: number
  /** Between SSE events, for a stream request. */
  chunkDelayMs?: number
}

/**
 * Answer with a JSON body (`content-type: application/json`). A chat request with `stream: true`
 * answered this way is an error (see `assertDone`): queue a `TurnReply` instead.
 */
export interface JsonReply {
  json: unknown
  /** Defaults to 200. */
  status?: number
  headers?: Record<string, string>
  /** Wait this long before answering. */
  delayMs?: number
}

/** Answer with a server-sent event stream (`content-type: text/event-stream`). */
export interface SseReply {
  /**
   * Events in order, each sent as its own write. Objects are sent as `data: ${JSON.stringify(obj)}\n\n`;
   * strings are written verbatim (comments, garbage lines, CRLF, multi-line data, partial events...).
   */
  sse: Array<object | string>
  /** Append `data: [DONE]\n\n` after the events. Defaults to `true`. */
  done?: boolean
  /** Defaults to 200. */
  status?: number
  headers?: Record<string, string>
  /** Wait this long before sending the headers. */
  delayMs?: number
  /** Wait this long between events. */
  chunkDelayMs?: number
  /**
   * Destroy the socket after this many events (the `[DONE]` line counts as one), without ending
   * the chunked body: a mid-stream disconnect. `0` sends only the headers.
   */
  disconnectAfter?: number
}

/** Answer with an HTTP error. */
export interface ErrorReply {
  error: {
    status: number
    /**
     * Objects are sent as JSON; strings are sent as-is (e.g. an HTML error page from a proxy).
     * Defaults to an OpenAI-style error body for the status.
     */
    body?: unknown
    headers?: Record<string, string>
    /**
     * Defaults to `application/json` for object bodies, and to `text/html; charset=utf-8` or
     * `text/plain; charset=utf-8` for string bodies (HTML when the body starts with `<`).
     */
    contentType?: string
  }
  delayMs?: number
}

/** Answer with exact bytes, each array entry written separately (no default content-type). */
export interface RawReply {
  raw: string | Buffer | Array<string | Buffer>
  /** Defaults to 200. */
  status?: number
  /** Set `content-length` here to send a fixed-length (rather than chunked) body. */
  headers?: Record<string, string>
  delayMs?: number
  /** Wait this long between writes. */
  chunkDelayMs?: number
}

/** Accept the request and never answer (for timeout and abort tests). `close()` still ends it. */
export interface HangReply {
  hang: true
}

/** Destroy the connection without any response (a connection reset). */
export interface DestroyReply {
  destroy: true
}

export type MockReply = TurnReply | JsonReply | SseReply | ErrorReply | RawReply | HangReply | DestroyReply

export interface MockUpstreamOptions {
  /**
   * Answers requests when the reply queue is empty. Returning `undefined` falls back to the default
   * reply; throwing answers 500 with an OpenAI-style error body.
   */
  handler?: (req: RecordedRequest) => MockReply | undefined | Promise<MockReply | undefined>
  /** Port to listen on (127.0.0.1). Defaults to 0: an ephemeral port. */
  port?: number
}

export interface MockUpstream {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** Same as `url`: OpenAI-compatible clients POST `${baseURL}/chat/completions`. */
  readonly baseURL: string
  /** Every request received, in order. */
  readonly requests: RecordedRequest[]
  /** Enqueue replies; they are consumed first-in first-out, one per request. */
  reply(...replies: MockReply[]): this
  lastRequest(): RecordedRequest | undefined
  /** Clear the reply queue, the recorded requests and what `assertDone` checks. */
  reset(): void
  /**
   * Rejects (a `SwitchyardError`, kind `invalid_input`) unless every queued reply was used, every
   * request had a scripted reply (queued or from the handler) and was answered (waiting up to
   * `timeoutMs`, default 1000, for responses still being written), and no reply was
   * in the wrong form (`{ json }` for a streamed chat request, `{ sse }` for a plain one). After a
   * reply in the wrong form the mock answers every request with a 400 saying so.
   */
  assertDone(options?: { timeoutMs?: number }): Promise<void>
  /** Close the server and destroy every open socket (keep-alive and hanging ones included). */
  close(): Promise<void>
}

/**
 * Start a mock upstream. With an empty queue and no handler it answers POST `/chat/completions`
 * and `/v1/chat/completions` with `completion({ content: 'ok' })` (or, when the request has
 * `stream: true`, the matching `streamChunks` as SSE), and anything else with an OpenAI-style 404.
 */
export function startMockUpstream(options?: MockUpstreamOptions): Promise<MockUpstream>

export interface ToolCallInput {
  /** Defaults to a generated `call_...` id. */
  id?: string
  name: string
  /** Objects are JSON-encoded. */
  arguments: string | object
}

export interface UsageInput {
  prompt_tokens?: number
  completion_tokens?: number
  total_tokens?: number
  [extra: string]: unknown
}

export interface CompletionOptions {
  /** Defaults to `null` when there are tool calls, else `''`. */
  content?: string | null
  toolCalls?: ToolCallInput[]
  /** Defaults to `'tool_calls'` when there are tool calls, else `'stop'`. */
  finishReason?: string
  /** Missing counts are estimated; `total_tokens` defaults to the sum. */
  usage?: UsageInput
  /** Defaults to `'gpt-4o-mini'`. */
  model?: string
}

export interface Usage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  [extra: string]: unknown
}

export interface ChatCompletionToolCall {
  id: string
  type: 'function'
  function: { name: string; arguments: string }
}

export interface ChatCompletion {
  id: string
  object: 'chat.completion'
  created: number
  model: string
  choices: Array<{
    index: number
    message: {
      role: 'assistant'
      content: string | null
      tool_calls?: ChatCompletionToolCall[]
      refusal: null
    }
    logprobs: null
    finish_reason: string
  }>
  usage: Usage
}

export interface ChatCompletionChunkToolCall {
  index: number
  id?: string
  type?: 'function'
  function?: { name?: string; arguments?: string }
}

export interface ChatCompletionChunk {
  id: string
  object: 'chat.completion.chunk'
  created: number
  model: string
  choices: Array<{
    index: number
    delta: {
      role?: 'assistant'
      content?: string | null
      refusal?: null
      tool_calls?: ChatCompletionChunkToolCall[]
    }
    logprobs: null
    finish_reason: string | null
  }>
  /** `null` on every chunk but the last when usage is included; absent otherwise. */
  usage?: Usage | null
}

/** A non-streaming chat completion in OpenAI's wire format. */
export function completion(options?: CompletionOptions): ChatCompletion

export interface StreamChunksOptions extends Omit<CompletionOptions, 'content'> {
  /** A string is split into word-sized tokens; an array is used token by token. */
  content?: string | string[]
  /** End with a `choices: []` chunk carrying `usage`, as with `stream_options.include_usage`. Defaults to `true`. */
  includeUsage?: boolean
}

/** The chunks of a streamed chat completion in OpenAI's wire format (pass them to an `sse` reply). */
export function streamChunks(options?: StreamChunksOptions): ChatCompletionChunk[]

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null }
}

/** An OpenAI-format error body. `type` defaults to `'invalid_request_error'`; `param` and `code` to `null`. */
export function errorBody(
  message: string,
  options?: { type?: string; code?: string | null; param?: string | null },
): OpenAIErrorBody

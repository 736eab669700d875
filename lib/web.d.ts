// Typings of switchyard-llm's Web-standard streaming helpers for route handlers.

/** A stream to serve: the stream itself, or a function that opens it under the client's signal. */
export type StreamSource<T> = AsyncIterable<T> | ((signal: AbortSignal) => AsyncIterable<T> | Promise<AsyncIterable<T>>)

export interface StreamOptions<T, U> {
  /** The request's signal (`request.signal`): a client disconnect aborts the upstream request. */
  signal?: AbortSignal
  /** What each item becomes; `undefined` skips the item. */
  map?: (item: T) => U | undefined
}

export interface SSEOptions<T, U> extends StreamOptions<T, U> {
  /** A `: heartbeat` comment after this long without an item. @default 15000 */
  heartbeatMs?: number
  /** Extra response headers. */
  headers?: Record<string, string>
}

/** Summed over every usage the stream reported (chunk `usage`, JAF `token_usage` events). */
export interface StreamUsage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
}

/**
 * A Web `ReadableStream` of the source's items. Pull-based: nothing is read ahead of the reader.
 * Cancelling it, or `signal` aborting, aborts the signal handed to a function source and closes
 * the source (a Switchyard stream then aborts its upstream request).
 */
export declare function toReadableStream<T, U = T>(source: StreamSource<T>, options?: StreamOptions<T, U>): ReadableStream<U>

/**
 * A `text/event-stream` Response: `data: <json>` per item, `: heartbeat` comments while the source
 * is quiet, then `event: done` with `{ usage }` (or `event: error` with `{ kind, message, status? }`).
 * Throws in the Edge runtime: set `export const runtime = 'nodejs'` on the route.
 */
export declare function toSSEResponse<T, U = T>(source: StreamSource<T>, options?: SSEOptions<T, U>): Response

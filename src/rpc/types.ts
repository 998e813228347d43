/**
 * The public shapes of the rpc layer: options of a call, a handler's context, a handler.
 */
import type { SubscriptionPolicy } from './subscribe-request.ts'

/** Per-call options for request(). */
export interface RequestOptions {
  /**
   * Deadline in ms from now. Default 30,000 for a call whose body and response are values; a
   * call with a streamed body, or once a streamed response has started, has no default deadline
   * (liveness catches a dead peer), but an explicit timeout still applies to the whole call.
   */
  timeout?: number
  /** Cancels the call: it rejects with CANCELLED and the handler's ctx.signal aborts. */
  signal?: AbortSignal
  /** Opaque trace context (≤ 512 bytes), passed to the handler as ctx.trace. */
  trace?: Uint8Array
  /**
   * Safe to run twice: a link resends it after a connection loss until it is answered or its
   * deadline passes, and the receiver dedupes repeats (docs/delivery.md). Default false.
   */
  idempotent?: boolean
  /** Tried once: fails at once with NOT_CONNECTED when the link has no connection up. Default false. */
  oneShot?: boolean
  /**
   * Delivered one after another in send order with the link's other ordered messages, across
   * reconnects and pool connections; if one fails, those queued behind it fail with ORDER_BROKEN.
   */
  ordered?: boolean
}

/** @internal what one attempt of a message carries besides its body (a link's delivery is one). */
export interface AttemptOptions {
  readonly signal?: AbortSignal | undefined
  readonly trace?: Uint8Array | undefined
  readonly idempotent?: boolean | undefined
}

/** Per-message options for send() and publish(). */
export interface SendOptions {
  /** Cancels a message not yet fully written: it rejects with CANCELLED. */
  signal?: AbortSignal
  /** Resent after a connection loss even if partly written; the receiver dedupes (send() only). */
  idempotent?: boolean
  /** Fails at once with NOT_CONNECTED when the link has no connection up. */
  oneShot?: boolean
  /** Written one after another in send order with the link's other ordered messages. */
  ordered?: boolean
}

/**
 * The other side of the connection a call arrived on, as a handler sees it: a server can call
 * back, notify or publish to the very client that called it, on the connection the client
 * opened (the server needs no address of its own to reach the client).
 */
export interface Peer {
  request<T = unknown>(method: string, data?: unknown, options?: RequestOptions): Promise<T>
  send(method: string, data?: unknown, options?: SendOptions): Promise<void>
  publish(topic: string, data?: unknown, options?: SendOptions): Promise<void>
}

/** What a handler receives besides the request's value. */
export interface HandlerContext {
  /** The method called. */
  readonly method: string
  /** Who called: request, send or publish back to it on the same connection. */
  readonly peer: Peer
  /** Aborts when the caller cancels, the deadline passes, or the connection is lost. */
  readonly signal: AbortSignal
  /** The caller's deadline as a Date.now() timestamp, or undefined when it set none. */
  readonly deadline: number | undefined
  /** The request body when it was sent as a stream (`data` is then undefined). */
  readonly body: AsyncIterable<Uint8Array> | undefined
  /** The caller's message id (stable across resends of the same message). */
  readonly messageId: number
  /** Trace context the caller attached, if any. */
  readonly trace: Uint8Array | undefined
}

/**
 * A method handler. Return a value (sent with the negotiated codec), a Uint8Array (sent as raw
 * bytes), or a byte stream (AsyncIterable<Uint8Array>, Node Readable, web ReadableStream) for a
 * streamed response. Throw to fail the call: a SwitchboardError keeps its code; an Error with a
 * string `code` reaches the caller as APP_ERROR with details.remoteCode set to it.
 */
export type Handler<In = unknown, Out = unknown> = (data: In, ctx: HandlerContext) => Out | Promise<Out>

/** How a subscription takes events, and what a publisher does when it cannot keep up. */
export interface SubscribeOptions {
  /**
   * Events the publisher may send ahead of what this subscription has taken (its window, and
   * the bound of its local queue). Default 1,024.
   */
  maxQueued?: number
  /**
   * What the publisher does when this subscriber's queue there is full (docs/discovery.md):
   * 'block' (default) makes publish() wait up to its publishTimeout, then ends this subscription
   * with PUBLISH_TIMEOUT; 'drop-oldest' and 'drop-newest' drop events (counted in
   * `subscription.dropped`); 'disconnect' ends this subscription with SLOW_CONSUMER.
   */
  policy?: SubscriptionPolicy
  /** Events go to this callback instead of the iterator (the same as subscribe(topic, onEvent)). */
  onEvent?: (value: never) => void
  /** @deprecated the older name of the two dropping policies; use `policy`. */
  overflow?: 'drop-oldest' | 'drop-newest'
}

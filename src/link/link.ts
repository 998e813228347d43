/**
 * What connect() and pair() return: a handle on a destination that outlives any one connection.
 * Now one connection and no reconnect; pools and reconnect arrive behind this same object.
 *
 *   connecting ──hello done──▶ ready ──close()/abort()/lost──▶ closed
 *        └──────────── dial or hello failed ─────────────────────┘
 *
 * Calls made while connecting wait in a bounded queue (maxQueuedBytes), each under its own deadline.
 */
import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import { SwitchboardError, sbError } from '../errors.ts'
import { DeadlineSweep, type Expirable } from '../internal/deadline-sweep.ts'
import type { ConnectionStats, RpcConnection } from '../rpc/connection.ts'
import { Subscription } from '../rpc/subscription.ts'
import type { Handler, RequestOptions, SendOptions, SubscribeOptions } from '../rpc/types.ts'
import { defaultMaxQueuedBytes } from './options.ts'

export type LinkState = 'connecting' | 'ready' | 'reconnecting' | 'closed'

const transitions: Record<LinkState, readonly LinkState[]> = {
  connecting: ['ready', 'closed'],
  ready: ['reconnecting', 'closed'],
  reconnecting: ['ready', 'closed'],
  closed: [],
}

interface Waiting extends Expirable {
  bytes: number
  run(conn: RpcConnection): void
  fail(err: SwitchboardError): void
}

export interface LinkStats extends Partial<Omit<ConnectionStats, 'state'>> {
  state: LinkState
  /** State of the current connection's session, when there is one. */
  sessionState?: ConnectionStats['state'] | undefined
  /** Calls waiting for a connection. */
  queuedCalls: number
  queuedBytes: number
}

/** A link's lifecycle events (remote events are subscribe()'s, so they never collide with these). */
export interface LinkEvents {
  /** The state changed. */
  state: [from: LinkState, to: LinkState]
  /** The first hello exchange is done (state 'ready'). */
  ready: []
  /** The link closed: `err` says why, undefined after close(). */
  close: [err: SwitchboardError | undefined]
  /** A session or handler error nobody awaits (emitted only while someone listens). */
  error: [err: SwitchboardError]
  /** A send() or publish() failed (`name` is its method or topic); also its promise's rejection. */
  sendFailed: [err: SwitchboardError, name: string]
}

export class Link extends EventEmitter<LinkEvents> {
  state: LinkState = 'connecting'
  readonly address: string
  /** Handlers for calls the peer makes on this link. */
  readonly handlers = new Map<string, Handler>()
  private conn: RpcConnection | undefined
  private readonly waiting = new Set<Waiting>()
  private waitingBytes = 0
  private readonly maxQueuedBytes: number
  private readonly sweep = new DeadlineSweep()
  private readonly subscriptions: {
    topic: string
    sub: Subscription
    options: SubscribeOptions
    attach(c: RpcConnection): void
  }[] = []
  private closeError: SwitchboardError | undefined
  private readyWaiters: { resolve(): void; reject(e: SwitchboardError): void }[] = []

  constructor(
    address: string,
    options: { maxQueuedBytes?: number; handlers?: Record<string, Handler> } = {},
  ) {
    super()
    this.address = address
    this.maxQueuedBytes = options.maxQueuedBytes ?? defaultMaxQueuedBytes
    for (const [name, fn] of Object.entries(options.handlers ?? {})) this.handlers.set(name, fn)
  }

  private transition(to: LinkState): boolean {
    if (!transitions[this.state].includes(to)) return false
    const from = this.state
    this.state = to
    this.emit('state', from, to)
    return true
  }

  /** Registers a handler for `method` calls from the peer. */
  handle<In = unknown, Out = unknown>(method: string, handler: Handler<In, Out>): this {
    this.handlers.set(method, handler as Handler)
    return this
  }

  /** @internal a connection is up. */
  attach(conn: RpcConnection): void {
    if (this.state === 'closed') {
      conn.abort(this.closeError)
      return
    }
    // The peer's GOAWAY (a PAIR_FULL refusal comes right after the hello) and even the end of
    // the session may have happened before this attach ran: read what the connection recorded.
    const noteGoaway = (code: string | undefined): void => {
      if (code === 'PAIR_FULL')
        this.refusal = sbError('PAIR_FULL', `${this.address} already has two processes`)
    }
    noteGoaway(conn.goawayCode)
    if (conn.closeError !== undefined || this.refusal !== undefined) {
      // Refused or already gone: never 'ready' (connecting → closed, with the refusal's code).
      if (conn.closeError === undefined) conn.abort(this.refusal)
      this.shutdown(this.refusal ?? conn.closeError)
      return
    }
    this.conn = conn
    conn.on('sendFailed', (err, name) => this.emit('sendFailed', err, name))
    conn.on('error', (err) => this.report(err))
    conn.on('goaway', noteGoaway)
    conn.on('close', (err) => this.lost(err))
    this.transition('ready')
    for (const s of this.subscriptions) s.attach(conn)
    for (const w of [...this.waiting]) {
      this.dequeue(w)
      w.run(conn)
    }
    for (const r of this.readyWaiters.splice(0)) r.resolve()
    this.emit('ready')
  }

  private refusal: SwitchboardError | undefined

  /** @internal the connection could not be made. */
  failConnect(err: SwitchboardError): void {
    this.shutdown(err)
  }

  private lost(err: SwitchboardError | undefined): void {
    this.conn = undefined
    this.shutdown(this.refusal ?? err)
  }

  private shutdown(err: SwitchboardError | undefined): void {
    if (this.state === 'closed') return
    const reason = err ?? sbError('SESSION_CLOSED', `link to ${this.address} closed`)
    this.closeError = reason
    this.transition('closed')
    for (const w of [...this.waiting]) {
      this.dequeue(w)
      w.fail(reason)
    }
    for (const s of this.subscriptions) s.sub.fail(reason)
    for (const r of this.readyWaiters.splice(0)) r.reject(reason)
    this.sweep.stop()
    if (err !== undefined) this.report(err)
    this.emit('close', err)
  }

  private report(err: SwitchboardError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }

  /** Resolves when the link is ready (at once if it is); rejects if it closes first. */
  ready(): Promise<void> {
    if (this.state === 'ready') return Promise.resolve()
    if (this.state === 'closed') return Promise.reject(this.closeError)
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }))
  }

  private dequeue(w: Waiting): void {
    if (this.waiting.delete(w)) {
      this.waitingBytes -= w.bytes
      this.sweep.delete(w)
    }
  }

  /** Runs `start` on the connection now, or queues it until one is up (bounded, under a deadline). */
  private whenConnected<T>(
    bytes: number,
    timeoutMs: number | undefined,
    signal: AbortSignal | undefined,
    name: string,
    start: (c: RpcConnection, remainingMs: number | undefined) => Promise<T>,
  ): Promise<T> {
    if (this.conn !== undefined && this.state === 'ready') return start(this.conn, timeoutMs)
    if (this.state === 'closed') return Promise.reject(this.closeError)
    if (this.waiting.size > 0 && this.waitingBytes + bytes > this.maxQueuedBytes) {
      return Promise.reject(
        sbError('QUEUE_FULL', `more than ${this.maxQueuedBytes} bytes wait for ${this.address}`),
      )
    }
    const queuedAt = performance.now()
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        this.dequeue(w)
        reject(sbError('CANCELLED', `'${name}' was cancelled while waiting for a connection`))
      }
      const w: Waiting = {
        bytes,
        deadlineAt: timeoutMs === undefined ? Number.POSITIVE_INFINITY : queuedAt + timeoutMs,
        run: (c) => {
          signal?.removeEventListener('abort', onAbort)
          const remaining =
            timeoutMs === undefined ? undefined : Math.max(1, timeoutMs - (performance.now() - queuedAt))
          start(c, remaining).then(resolve, reject)
        },
        fail: (err) => {
          signal?.removeEventListener('abort', onAbort)
          reject(err)
        },
        expire: () => {
          this.dequeue(w)
          w.fail(sbError('DEADLINE', `'${name}' passed its deadline while waiting for ${this.address}`))
        },
      }
      if (signal?.aborted) return reject(sbError('CANCELLED', `'${name}' was cancelled`))
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiting.add(w)
      this.waitingBytes += bytes
      if (timeoutMs !== undefined) this.sweep.add(w)
    })
  }

  /**
   * Calls `method` on the peer. See RequestOptions for deadlines and cancellation. Ignoring the
   * promise is safe: the library observes it, so a failure never raises unhandledRejection.
   */
  request<T = unknown>(method: string, data?: unknown, options: RequestOptions = {}): Promise<T> {
    const timeout = options.timeout ?? (isStream(data) ? undefined : 30_000)
    return observed(
      this.whenConnected(sizeOf(data), timeout, options.signal, method, (c, remaining) =>
        c.request<T>(method, data, remaining === undefined ? options : { ...options, timeout: remaining }),
      ),
    )
  }

  /** One-way message; resolves when fully written. Ignoring the promise is safe ('sendFailed' reports failures). */
  send(method: string, data?: unknown, options: SendOptions = {}): Promise<void> {
    return this.oneWay(method, data, options, (c) => c.send(method, data, options))
  }

  /** Sends an event on `topic` to the peer if it subscribed. Same rules as send(). */
  publish(topic: string, data?: unknown, options: SendOptions = {}): Promise<void> {
    return this.oneWay(topic, data, options, (c) => c.publish(topic, data, options))
  }

  private oneWay(
    name: string,
    data: unknown,
    options: SendOptions,
    start: (c: RpcConnection) => Promise<void>,
  ): Promise<void> {
    let onConnection = false
    const p = this.whenConnected(sizeOf(data), undefined, options.signal, name, (c) => {
      onConnection = true
      return start(c)
    })
    p.catch((err: unknown) => {
      // A message handed to a connection is reported by it (forwarded in attach()); report here
      // only the ones that never reached one, so each failure is one 'sendFailed'.
      if (!onConnection && this.listenerCount('sendFailed') > 0)
        this.emit('sendFailed', err as SwitchboardError, name)
    })
    return p
  }

  /** Subscribes to the peer's events on `topic`. Iterate the result; close() it to stop. */
  subscribe<T = unknown>(topic: string, options: SubscribeOptions = {}): Subscription<T> {
    if (this.conn !== undefined) {
      return this.conn.subscribe<T>(topic, options)
    }
    // Not connected yet: hand out a proxy subscription that starts when the connection does.
    const proxy = new ProxySubscription<T>(topic, options)
    this.subscriptions.push({
      topic,
      sub: proxy as Subscription,
      options,
      attach: (c) => proxy.bindTo(c.subscribe<T>(topic, options)),
    })
    if (this.state === 'closed') proxy.fail(this.closeError ?? sbError('SESSION_CLOSED'))
    return proxy
  }

  get writable(): boolean {
    return this.conn?.writable ?? this.waitingBytes < this.maxQueuedBytes
  }

  drained(): Promise<void> {
    return this.conn?.drained() ?? Promise.resolve()
  }

  /** Graceful close: calls in flight finish, queued ones fail with SESSION_CLOSED. */
  async close(): Promise<void> {
    const conn = this.conn
    this.shutdown(undefined)
    if (conn !== undefined) await conn.close()
  }

  /** Immediate close: everything pending fails with `err`. */
  abort(err: SwitchboardError = sbError('SESSION_CLOSED', 'link aborted')): void {
    const conn = this.conn
    this.shutdown(err)
    conn?.abort(err)
  }

  /** The current connection's Noise handshake hash (channel binding); undefined when not connected or not secured by a handshake. */
  get handshakeHash(): Uint8Array | undefined {
    return this.conn?.handshakeHash
  }

  /** In keys mode, the current connection's peer public key. */
  get remotePublicKey(): Uint8Array | undefined {
    return this.conn?.remotePublicKey
  }

  getStats(): LinkStats {
    const base = this.conn?.getStats()
    return {
      ...base,
      sessionState: base?.state,
      state: this.state,
      queuedCalls: this.waiting.size,
      queuedBytes: (base?.queuedBytes ?? 0) + this.waitingBytes,
    }
  }
}

/** A subscription made before the link connected: forwards from the real one once it exists. */
class ProxySubscription<T> extends Subscription<T> {
  constructor(topic: string, options: SubscribeOptions) {
    super(topic, options, () => this.inner?.close())
  }
  private inner: Subscription<T> | undefined
  bindTo(inner: Subscription<T>): void {
    this.inner = inner
    inner.ready.then(
      () => this.acknowledge(),
      (err: SwitchboardError) => this.fail(err),
    )
    void (async () => {
      try {
        for await (const v of inner) this.deliver(v)
      } catch (err) {
        this.fail(
          err instanceof SwitchboardError ? err : sbError('INTERNAL', 'subscription failed', { cause: err }),
        )
      }
    })()
  }
}

/** Marks `p` handled (the caller still sees its rejection when it awaits it) and returns it. */
function observed<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {})
  return p
}

function isStream(data: unknown): boolean {
  return (
    typeof data === 'object' &&
    data !== null &&
    !(data instanceof Uint8Array) &&
    (Symbol.asyncIterator in data ||
      (typeof ReadableStream !== 'undefined' && data instanceof ReadableStream))
  )
}

function sizeOf(data: unknown): number {
  if (data instanceof Uint8Array) return data.length
  return 64 // values are measured when encoded; a queued value counts as a small message
}

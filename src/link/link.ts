/**
 * What connect() and pair() return: a handle on a destination that outlives any one connection.
 * It owns a pool of connections (pool.ts), a bounded queue of messages not yet started, and the
 * delivery rules of docs/delivery.md (resend, outcome unknown, one-shot, idempotent, ordered).
 *
 *   connecting ──first connection──▶ ready ──last connection lost──▶ reconnecting ──▶ ready
 *        └──── gave up (reconnect off, retries used up, refused) / close() / abort() ───▶ closed
 */

import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { type SwitchboardError, sbError } from '../errors.ts'
import { Waiters } from '../internal/waiters.ts'
import { isByteSource } from '../rpc/body.ts'
import { msgpackCodec } from '../rpc/codec.ts'
import type { ConnectionStats, RpcConnection } from '../rpc/connection.ts'
import type { ContractHandlers, ContractOptions, PeerProtocols, Protocol } from '../rpc/contract.ts'
import {
  ContractClient,
  type ContractStats,
  type ContractTarget,
  checkUse,
  type ProtocolClient,
  type ProtocolPublisher,
} from '../rpc/contract-client.ts'
import { ContractPublisher, ContractRegistry } from '../rpc/contract-registry.ts'
import { DedupeTable } from '../rpc/dedupe.ts'
import { DEFAULT_CALL_TIMEOUT_MS, validTimeout } from '../rpc/defaults.ts'
import { lossOf } from '../rpc/loss.ts'
import { type OneWayKind, oneWayKindOf, type SentMessage } from '../rpc/sinks.ts'
import type { Subscription } from '../rpc/subscription.ts'
import type { AttemptOptions, Handler, RequestOptions, SendOptions, SubscribeOptions } from '../rpc/types.ts'
import { defaultLinkOptions, type LinkTuning, validateTuning } from './defaults.ts'
import { Delivery, type DeliveryFlags, type DeliveryKind, type DeliveryOwner, sizeOf } from './delivery.ts'
import { LinkSubscription } from './link-subscription.ts'
import { Outbox } from './outbox.ts'
import { type Acquire, Pool } from './pool.ts'
import { afterFailedAttempt } from './rules.ts'
import { type BatchOwner, SendBatch } from './send-batch.ts'

export type LinkState = 'connecting' | 'ready' | 'reconnecting' | 'closed'

const transitions: Record<LinkState, readonly LinkState[]> = {
  connecting: ['ready', 'closed'],
  ready: ['reconnecting', 'closed'],
  reconnecting: ['ready', 'closed'],
  closed: [],
}

export interface LinkStats extends Partial<Omit<ConnectionStats, 'state'>> {
  state: LinkState
  /** State of the first connection's session, when there is one. */
  sessionState?: ConnectionStats['state'] | undefined
  /** Messages waiting for a connection (not yet started). */
  queuedCalls: number
  queuedBytes: number
  /** Messages started and not yet settled. */
  inFlight: number
  /** Connections up, and dials in progress. */
  connections: number
  pendingDials: number
  /** Dials over the link's life, and how many times it came back after a loss. */
  dials: number
  reconnects: number
  /** Messages sent again after a connection loss or a GOAWAY. */
  resent: number
  /** The most dials ever in progress at once. */
  maxPendingDialsSeen: number
  subscriptionsKept: number
}

/** @internal what api.ts hands a Link: how to make a connection, and the tuning. */
export interface LinkSetup {
  addresses: readonly string[]
  tuning: Partial<LinkTuning>
  handlers?: Record<string, Handler> | undefined
  /** Opens one connection (dial + hello) presenting `linkId`; see api.ts. */
  acquire: (link: Link, address: string, signal: AbortSignal) => Promise<RpcConnection>
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

export class Link extends EventEmitter<LinkEvents> implements DeliveryOwner, BatchOwner, ContractTarget {
  private current: LinkState = 'connecting'
  readonly address: string
  /** Our 16-byte link id, presented in every hello so the server keeps its handle of us. */
  readonly linkId: Uint8Array = new Uint8Array(randomBytes(16))
  /** Handlers for calls the peer makes on this link. */
  readonly handlers = new Map<string, Handler>()
  /** Remembers idempotent calls the peer makes on this link. */
  readonly dedupe: DedupeTable
  /** The protocols this link implements for its peer (implement()), offered in each hello. */
  readonly contracts = new ContractRegistry(() => this.handlers)
  /** What the peer offers (its latest connection's hello and OFFER frames); undefined before. */
  peerProtocols: PeerProtocols | undefined
  /** Counters of the contracts used on this link. */
  readonly contractStats: ContractStats = { invalidEvents: 0, eventsDroppedValidating: 0 }
  private readonly tuning: LinkTuning
  private readonly pool: Pool
  private readonly outbox = new Outbox((d, err) => this.fail(d, err))
  /** This turn's batch of plain one-way messages (sendInBatch). */
  private batch: SendBatch | undefined
  /** sendInBatch is calling the connection: a failure now is that call's to answer. */
  private sendingNow = false
  private syncFailure: SwitchboardError | undefined
  /** Messages started and not yet settled (a count: no per-message entry here). */
  private inFlight = 0
  /** Requests among them: what the pool grows on (one-way messages need no more connections). */
  private requestsInFlight = 0
  private pumping = false
  private pumpAgain = false
  private readonly subscriptions = new Set<LinkSubscription<unknown>>()
  private orderedInFlight: Delivery | undefined
  private nextMessageId = 0
  private closeError: SwitchboardError | undefined
  /** Callers of ready() while the link is not: woken by the first hello, failed by close. */
  private readonly readyWaiters = new Waiters()
  private reconnects = 0
  private resent = 0

  /** @internal use connect() or pair(). */
  constructor(setup: LinkSetup) {
    super()
    this.address = setup.addresses[0]!
    this.tuning = { ...defaultLinkOptions, ...setup.tuning }
    validateTuning(this.tuning)
    this.dedupe = new DedupeTable(this.tuning.dedupeWindow)
    for (const [name, fn] of Object.entries(setup.handlers ?? {})) this.handlers.set(name, fn)
    const acquire: Acquire = (address, signal) => setup.acquire(this, address, signal)
    this.pool = new Pool(setup.addresses, this.tuning, acquire, {
      up: (conn) => this.connectionUp(conn),
      down: (conn, err) => this.connectionDown(conn, err),
      gaveUp: (err) => this.shutdown(err),
      hasWork: () => this.outbox.size > 0 || this.inFlight > 0,
    })
  }

  /** @internal starts the first dial. */
  begin(): void {
    this.pool.ensure()
  }

  /** Where the link is (read-only: it moves only through transition). */
  get state(): LinkState {
    return this.current
  }

  /** The one way the link changes state; a move its table does not allow is refused (false). */
  private transition(to: LinkState): boolean {
    if (!transitions[this.current].includes(to)) return false
    const from = this.current
    this.current = to
    this.emit('state', from, to)
    return true
  }

  /** Registers a handler for `method` calls from the peer. */
  handle<In = unknown, Out = unknown>(method: string, handler: Handler<In, Out>): this {
    this.handlers.set(method, handler as Handler)
    return this
  }

  /**
   * Serves `protocol` to the peer with typed `handlers` (docs/contracts.md): offered in every
   * hello of this link, and announced on the connections already up. Returns the publisher of
   * the protocol's events.
   */
  implement<P extends Protocol>(
    protocol: P,
    handlers: ContractHandlers<P>,
    options: ContractOptions = {},
  ): ProtocolPublisher<P> {
    const offer = this.contracts.implement(protocol, handlers, options)
    for (const conn of this.pool.usable()) conn.announce(offer)
    return new ContractPublisher(protocol, (topic, data, opts) => this.publish(topic, data, opts))
  }

  /**
   * A typed client of `protocol` (docs/contracts.md). Throws PROTOCOL_UNSUPPORTED at once when
   * the peer's offer is known and lacks it (or has another major); before the first hello, the
   * first call waits for it and rejects with that code, without sending anything.
   */
  use<P extends Protocol>(protocol: P, options: ContractOptions = {}): ProtocolClient<P> {
    checkUse(protocol, this)
    return new ContractClient(protocol, this, options.validate !== false)
  }

  /** @internal ContractTarget: resolves once a hello told what the peer offers. */
  protocolsKnown(): Promise<void> {
    return this.ready()
  }

  // ---- connections ---------------------------------------------------------------------------

  private connectionUp(conn: RpcConnection): void {
    if (this.state === 'closed') return conn.abort(this.closeError)
    conn.on('error', (err: unknown) => this.report(err as SwitchboardError))
    this.peerProtocols = conn.peerProtocols
    conn.on('offer', () => {
      this.peerProtocols = conn.peerProtocols
    })
    const wasReconnecting = this.state === 'reconnecting'
    if (this.state !== 'ready') {
      this.transition('ready')
      if (wasReconnecting) this.reconnects++
      this.readyWaiters.wake()
      this.emit('ready')
    }
    for (const s of this.subscriptions) if (!s.bound) s.bindTo(conn)
    this.pump()
  }

  private connectionDown(conn: RpcConnection, err: SwitchboardError | undefined): void {
    if (this.state === 'closed') return
    for (const s of this.subscriptions) if (s.boundTo === conn) s.unbind()
    if (this.pool.hasUsable()) {
      for (const s of this.subscriptions) if (!s.bound) s.bindTo(this.pool.pick()!)
      return this.pump()
    }
    if (!this.tuning.reconnect) {
      this.shutdown(err ?? sbError('CONNECTION_LOST', `lost ${this.address}`))
      return
    }
    if (this.state === 'ready') this.transition('reconnecting')
    this.pool.ensure()
  }

  // ---- sending -------------------------------------------------------------------------------

  /**
   * Calls `method` on the peer. See RequestOptions for deadlines, flags and cancellation. Ignoring
   * the promise is safe: the library observes it, so a failure never raises unhandledRejection.
   */
  request<T = unknown>(method: string, data?: unknown, options: RequestOptions = {}): Promise<T> {
    const streamed = isByteSource(data)
    if (options.timeout !== undefined && !validTimeout(options.timeout)) {
      return this.refused(
        'request',
        method,
        sbError('INVALID_ARGUMENT', 'timeout must be a positive number of ms'),
      )
    }
    // Validated and defaulted here, once: the connection takes the timeout as given.
    const timeout = options.timeout ?? (streamed ? undefined : DEFAULT_CALL_TIMEOUT_MS)
    return this.submit('request', method, data, options, timeout, streamed) as Promise<T>
  }

  /** One-way message; resolves when fully written. Ignoring the promise is safe ('sendFailed' reports failures). */
  send(method: string, data?: unknown, options: SendOptions = {}): Promise<void> {
    return this.submit('send', method, data, options, undefined, false) as Promise<void>
  }

  /** Sends an event on `topic` to the peer if it subscribed. Same rules as send(). */
  publish(topic: string, data?: unknown, options: SendOptions = {}): Promise<void> {
    return this.submit('publish', topic, data, options, undefined, false) as Promise<void>
  }

  /** A message refused before it became a delivery: a rejected promise, observed and reported. */
  private refused(kind: DeliveryKind, name: string, err: unknown): Promise<never> {
    const p = Promise.reject(err)
    p.catch(noop)
    if (kind !== 'request') this.finalFailure(kind, name, err as SwitchboardError)
    return p
  }

  /**
   * @internal DeliveryOwner: a message failed for good. One-way ones are reported once, here, as
   * 'sendFailed' (an attempt the link resent is no failure).
   */
  finalFailure(kind: DeliveryKind, name: string, err: SwitchboardError): void {
    if (kind !== 'request' && this.listenerCount('sendFailed') > 0) this.emit('sendFailed', err, name)
  }

  private submit(
    kind: DeliveryKind,
    name: string,
    data: unknown,
    options: RequestOptions & SendOptions,
    timeout: number | undefined,
    streamed: boolean,
  ): Promise<unknown> {
    if (this.state === 'closed') return this.refused(kind, name, this.closeError)
    if (options.signal?.aborted)
      return this.refused(kind, name, sbError('CANCELLED', `'${name}' was cancelled`))
    const flags =
      options.idempotent === true || options.oneShot === true || options.ordered === true
        ? {
            idempotent: options.idempotent === true,
            oneShot: options.oneShot === true,
            ordered: options.ordered === true,
          }
        : NO_FLAGS
    if (flags.oneShot && !this.pool.hasUsable()) {
      return this.refused(
        kind,
        name,
        sbError('NOT_CONNECTED', `'${name}' is one-shot and ${this.address} is not connected`),
      )
    }
    // Fast path: nothing waits and a connection is up, so start at once (no queue, no sweep).
    const conn =
      this.outbox.size === 0 && !(flags.ordered && this.orderedInFlight !== undefined)
        ? this.pool.pick()
        : undefined
    // A plain one-way message on a connection that is up joins this turn's batch: no promise,
    // delivery or closure of its own.
    if (conn !== undefined && kind !== 'request' && flags === NO_FLAGS && options.signal === undefined) {
      return this.sendInBatch(kind, name, data, conn)
    }
    // Only a message that must wait is measured (a value by its encoding): the queue's bound
    // counts real bytes, and the fast path encodes once.
    let bytes = 0
    if (conn === undefined) {
      try {
        bytes = sizeOf(data, msgpackCodec)
      } catch (err) {
        return this.refused(kind, name, err)
      }
      if (this.outbox.full(bytes, this.tuning.maxQueuedBytes)) {
        return this.refused(
          kind,
          name,
          sbError('QUEUE_FULL', `more than ${this.tuning.maxQueuedBytes} bytes wait for ${this.address}`),
        )
      }
    }
    const d = new Delivery(
      kind,
      name,
      data,
      bytes,
      ++this.nextMessageId,
      flags,
      timeout,
      options.signal,
      options.trace,
      streamed,
      this,
    )
    // The executor captures only the delivery (a small closure), not this call's locals.
    const promise = new Promise((resolve, reject) => d.settleWith(resolve, reject))
    d.promise = promise
    d.explicitTimeout = (options as RequestOptions).timeout !== undefined
    if (conn !== undefined) {
      this.startOn(d, conn)
      if (kind === 'request') this.pool.grow(this.requestsInFlight)
    } else {
      this.enqueue(d)
      this.pump()
    }
    return promise
  }

  private sendInBatch(kind: OneWayKind, name: string, data: unknown, conn: RpcConnection): Promise<void> {
    let batch = this.batch
    if (batch === undefined || batch.sealed) batch = this.batch = new SendBatch(this)
    batch.members++
    this.inFlight++
    const messageId = ++this.nextMessageId
    this.sendingNow = true
    conn.sendWith(kind, name, data, NO_ATTEMPT, messageId, batch)
    this.sendingNow = false
    const failure = this.syncFailure
    if (failure === undefined) return batch.promise
    this.syncFailure = undefined
    // Refused at once. Lost with a connection that was going down: it goes the slow way, as its
    // own delivery; anything else (too large, not encodable) is this message's own failure.
    const loss = lossOf(failure)
    if (loss === undefined || loss.written) return this.refused(kind, name, failure)
    const d = this.redelivery(kind, name, data, messageId)
    const promise = new Promise<void>((resolve, reject) =>
      d.settleWith(resolve as (v: unknown) => void, reject),
    )
    d.promise = promise
    this.enqueue(d)
    this.pump()
    return promise
  }

  /** A one-way message of a batch (or already resolved), sent again as a delivery of its own. */
  private redelivery(kind: OneWayKind, name: string, value: unknown, messageId: number): Delivery {
    let bytes = 0
    try {
      bytes = sizeOf(value, msgpackCodec)
    } catch {
      // measured as empty: its own attempt reports the encoding failure
    }
    return new Delivery(
      kind,
      name,
      value,
      bytes,
      messageId,
      NO_FLAGS,
      undefined,
      undefined,
      undefined,
      false,
      this,
    )
  }

  private redeliveryOf(msg: SentMessage): Delivery {
    return this.redelivery(oneWayKindOf(msg), msg.name, msg.value, msg.messageId)
  }

  /** @internal BatchOwner */
  batchMemberWritten(): void {
    this.inFlight--
    if (this.outbox.size > 0) this.pump()
  }

  /** @internal BatchOwner: a batched message failed before it was written. */
  batchMemberFailed(batch: SendBatch, err: SwitchboardError, msg: SentMessage): void {
    this.inFlight--
    if (this.sendingNow) {
      // Inside sendInBatch: that call answers for this message alone.
      this.syncFailure = err
      batch.leave()
      return
    }
    const loss = lossOf(err)
    if (this.state !== 'closed' && loss !== undefined && !loss.written) {
      // Never written: sent again on another connection, reporting back to the batch.
      const d = this.redeliveryOf(msg)
      d.settleWith(
        () => batch.memberDone(),
        (e) => batch.fail(e),
      )
      this.resent++
      this.enqueue(d)
      this.pump()
      return
    }
    this.finalFailure(oneWayKindOf(msg), msg.name, err)
    batch.fail(err)
  }

  /** @internal BatchOwner: written, then refused unprocessed (sent again) or cut off (may have run). */
  batchMemberUndone(err: SwitchboardError, msg: SentMessage): void {
    if (this.state === 'closed') return
    if (lossOf(err)?.written === true) return // not idempotent: it may have run, and send() said it left
    const d = this.redeliveryOf(msg)
    d.resolvedOnce = true // its promise was the batch's, already resolved: a failure is an event
    this.resent++
    this.enqueue(d)
    this.pump()
  }

  private enqueue(d: Delivery): void {
    if (d.signal?.aborted) return this.fail(d, sbError('CANCELLED', `'${d.name}' was cancelled`))
    this.outbox.add(d)
    this.pool.workArrived()
  }

  /** A method, so the compiler does not narrow `state` across calls that may close the link. */
  private isOpen(): boolean {
    return this.state !== 'closed'
  }

  /** Starts every queued message that may start now, each on the least busy connection. */
  private pump(): void {
    if (this.state === 'closed') return
    if (this.pumping) {
      // Called back from a start that failed at once: go round again after this pass.
      this.pumpAgain = true
      return
    }
    this.pumping = true
    try {
      do {
        this.pumpAgain = false
        let orderedBusy = this.orderedInFlight !== undefined
        const assigned = new Map<RpcConnection, number>()
        const batch = this.outbox.take<RpcConnection>((d) => {
          if (d.flags.ordered && orderedBusy) return 'keep'
          const conn = this.pool.pick(assigned)
          if (conn === undefined) return 'stop'
          assigned.set(conn, (assigned.get(conn) ?? 0) + 1)
          if (d.flags.ordered) orderedBusy = true
          return conn
        })
        for (const [d, conn] of batch) this.startOn(d, conn)
      } while (this.pumpAgain && this.isOpen())
    } finally {
      this.pumping = false
    }
    if (!this.isOpen()) return
    this.pool.grow(this.outbox.size + this.requestsInFlight)
    if (!this.pool.hasUsable()) this.pool.ensure()
  }

  private startOn(d: Delivery, conn: RpcConnection): void {
    const remaining = d.remainingMs()
    if (remaining !== undefined && remaining <= 0) {
      return this.fail(d, sbError('DEADLINE', `'${d.name}' passed its deadline before it could be sent`))
    }
    d.state = 'inflight'
    d.attempts++
    this.inFlight++
    if (d.flags.ordered) this.orderedInFlight = d
    // The delivery is the attempt's sink: the connection reports to it, no promise or closure.
    if (d.kind === 'request') {
      this.requestsInFlight++
      const timeout = remaining === undefined ? undefined : Math.max(1, Math.ceil(remaining))
      conn.startRequest(d.name, d.data, timeout, d.explicitTimeout, d, d.messageId, d)
    } else {
      conn.sendWith(d.kind, d.name, d.data, d, d.messageId, d)
    }
  }

  private settleAttempt(d: Delivery): boolean {
    if (d.state !== 'inflight') return false
    d.state = 'queued' // between attempts until it settles or is queued again
    this.inFlight--
    if (d.kind === 'request') this.requestsInFlight--
    if (this.orderedInFlight === d) this.orderedInFlight = undefined
    return true
  }

  /** @internal DeliveryOwner: the attempt succeeded. */
  attemptSucceeded(d: Delivery, value: unknown): void {
    if (!this.settleAttempt(d)) return
    d.resolve(value)
    if (this.outbox.size > 0) this.pump()
  }

  /** @internal DeliveryOwner: the attempt failed. */
  attemptFailed(d: Delivery, err: SwitchboardError): void {
    if (!this.settleAttempt(d)) return
    this.afterFailure(d, err)
  }

  /**
   * @internal DeliveryOwner: a one-way message was written (its promise resolved), then refused
   * unprocessed by the peer's GOAWAY, or cut off before the peer counted it. The first is sent
   * again; the second only when idempotent (it may have run).
   */
  attemptUndone(d: Delivery, err: SwitchboardError): void {
    if (this.state === 'closed' || d.state !== 'settled') return
    const loss = lossOf(err)
    if (loss?.written === true && !d.flags.idempotent) return
    this.resent++
    this.enqueue(d)
    this.pump()
  }

  /** The delivery rules (rules.ts): resend, or settle with the verdict's error. */
  private afterFailure(d: Delivery, err: SwitchboardError): void {
    const closed = this.state === 'closed' ? (this.closeError ?? err) : undefined
    const verdict = afterFailedAttempt(d, err, closed)
    if (!verdict.resend) return this.fail(d, verdict.error)
    this.resent++
    this.enqueue(d)
    this.pump()
  }

  /** Rejects `d`; an ordered one takes those queued behind it down too (they must not overtake). */
  private fail(d: Delivery, err: SwitchboardError): void {
    d.reject(err)
    if (d.flags.ordered) {
      for (const q of this.outbox.removeWhere((x) => x.flags.ordered)) {
        q.reject(
          sbError(
            'ORDER_BROKEN',
            `'${q.name}' was not sent: ordered '${d.name}' before it failed (${err.code})`,
            {
              cause: err,
            },
          ),
        )
      }
    }
    this.pump()
  }

  // ---- subscriptions -------------------------------------------------------------------------

  /**
   * Subscribes to the peer's events on `topic`; kept across reconnects. Iterate the result, or
   * pass `onEvent` (the hot path: no queue, no promise per event); close() to stop.
   */
  subscribe<T = unknown>(
    topic: string,
    options: SubscribeOptions | ((value: T) => void) = {},
  ): Subscription<T> {
    const sub: LinkSubscription<T> = new LinkSubscription<T>(
      topic,
      options,
      () => this.subscriptions.delete(sub as LinkSubscription<unknown>),
      (lost) => this.rebind(lost as LinkSubscription<unknown>),
    )
    if (this.state === 'closed') {
      sub.fail(this.closeError ?? sbError('SESSION_CLOSED'))
      return sub
    }
    this.subscriptions.add(sub as LinkSubscription<unknown>)
    const conn = this.pool.pick()
    if (conn !== undefined) sub.bindTo(conn)
    return sub
  }

  /** A subscription's connection stopped carrying it (closing, going away): move it now if one is up. */
  private rebind(sub: LinkSubscription<unknown>): void {
    if (this.state === 'closed' || !this.subscriptions.has(sub)) return
    const conn = this.pool.pick()
    if (conn !== undefined && !conn.sessionEnded) sub.bindTo(conn)
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  private shutdown(err: SwitchboardError | undefined): RpcConnection[] {
    if (this.state === 'closed') return []
    const reason = err ?? sbError('SESSION_CLOSED', `link to ${this.address} closed`)
    this.closeError = reason
    const conns = this.pool.stop()
    this.transition('closed')
    for (const d of this.outbox.removeWhere(() => true)) d.reject(reason)
    for (const s of [...this.subscriptions]) {
      // Unsubscribe on the wire first (FIN): the link is done, so the publisher forgets them and
      // the graceful close does not wait for their channels.
      s.unsubscribe()
      s.fail(reason)
    }
    this.subscriptions.clear()
    this.readyWaiters.fail(reason)
    this.outbox.stop()
    if (err !== undefined) this.report(err)
    this.emit('close', err)
    return conns
  }

  private report(err: SwitchboardError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }

  /** Resolves when the link is ready (at once if it is); rejects if it closes first. */
  ready(): Promise<void> {
    if (this.state === 'ready') return Promise.resolve()
    if (this.state === 'closed') return Promise.reject(this.closeError)
    return this.readyWaiters.wait()
  }

  get writable(): boolean {
    const conn = this.pool.usable()[0]
    return conn?.writable ?? this.outbox.bytes < this.tuning.maxQueuedBytes
  }

  drained(): Promise<void> {
    return this.pool.usable()[0]?.drained() ?? Promise.resolve()
  }

  /** Graceful close: calls in flight finish, queued ones fail with SESSION_CLOSED. */
  async close(): Promise<void> {
    const conns = this.shutdown(undefined)
    await Promise.allSettled(conns.map((c) => c.close()))
  }

  /** Immediate close: everything pending fails with `err`. */
  abort(err: SwitchboardError = sbError('SESSION_CLOSED', 'link aborted')): void {
    for (const c of this.shutdown(err)) c.abort(err)
  }

  /** The current connection's Noise handshake hash (channel binding); undefined when not connected or not secured by a handshake. */
  get handshakeHash(): Uint8Array | undefined {
    return this.pool.usable()[0]?.handshakeHash
  }

  /** In keys mode, the current connection's peer public key. */
  get remotePublicKey(): Uint8Array | undefined {
    return this.pool.usable()[0]?.remotePublicKey
  }

  getStats(): LinkStats {
    const conns = this.pool.usable()
    const base = conns[0]?.getStats()
    return {
      ...base,
      sessionState: base?.state,
      state: this.state,
      queuedCalls: this.outbox.size,
      queuedBytes: (base?.queuedBytes ?? 0) + this.outbox.bytes,
      inFlight: this.inFlight,
      connections: this.pool.size,
      pendingDials: this.pool.pendingDials,
      dials: this.pool.dials,
      reconnects: this.reconnects,
      resent: this.resent,
      maxPendingDialsSeen: this.pool.maxDialingSeen,
      subscriptionsKept: this.subscriptions.size,
      invalidEvents: this.contractStats.invalidEvents,
      eventsDroppedValidating: this.contractStats.eventsDroppedValidating,
    }
  }
}

const noop = (): void => {}

/** The attempt options of a batched one-way message: none. */
const NO_ATTEMPT: AttemptOptions = Object.freeze({})

/** The flags of a message that sets none (most): shared, not one object per message. */
const NO_FLAGS: DeliveryFlags = Object.freeze({ idempotent: false, oneShot: false, ordered: false })

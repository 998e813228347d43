/**
 * Calls over one session, in both directions (SolidFrame's peer2peer): requests, one-way
 * messages, events and subscriptions, with handlers for what the peer calls. What listen()'s
 * server hands out per client, and what a link holds while it is connected.
 */
import { EventEmitter } from 'node:events'
import { codeFromWire, type ErrorCode, SwitchboardError, sbError, wireCodeOf } from '../errors.ts'
import { DeadlineSweep } from '../internal/deadline-sweep.ts'
import type { Channel, ChannelHandler } from '../mux/channel.ts'
import { limitsFromSettings } from '../mux/limits.ts'
import type { SessionOptions } from '../session/options.ts'
import { Session, type SessionStats } from '../session/session.ts'
import { BodyFlag, MessageKind } from '../wire/constants.ts'
import { type Codec, codecByName } from './codec.ts'
import type { DedupeTable } from './dedupe.ts'
import { IncomingCall } from './incoming-call.ts'
import { IncomingNames, OutgoingNames } from './names.ts'
import { encodeBody, lossError, OutgoingCall } from './outgoing-call.ts'
import { Subscription } from './subscription.ts'
import type { Handler, Peer, RequestOptions, SendOptions, SubscribeOptions } from './types.ts'

export interface ConnectionOptions extends SessionOptions {
  /** Codecs a user adds beyond msgpack and json (offer them by name in `codecs`). */
  extraCodecs?: readonly Codec[]
  /** conn.writable turns false above this many queued bytes. Default 1 MiB. */
  writableHighWaterBytes?: number
}

export interface ConnectionStats extends SessionStats {
  /** Requests sent and not yet settled. */
  pendingCalls: number
  /** Requests and one-way messages from the peer still being handled. */
  activeHandlers: number
  subscriptions: number
}

/** What the layer that owns a connection adds to it (not user options). */
export interface ConnectionExtras {
  /** Remembers idempotent messages across this owner's connections (server or link). */
  dedupe?: DedupeTable
  /**
   * The authenticated identity of the peer, part of the dedupe key. Placeholder until issue #5
   * (security) lands: '' for every peer, so the key is (link id, message id) for now.
   */
  identityOf?: (conn: RpcConnection) => string
  /**
   * Called once the hello exchange is done, before calls that arrived with the hello run: the
   * owner registers the connection (or refuses it: those calls are then dropped, never run).
   */
  onReady?: (conn: RpcConnection) => void
}

/** Handlers looked up by method name; shared by every connection of a server. */
export type HandlerTable = ReadonlyMap<string, Handler>

const NO_HANDLERS: HandlerTable = new Map()

/** A connection's events. */
export interface ConnectionEvents {
  /** A send() or publish() on this connection failed (`name`: its method or topic). */
  sendFailed: [err: SwitchboardError, name: string]
  /** An error nobody awaits, e.g. a one-way handler that threw (emitted only while someone listens). */
  error: [err: SwitchboardError]
  /** The peer sent GOAWAY with this code (GOING_AWAY, PAIR_FULL, …). */
  goaway: [code: ErrorCode]
  /** The session ended: `err` says why, undefined after a clean close. */
  close: [err: SwitchboardError | undefined]
}

export class RpcConnection extends EventEmitter<ConnectionEvents> {
  readonly sweep = new DeadlineSweep()
  private session!: Session
  private codecImpl!: Codec
  private readonly handlers: HandlerTable
  private readonly options: ConnectionOptions
  private readonly outNames = new OutgoingNames((id, name) => this.session.sendName(id, name))
  private readonly inNames = new IncomingNames()
  private readonly pending = new Set<OutgoingCall>()
  private readonly active = new Set<IncomingCall>()
  private readonly subscriptions = new Map<string, Set<Subscription>>()
  /** Topics the peer subscribed to, with how many subscriptions each. */
  private readonly peerTopics = new Map<string, number>()
  private messageIds = 0
  private drainWaiters: (() => void)[] = []
  /** Why the session ended, once it has (set before 'close' is emitted). */
  closeError: SwitchboardError | undefined
  /** The code of the peer's GOAWAY, once one arrived (set before 'goaway' is emitted). */
  goawayCode: ErrorCode | undefined

  readonly dedupe: { table: DedupeTable; keyOf(messageId: number): string } | undefined

  private constructor(handlers: HandlerTable, options: ConnectionOptions, extras: ConnectionExtras) {
    super()
    this.handlers = handlers
    this.options = options
    const table = extras.dedupe
    const identityOf = extras.identityOf ?? (() => '')
    let prefix: string | undefined
    this.dedupe =
      table === undefined
        ? undefined
        : {
            table,
            keyOf: (messageId) => {
              prefix ??= `${identityOf(this)}\0${this.peerLinkId}\0`
              return prefix + messageId
            },
          }
  }

  /** Runs the hello exchange over `transport` and returns the open connection. */
  static async open(
    transport: Session['transport'],
    role: 'dialer' | 'listener',
    options: ConnectionOptions = {},
    handlers: HandlerTable = NO_HANDLERS,
    extras: ConnectionExtras = {},
  ): Promise<RpcConnection> {
    const conn = new RpcConnection(handlers, options, extras)
    conn.session = await Session.establish(transport, role, options, {
      // The session reads no record before establish() has resolved (it holds the ones that
      // came with the hello for a macrotask), so `conn.session` is always set here.
      onChannel: (ch) => conn.onChannel(ch),
      onName: (id, name) => conn.inNames.define(id, name),
      onGoaway: (_last, code) => {
        conn.goawayCode = code
        conn.emit('goaway', code)
      },
      onClose: (err) => conn.onSessionClose(err),
      onFlushed: () => conn.onFlushed(),
    })
    conn.codecImpl = codecByName(conn.session.agreement!.codec, options.extraCodecs)
    extras.onReady?.(conn)
    return conn
  }

  // ---- CallHost / IncomingHost ------------------------------------------------------------

  get codec(): Codec {
    return this.codecImpl
  }

  get peer(): Peer {
    return this
  }

  // Both are fixed once the hello exchange is done: computed once, read on every message.
  private remoteMax: number | undefined
  private localMax: number | undefined

  get remoteMaxMessageBytes(): number {
    this.remoteMax ??= limitsFromSettings(this.session.agreement!.remote.limits).maxMessageBytes
    return this.remoteMax
  }

  get localMaxMessageBytes(): number {
    this.localMax ??= limitsFromSettings(this.session.agreement!.local.limits).maxMessageBytes
    return this.localMax
  }

  open(
    method: string,
    kind: number,
    messageId: number,
    deadlineMs: number | undefined,
    trace: Uint8Array | undefined,
    totalSize: number | undefined,
    oneWay: boolean,
  ): Channel {
    if (this.closeError !== undefined) throw this.closeError
    const id = this.outNames.idOf(method)
    return this.session.open({ kind, method: id, messageId, oneWay, deadlineMs, trace, totalSize })
  }

  nextMessageId(): number {
    return ++this.messageIds
  }

  /** Requests sent here and not yet settled. */
  get pendingCount(): number {
    return this.pending.size
  }

  /** True while this side has a subscription on this connection. */
  get hasSubscriptions(): boolean {
    for (const set of this.subscriptions.values()) if (set.size > 0) return true
    return false
  }

  get sessionEnded(): boolean {
    return this.session.state === 'closed'
  }

  /** True while new calls may start here (open, no GOAWAY received). */
  get canOpen(): boolean {
    return this.session.canOpen
  }

  settled(call: OutgoingCall): void {
    this.pending.delete(call)
  }

  finished(call: IncomingCall): void {
    this.active.delete(call)
  }

  handlerFor(method: string): Handler | undefined {
    // '*' handles every method without a handler of its own (pair()'s onRequest).
    return this.handlers.get(method) ?? this.handlers.get('*')
  }

  reportError(err: SwitchboardError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }

  // ---- calls from this side ----------------------------------------------------------------

  /**
   * Calls `method` on the peer and resolves with its result. The promise is observed here, so
   * ignoring it never raises unhandledRejection (awaiting it still sees the rejection).
   */
  request<T = unknown>(
    method: string,
    data?: unknown,
    options: RequestOptions = {},
    messageId = this.nextMessageId(),
  ): Promise<T> {
    const promise = new Promise<T>((resolve, reject) => {
      this.startRequest(method, data, options, messageId, resolve as (v: unknown) => void, reject)
    })
    promise.catch(() => {})
    return promise
  }

  /**
   * @internal request() without a promise of its own: exactly one of `resolve` and `reject` is
   * called. link/ settles its own promise from these, so a call costs one promise, not two.
   */
  startRequest(
    method: string,
    data: unknown,
    options: RequestOptions,
    messageId: number,
    resolve: (value: unknown) => void,
    reject: (err: SwitchboardError) => void,
  ): void {
    const call = new OutgoingCall(this, method, resolve, reject, options.signal)
    this.pending.add(call)
    call.start(data, options, messageId)
  }

  /**
   * One-way message: resolves once it is fully written, or rejects with a code. The library
   * observes the promise itself, so ignoring it never raises unhandledRejection; failures are
   * also emitted as 'sendFailed'.
   */
  send(method: string, data?: unknown, options: SendOptions = {}, messageId?: number): Promise<void> {
    return this.observe(this.oneWay(method, MessageKind.NOTIFY, data, options, messageId), method)
  }

  /** Sends an event to the peer if it subscribed to `topic` (else resolves without sending). */
  publish(topic: string, data?: unknown, options: SendOptions = {}, messageId?: number): Promise<void> {
    if (!this.peerTopics.has(topic)) return Promise.resolve()
    return this.observe(this.oneWay(topic, MessageKind.EVENT, data, options, messageId), topic)
  }

  /** True when the peer subscribed to `topic` on this connection. */
  peerSubscribed(topic: string): boolean {
    return this.peerTopics.has(topic)
  }

  private observe(promise: Promise<void>, name: string): Promise<void> {
    promise.catch((err: unknown) => {
      if (this.listenerCount('sendFailed') > 0) this.emit('sendFailed', err as SwitchboardError, name)
    })
    return promise
  }

  private oneWay(
    name: string,
    kind: number,
    data: unknown,
    options: SendOptions,
    messageId = this.nextMessageId(),
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (options.signal?.aborted) return reject(sbError('CANCELLED', `'${name}' was cancelled`))
      let ch: Channel | undefined
      try {
        const body = encodeBody(this.codec, data)
        if (body.bytes.length > this.remoteMaxMessageBytes) {
          throw sbError(
            'MESSAGE_TOO_LARGE',
            `body of ${body.bytes.length} bytes exceeds the peer's maxMessageBytes`,
          )
        }
        const idempotent = options.idempotent === true && kind === MessageKind.NOTIFY
        const opened = this.open(
          name,
          kind | body.flags | (idempotent ? BodyFlag.IDEMPOTENT : 0),
          messageId,
          undefined,
          undefined,
          body.bytes.length,
          true,
        )
        ch = opened
        const onAbort = (): void => {
          opened.reset(wireCodeOf('CANCELLED'))
          reject(sbError('CANCELLED', `'${name}' was cancelled`))
        }
        options.signal?.addEventListener('abort', onAbort, { once: true })
        opened.bind(
          sentHandler(
            this,
            opened,
            () => {
              options.signal?.removeEventListener('abort', onAbort)
              resolve()
            },
            (err) => {
              options.signal?.removeEventListener('abort', onAbort)
              reject(err)
            },
          ),
        )
        opened.write(body.bytes, true)
      } catch (err) {
        const e = err instanceof SwitchboardError ? err : sbError('INTERNAL', 'send failed', { cause: err })
        // Thrown by open() on an ended or departing session: nothing was written.
        const unsent = ch === undefined && (this.sessionEnded || e.code === 'GOING_AWAY')
        reject(unsent ? lossError(e, false) : e)
      }
    })
  }

  /** Subscribes to the peer's events on `topic`; iterate the result. */
  subscribe<T = unknown>(topic: string, options: SubscribeOptions = {}): Subscription<T> {
    let ch: Channel | undefined
    const sub = new Subscription<T>(topic, options, () => {
      this.subscriptions.get(topic)?.delete(sub as Subscription)
      if (ch?.canSend) ch.end()
    })
    let set = this.subscriptions.get(topic)
    if (set === undefined) this.subscriptions.set(topic, (set = new Set()))
    set.add(sub as Subscription)
    try {
      ch = this.open(
        topic,
        MessageKind.SUBSCRIBE,
        this.nextMessageId(),
        undefined,
        undefined,
        undefined,
        false,
      )
      ch.bind({
        onData: (data) => {
          if (data.length > 0) sub.acknowledge()
          ch!.consume(data.length)
        },
        onEnd: () => sub.fail(sbError('CANCELLED', `publisher ended the subscription to '${topic}'`)),
        onReset: (code) => sub.fail(sbError(codeFromWire(code), `subscription to '${topic}' ended`)),
        onWritable: () => {},
      })
      ch.write(new Uint8Array(0))
    } catch (err) {
      sub.fail(
        err instanceof SwitchboardError ? err : sbError('INTERNAL', 'subscribe failed', { cause: err }),
      )
    }
    return sub
  }

  // ---- calls from the peer -----------------------------------------------------------------

  private onChannel(ch: Channel): void {
    const name = this.inNames.nameOf(ch.header.method)
    if (name === undefined) {
      ch.bind(ignoreHandler)
      ch.reset(wireCodeOf('METHOD_NOT_FOUND'))
      return
    }
    switch (ch.header.kind & 0x0f) {
      case MessageKind.REQUEST:
      case MessageKind.NOTIFY:
        this.active.add(new IncomingCall(ch, name, this))
        return
      case MessageKind.EVENT:
        return this.onEvent(ch, name)
      case MessageKind.SUBSCRIBE:
        return this.onPeerSubscribe(ch, name)
      default:
        ch.bind(ignoreHandler)
        ch.reset(wireCodeOf('PROTOCOL_ERROR'))
    }
  }

  private onEvent(ch: Channel, topic: string): void {
    const parts: Uint8Array[] = []
    const raw = (ch.header.kind & 0x10) !== 0
    ch.bind({
      onData: (data, fin) => {
        parts.push(data)
        ch.consume(data.length)
        if (!fin) return
        const subs = this.subscriptions.get(topic)
        if (subs === undefined || subs.size === 0) return
        const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
        let value: unknown
        try {
          value = raw ? whole.slice() : whole.length === 0 ? undefined : this.codec.decode(whole)
        } catch (err) {
          return this.reportError(err as SwitchboardError)
        }
        for (const sub of subs) sub.deliver(value)
      },
      onEnd: () => {},
      onReset: () => {},
      onWritable: () => {},
    })
  }

  private onPeerSubscribe(ch: Channel, topic: string): void {
    this.peerTopics.set(topic, (this.peerTopics.get(topic) ?? 0) + 1)
    let counted = true
    const drop = (): void => {
      if (!counted) return
      counted = false
      const n = (this.peerTopics.get(topic) ?? 1) - 1
      if (n === 0) this.peerTopics.delete(topic)
      else this.peerTopics.set(topic, n)
    }
    ch.bind({
      onData: (data, fin) => {
        ch.consume(data.length)
        if (fin) {
          drop()
          if (ch.canSend) ch.end()
        }
      },
      onEnd: () => drop(),
      onReset: () => drop(),
      onWritable: () => {},
    })
    ch.write(Uint8Array.of(1)) // acknowledge: events published from now on reach the subscriber
  }

  // ---- backpressure, lifecycle -------------------------------------------------------------

  /** False while more than `writableHighWaterBytes` wait to be written; see drained(). */
  get writable(): boolean {
    return this.session.queuedBytes < (this.options.writableHighWaterBytes ?? 1024 * 1024)
  }

  /** Resolves when writable is true again (at once if it is). */
  drained(): Promise<void> {
    if (this.writable || this.session.state === 'closed') return Promise.resolve()
    return new Promise((resolve) => this.drainWaiters.push(resolve))
  }

  private onFlushed(): void {
    if (this.drainWaiters.length === 0 || !this.writable) return
    for (const w of this.drainWaiters.splice(0)) w()
  }

  get state(): Session['state'] {
    return this.session.state
  }

  get remote(): string {
    return this.session.transport.remote
  }

  /** The peer's link id (hex): stable across a dialer's reconnects. */
  get peerLinkId(): string {
    return Buffer.from(this.session.agreement!.remote.linkId).toString('hex')
  }

  /** The negotiated security mode: 'none', 'noise-nnpsk0', 'noise-xx' or 'noise-xxpsk3'. */
  get security(): string {
    return this.session.agreement!.security
  }

  /** The Noise handshake hash (32 bytes, equal on both ends, unique to this connection) for channel binding; undefined without a handshake. */
  get handshakeHash(): Uint8Array | undefined {
    return this.session.handshakeHash
  }

  /** In keys mode, the peer's static public key (as `allow` accepted it). */
  get remotePublicKey(): Uint8Array | undefined {
    return this.session.remotePublicKey
  }

  /** Graceful: the peer finishes what it started (GOAWAY), then the connection ends. */
  close(): Promise<void> {
    return this.session.close()
  }

  /** At once: everything pending fails with `err` (default SESSION_CLOSED). */
  abort(err?: SwitchboardError): void {
    this.session.abort(err)
  }

  /** Refuses this connection with a code the peer sees (e.g. PAIR_FULL). */
  refuse(code: ErrorCode, message?: string): void {
    this.session.refuse(sbError(code, message))
  }

  get closed(): Promise<void> {
    return this.session.closed
  }

  private onSessionClose(err: SwitchboardError | undefined): void {
    this.closeError = err ?? sbError('SESSION_CLOSED')
    this.sweep.stop()
    for (const set of this.subscriptions.values()) for (const sub of set) sub.fail(this.closeError)
    this.subscriptions.clear()
    for (const w of this.drainWaiters.splice(0)) w()
    this.emit('close', err)
  }

  getStats(): ConnectionStats {
    let subs = 0
    for (const set of this.subscriptions.values()) subs += set.size
    return {
      ...this.session.getStats(),
      pendingCalls: this.pending.size,
      activeHandlers: this.active.size,
      subscriptions: subs,
    }
  }
}

const ignoreHandler: ChannelHandler = { onData() {}, onEnd() {}, onReset() {}, onWritable() {} }

function sentHandler(
  conn: RpcConnection,
  ch: Channel,
  onSent: () => void,
  onFail: (err: SwitchboardError) => void,
): ChannelHandler & { onSent(): void } {
  return {
    onData() {},
    onEnd() {},
    onReset(code) {
      const err = sbError(codeFromWire(code), 'message was reset before it was fully written')
      onFail(conn.sessionEnded ? lossError(err, !ch.needsOpen) : err)
    },
    onWritable() {},
    onSent,
  }
}

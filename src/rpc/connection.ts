/**
 * Calls over one session, in both directions: requests, one-way messages, events and
 * subscriptions, with handlers for what the peer calls. What listen()'s server hands out per
 * client, and what a link holds while it is connected.
 *
 * The hot path (DESIGN.md §7): a message that fits in one chunk is one MSG frame, its reply one
 * REPLY frame; the only per-message entry is a request's, in `pending` (by message id), and on
 * the answering side while its handler's promise is pending, in `incoming`.
 */
import { EventEmitter } from 'node:events'
import { codeFromWire, type ErrorCode, SwitchboardError, sbError, wireCodeOf } from '../errors.ts'
import { DeadlineSweep } from '../internal/deadline-sweep.ts'
import { Waiters } from '../internal/waiters.ts'
import type { Channel, OpenHeader } from '../mux/channel.ts'
import type { OutgoingMessage } from '../mux/messages.ts'
import type { SessionOptions } from '../session/options.ts'
import { Session, type SessionStats } from '../session/session.ts'
import { BodyFlag, KIND_MASK, MessageKind } from '../wire/constants.ts'
import type { MsgFrame, ReplyFrame } from '../wire/frame.ts'
import type { ProtocolOffer } from '../wire/hello.ts'
import { isByteSource } from './body.ts'
import { BodyCollector } from './body-collector.ts'
import { type Codec, codecByName } from './codec.ts'
import { type ContractOptions, PeerProtocols, type Protocol } from './contract.ts'
import {
  ContractClient,
  type ContractStats,
  type ContractTarget,
  checkUse,
  type ProtocolClient,
} from './contract-client.ts'
import type { DedupeTable } from './dedupe.ts'
import { DEFAULT_CALL_TIMEOUT_MS, validTimeout } from './defaults.ts'
import { IncomingCall } from './incoming-call.ts'
import { lossError, lossOf } from './loss.ts'
import { helloNames, IncomingNames, OutgoingNames } from './names.ts'
import { OneWayMessage } from './one-way.ts'
import { keepBytes, OutgoingCall } from './outgoing-call.ts'
import { PeerSubscriptions } from './peer-subscriptions.ts'
import { SinkOutcome } from './sink-outcome.ts'
import { type CallSink, type OneWayKind, PromiseCallSink, PromiseSendSink, type SendSink } from './sinks.ts'
import { type PublishLimits, SubscriberRegistry } from './subscriber-registry.ts'
import { type EventSink, Subscription } from './subscription.ts'
import { TopicSubscriptions } from './topic-subscriptions.ts'
import type { AttemptOptions, Handler, Peer, RequestOptions, SendOptions, SubscribeOptions } from './types.ts'

export interface ConnectionOptions extends SessionOptions, PublishLimits {
  /** How this side is named in a publisher's reports when it subscribes. Default ''. */
  subscriberLabel?: string
  /** Codecs a user adds beyond msgpack and json (offer them by name in `codecs`). */
  extraCodecs?: readonly Codec[]
  /** conn.writable turns false above this many queued bytes. Default 1 MiB. */
  writableHighWaterBytes?: number
}

export interface ConnectionStats extends SessionStats {
  /** Requests sent and not yet settled. */
  pendingCalls: number
  /** Requests and message bodies from the peer still being handled. */
  activeHandlers: number
  subscriptions: number
  /** Events held for a subscriber that has no credit left (sent as it returns credit). */
  eventsWaiting: number
  /** Events of a contract that failed their schema and were dropped. */
  invalidEvents: number
  /** Events of a contract dropped because too many waited behind an async validate(). */
  eventsDroppedValidating: number
}

/** What the layer that owns a connection adds to it (not user options). */
export interface ConnectionExtras {
  /** Remembers idempotent messages across this owner's connections (server or link). */
  dedupe?: DedupeTable
  /**
   * The authenticated identity of the peer, part of the dedupe key: its public key in keys mode,
   * '' otherwise (every holder of a shared secret is one party).
   */
  identityOf?: (conn: RpcConnection) => string
  /**
   * Called once the hello exchange is done, before calls that arrived with the hello run: the
   * owner registers the connection (or refuses it: those calls are then dropped, never run).
   */
  onReady?: (conn: RpcConnection) => void
  /** The subscribers of this owner's connections (a server's outlive each connection). */
  subscribers?: SubscriberRegistry
  /** The protocols this side offers (its contracts), put in the hello. */
  protocols?: readonly ProtocolOffer[]
  /**
   * Asked when the peer subscribes to a topic: a code refuses it (the subscriber's `ready`
   * rejects with it), undefined admits it. A daemon refuses clients that have not logged in.
   */
  admitSubscriber?: (conn: RpcConnection, topic: string) => ErrorCode | undefined
}

/** Handlers looked up by method name; shared by every connection of a server. */
export type HandlerTable = ReadonlyMap<string, Handler>

/**
 * The handler-table key of the catch-all: its handler answers every method that has no handler
 * of its own (pair()'s onRequest; a server's `handle(ANY_METHOD, fn)`). It is a key of the local
 * table only: it never goes on the wire (a caller names the method it calls, and an unknown one
 * reaches the catch-all under its own name, `ctx.method`).
 */
export const ANY_METHOD = '*'

const NO_HANDLERS: HandlerTable = new Map()
const EMPTY = new Uint8Array(0)

/** Most protocols a peer may offer on one connection (its OFFER frames add to its hello's). */
const MAX_PEER_PROTOCOLS = 1024

/** Room a MSG frame's header fields may take besides the body (ids, deadline, a 512-byte trace). */
const MSG_HEADER_ALLOWANCE = 600

/** A connection's events. */
export interface ConnectionEvents {
  /** A send() or publish() on this connection failed (`name`: its method or topic). */
  sendFailed: [err: SwitchboardError, name: string]
  /** An error nobody awaits, e.g. a one-way handler that threw (emitted only while someone listens). */
  error: [err: SwitchboardError]
  /** The peer announced one more protocol it implements (an OFFER frame): its name. */
  offer: [name: string]
  /** The peer sent GOAWAY with this code (GOING_AWAY, PAIR_FULL, …). */
  goaway: [code: ErrorCode]
  /** The session ended: `err` says why, undefined after a clean close. */
  close: [err: SwitchboardError | undefined]
}

export class RpcConnection extends EventEmitter<ConnectionEvents> implements ContractTarget {
  readonly sweep = new DeadlineSweep()
  /** What the peer offers (its hello's protocols), set once the hello exchange is done. */
  peerProtocols: PeerProtocols | undefined
  /** Counters of the contracts used on this connection. */
  readonly contractStats: ContractStats = { invalidEvents: 0, eventsDroppedValidating: 0 }
  private session!: Session
  private codecImpl!: Codec
  private readonly handlers: HandlerTable
  private readonly options: ConnectionOptions
  private readonly outNames = new OutgoingNames((id, name) => this.session.sendName(id, name))
  private readonly inNames = new IncomingNames()
  /** Our requests awaiting their response, by message id. */
  private readonly pending = new Map<number, OutgoingCall>()
  /** The peer's requests whose handler (or body) is still pending, by message id. */
  private readonly incoming = new Map<number, IncomingCall>()
  /** Topics we subscribed to on this connection (one SUBSCRIBE channel each). */
  private readonly topics: TopicSubscriptions
  /** Topics the peer subscribed to, with their event credit. */
  private readonly peerTopics: PeerSubscriptions
  private messageIds = 0
  /** Handlers of the peer's messages running now (see IncomingHost). */
  activeHandlers = 0
  /** Callers of drained() while the connection is not writable. */
  private readonly drainWaiters = new Waiters()
  /** Largest body sent as a single MSG or REPLY frame (fixed once the hello is done). */
  maxSingleFrameBody = 0
  private closeReason: SwitchboardError | undefined
  private peerGoawayCode: ErrorCode | undefined

  readonly dedupe: { table: DedupeTable; keyOf(messageId: number): string } | undefined
  private readonly identityOf: (conn: RpcConnection) => string
  private readonly admitSubscriber:
    | ((conn: RpcConnection, topic: string) => ErrorCode | undefined)
    | undefined

  private constructor(handlers: HandlerTable, options: ConnectionOptions, extras: ConnectionExtras) {
    super()
    this.handlers = handlers
    this.options = options
    this.topics = new TopicSubscriptions(this)
    const identityOf = extras.identityOf ?? (() => '')
    this.identityOf = identityOf
    this.peerTopics = new PeerSubscriptions(this, extras.subscribers ?? new SubscriberRegistry(options))
    this.admitSubscriber = extras.admitSubscriber
    const table = extras.dedupe
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
    conn.session = await Session.establish(
      transport,
      role,
      options,
      {
        // The session reads no record before establish() has resolved (it holds the ones that
        // came with the hello for a macrotask), so `conn.session` is always set here.
        onChannel: (ch) => conn.onChannel(ch),
        onMessage: (frame) => conn.onMessage(frame),
        onReply: (frame) => conn.pending.get(frame.messageId)?.reply(frame),
        onCancel: (id, code) => conn.incoming.get(id)?.cancel(code),
        onName: (id, name) => conn.inNames.define(id, name),
        onOffer: (offer) => conn.onOffer(offer),
        onGoaway: (_last, code) => {
          conn.peerGoawayCode = code
          conn.emit('goaway', code)
        },
        onClose: (err) => conn.onSessionClose(err),
        onFlushed: () => conn.onFlushed(),
        busy: () => conn.pending.size > 0 || conn.incoming.size > 0,
      },
      extras.protocols,
    )
    const { local, remote } = conn.session.agreement!
    conn.peerProtocols = new PeerProtocols(remote.protocols)
    // Hello-bound names: our table toward the peer starts with its hello's, its toward us with ours.
    conn.outNames.preload(helloNames(remote.protocols))
    conn.inNames.preload(helloNames(local.protocols))
    conn.codecImpl = codecByName(conn.session.agreement!.codec, options.extraCodecs)
    conn.maxSingleFrameBody = Math.max(0, conn.session.maxMessageFrameBytes - MSG_HEADER_ALLOWANCE)
    conn.remoteMaxMessageBytes = conn.session.remoteLimits!.maxMessageBytes
    conn.localMaxMessageBytes = conn.session.localLimits.maxMessageBytes
    extras.onReady?.(conn)
    return conn
  }

  /**
   * A typed client of `protocol` (docs/contracts.md). Throws PROTOCOL_UNSUPPORTED when the peer
   * does not offer it, or offers another major version.
   */
  use<P extends Protocol>(protocol: P, options: ContractOptions = {}): ProtocolClient<P> {
    checkUse(protocol, this)
    return new ContractClient(protocol, this, options.validate !== false)
  }

  /**
   * @internal tells the peer that this side now implements `offer` too (an OFFER frame; a peer
   * that does not know the frame skips it).
   */
  announce(offer: ProtocolOffer): void {
    if (this.closeError !== undefined || this.session.state !== 'open') return
    this.session.sendControl({ type: 'offer', offer })
  }

  private onOffer(offer: ProtocolOffer): void {
    const peer = this.peerProtocols
    if (peer === undefined) return
    if (peer.get(offer.name) === undefined && peer.size >= MAX_PEER_PROTOCOLS)
      throw sbError('PROTOCOL_ERROR', `peer offered more than ${MAX_PEER_PROTOCOLS} protocols`)
    peer.add(offer)
    this.emit('offer', offer.name)
  }

  /** @internal ContractTarget: the peer's offer is known once the connection exists. */
  protocolsKnown(): Promise<void> {
    return Promise.resolve()
  }

  /** Resolves once the peer processed our hello; rejects with its refusal (PAIR_FULL, …). */
  confirmed(): Promise<void> {
    return this.session.confirmed
  }

  // ---- what calls need from their connection -------------------------------------------------

  get codec(): Codec {
    return this.codecImpl
  }

  get peer(): Peer {
    return this
  }

  /** Largest non-streamed body the peer accepts (its hello; fixed once the hello is done). */
  remoteMaxMessageBytes = 0
  /** Largest non-streamed body we accept. */
  localMaxMessageBytes = 0

  nameId(name: string): number {
    return this.outNames.idOf(name)
  }

  sendMessage(msg: OutgoingMessage): void {
    if (this.closeError !== undefined) throw this.closeError
    this.session.sendMessage(msg)
  }

  openChannel(header: OpenHeader): Channel {
    if (this.closeError !== undefined) throw this.closeError
    return this.session.open(header)
  }

  sendReply(frame: ReplyFrame): void {
    this.session.sendControl(frame)
  }

  sendCancel(messageId: number, code: number): void {
    this.session.sendControl({ type: 'cancel', messageId, code })
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
    return this.topics.size > 0
  }

  get sessionEnded(): boolean {
    return this.session.state === 'closed'
  }

  /** True while new calls may start here (open, no GOAWAY received). */
  get canOpen(): boolean {
    return this.session.canOpen
  }

  settled(call: OutgoingCall): void {
    if (this.pending.get(call.messageId) === call) this.pending.delete(call.messageId)
  }

  track(call: IncomingCall): void {
    call.tracked = true
    this.incoming.set(call.messageId, call)
  }

  finished(call: IncomingCall): void {
    call.tracked = false
    if (this.incoming.get(call.messageId) === call) this.incoming.delete(call.messageId)
  }

  handlerFor(method: string): Handler | undefined {
    return this.handlers.get(method) ?? this.handlers.get(ANY_METHOD)
  }

  reportError(err: SwitchboardError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }

  // ---- calls from this side ------------------------------------------------------------------

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
    const sink = new PromiseCallSink()
    sink.promise.catch(() => {})
    const timeout = options.timeout
    if (timeout !== undefined && !validTimeout(timeout)) {
      sink.rejected(sbError('INVALID_ARGUMENT', 'timeout must be a positive number of ms'))
    } else {
      const t = timeout ?? (isByteSource(data) ? undefined : DEFAULT_CALL_TIMEOUT_MS)
      this.startRequest(method, data, t, timeout !== undefined, options, messageId, sink)
    }
    return sink.promise as Promise<T>
  }

  /**
   * @internal request() for a caller that keeps its own promise (link/): `timeoutMs` is already
   * validated and defaulted; exactly one of the sink's methods is called.
   */
  startRequest(
    method: string,
    data: unknown,
    timeoutMs: number | undefined,
    explicitTimeout: boolean,
    options: AttemptOptions,
    messageId: number,
    sink: CallSink,
  ): void {
    const call = new OutgoingCall(this, method, messageId, sink, options.signal)
    if (this.pending.has(messageId)) {
      sink.rejected(sbError('INVALID_ARGUMENT', `message id ${messageId} is already in flight here`))
      return
    }
    this.pending.set(messageId, call)
    call.start(data, timeoutMs, explicitTimeout, options.trace, options.idempotent === true)
  }

  /**
   * One-way message: resolves once it is fully written, or rejects with a code. The library
   * observes the promise itself, so ignoring it never raises unhandledRejection; failures are
   * also emitted as 'sendFailed'.
   */
  send(method: string, data?: unknown, options: SendOptions = {}, messageId?: number): Promise<void> {
    const sink = this.promiseSink(method)
    this.sendWith('send', method, data, options, messageId ?? this.nextMessageId(), sink)
    return sink.promise
  }

  /**
   * Sends an event to the peer if it subscribed to `topic` (else resolves without sending). It
   * resolves once the event is written or queued for the subscriber, and rejects when the
   * subscriber's policy failed it (PUBLISH_TIMEOUT, SLOW_CONSUMER, MESSAGE_TOO_LARGE).
   */
  publish(topic: string, data?: unknown, options: SendOptions = {}, messageId?: number): Promise<void> {
    if (!this.peerTopics.has(topic)) return Promise.resolve()
    const sink = this.promiseSink(topic)
    this.sendWith('publish', topic, data, options, messageId ?? this.nextMessageId(), sink)
    return sink.promise
  }

  /** @internal the registry key of the peer's subscription to `topic`: who, which link, topic. */
  /** @internal PublisherHost: the owner's verdict on the peer subscribing to `topic`. */
  refuseSubscriber(topic: string): ErrorCode | undefined {
    return this.admitSubscriber?.(this, topic)
  }

  subscriberKey(topic: string): string {
    return `${this.identityOf(this)}\0${this.peerLinkId}\0${topic}`
  }

  /** @internal how this side is named in a publisher's reports. */
  get subscriberLabel(): string {
    return this.options.subscriberLabel ?? ''
  }

  /** @internal the subscribers of this connection's owner. */
  get subscribers(): SubscriberRegistry {
    return this.peerTopics.registry
  }

  private promiseSink(name: string): PromiseSendSink {
    const sink = new PromiseSendSink((err) => {
      // Written, then refused unprocessed by the peer's GOAWAY: nobody will send it again.
      // (Written and then cut: it may have run, and send() said so by resolving; not reported.)
      if (lossOf(err)?.written !== true) this.reportSendFailed(err, name)
    })
    sink.promise.catch((err: SwitchboardError) => this.reportSendFailed(err, name))
    return sink
  }

  private reportSendFailed(err: SwitchboardError, name: string): void {
    if (this.listenerCount('sendFailed') > 0) this.emit('sendFailed', err, name)
  }

  /**
   * @internal a one-way message (NOTIFY or EVENT) reporting to `sink`: one MSG frame when it fits
   * and carries no signal, else a one-way channel.
   */
  sendWith(
    oneWay: OneWayKind,
    name: string,
    data: unknown,
    options: AttemptOptions,
    messageId: number,
    sink: SendSink,
  ): void {
    const kind = oneWay === 'send' ? MessageKind.NOTIFY : MessageKind.EVENT
    if (options.signal?.aborted) {
      return sink.failed(sbError('CANCELLED', `'${name}' was cancelled`), {
        kind,
        name,
        value: data,
        messageId,
      })
    }
    let flags = kind
    let bytes: Uint8Array
    if (data instanceof Uint8Array) {
      flags |= BodyFlag.RAW
      bytes = data
    } else {
      try {
        bytes = data === undefined ? EMPTY : this.codec.encode(data)
      } catch (err) {
        return sink.failed(err as SwitchboardError, { kind, name, value: data, messageId })
      }
    }
    if (options.idempotent === true && kind === MessageKind.NOTIFY) flags |= BodyFlag.IDEMPOTENT
    this.sendBody(flags, name, data, bytes, options.signal, messageId, sink)
  }

  private sendBody(
    kind: number,
    name: string,
    value: unknown,
    bytes: Uint8Array,
    signal: AbortSignal | undefined,
    messageId: number,
    sink: SendSink,
  ): void {
    if (this.closeError !== undefined) {
      return sink.failed(lossError(this.closeError, false), { kind, name, value, messageId })
    }
    if (bytes.length > this.remoteMaxMessageBytes) {
      return sink.failed(
        sbError('MESSAGE_TOO_LARGE', `body of ${bytes.length} bytes exceeds the peer's maxMessageBytes`),
        { kind, name, value, messageId },
      )
    }
    if ((kind & KIND_MASK) === MessageKind.EVENT) {
      const stream = this.peerTopics.streamOf(name)
      if (stream === undefined) return sink.written() // nobody subscribed: nothing to deliver
      return stream.offer(kind, bytes, new SinkOutcome(sink, kind, name, value, messageId))
    }
    this.transmit(kind, name, value, bytes, signal, messageId, sink)
  }

  /** @internal writes a one-way message now: one MSG frame, or a channel. */
  transmit(
    kind: number,
    name: string,
    value: unknown,
    bytes: Uint8Array,
    signal: AbortSignal | undefined,
    messageId: number,
    sink: SendSink,
  ): void {
    try {
      if (bytes.length <= this.maxSingleFrameBody && signal === undefined) {
        const msg = new OneWayMessage(kind, this.outNames.idOf(name), messageId, bytes, name, value, sink)
        this.session.sendMessage(msg)
      } else {
        this.oneWayChannel(kind, name, value, bytes, signal, messageId, sink)
      }
    } catch (err) {
      const e = err instanceof SwitchboardError ? err : sbError('INTERNAL', 'send failed', { cause: err })
      // Refused by a session that ended or is going away: nothing was written.
      const lost = this.sessionEnded || e.code === 'GOING_AWAY'
      sink.failed(lost ? lossError(e, false) : e, { kind, name, value, messageId })
    }
  }

  /** A one-way message on its own channel (bigger than a chunk, or cancellable). */
  private oneWayChannel(
    kind: number,
    name: string,
    value: unknown,
    bytes: Uint8Array,
    signal: AbortSignal | undefined,
    messageId: number,
    sink: SendSink,
  ): void {
    const ch = this.openChannel({
      kind,
      method: this.outNames.idOf(name),
      messageId,
      oneWay: true,
      totalSize: bytes.length,
    })
    const onAbort = (): void => {
      ch.reset(wireCodeOf('CANCELLED'))
      sink.failed(sbError('CANCELLED', `'${name}' was cancelled`), { kind, name, value, messageId })
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    ch.bind({
      onData() {},
      onEnd() {},
      onWritable() {},
      onReset: (code) => {
        signal?.removeEventListener('abort', onAbort)
        const err = sbError(codeFromWire(code), `'${name}' was reset before it was fully written`)
        const gone = this.sessionEnded || codeFromWire(code) === 'GOING_AWAY'
        const failure = gone ? lossError(err, ch.openSent && codeFromWire(code) !== 'GOING_AWAY') : err
        sink.failed(failure, { kind, name, value, messageId })
      },
      onSent: () => {
        signal?.removeEventListener('abort', onAbort)
        sink.written()
      },
    })
    ch.write(bytes, true)
  }

  // ---- subscriptions -------------------------------------------------------------------------

  /** Subscribes to the peer's events on `topic`: iterate the result, or pass a callback. */
  subscribe<T = unknown>(
    topic: string,
    options: SubscribeOptions | ((value: T) => void) = {},
  ): Subscription<T> {
    let detach = (): void => {}
    const sub = new Subscription<T>(topic, options, () => detach())
    detach = this.attachSubscriber(topic, sub)
    return sub
  }

  /**
   * @internal delivers `topic`'s events to `sink` (a link's subscription outlives this
   * connection). `window`: events the publisher may send ahead. Returns the detach function.
   */
  attachSubscriber(topic: string, sink: EventSink): () => void {
    return this.topics.attach(topic, sink)
  }

  /** True when the peer subscribed to `topic` on this connection. */
  peerSubscribed(topic: string): boolean {
    return this.peerTopics.has(topic)
  }

  // ---- calls from the peer -------------------------------------------------------------------

  private nameOf(id: number): string {
    const name = this.inNames.nameOf(id)
    // Names are announced before first use, on the same ordered stream: an unknown id is a bug.
    if (name === undefined) throw sbError('PROTOCOL_ERROR', `name id ${id} was never announced`)
    return name
  }

  private onMessage(frame: MsgFrame): void {
    const kind = frame.kind
    switch (kind & KIND_MASK) {
      case MessageKind.REQUEST:
      case MessageKind.NOTIFY:
        return IncomingCall.fromMessage(
          this,
          this.nameOf(frame.method),
          kind,
          frame.messageId,
          frame.deadlineMs,
          frame.trace,
          frame.data,
        )
      case MessageKind.EVENT:
        return this.deliverEvent(this.nameOf(frame.method), kind, frame.data, frame.messageId)
      default:
        throw sbError('PROTOCOL_ERROR', `MSG frame of kind ${kind & KIND_MASK}`)
    }
  }

  /** `seq`: the event's number in its subscription (carried as its message id). */
  private deliverEvent(topic: string, kind: number, data: Uint8Array, seq: number): void {
    const subs = this.topics.receiving(topic)
    if (subs === undefined) return
    let value: unknown
    try {
      value =
        (kind & BodyFlag.RAW) !== 0
          ? keepBytes(data)
          : data.length === 0
            ? undefined
            : this.codec.decode(data)
    } catch (err) {
      return this.reportError(err as SwitchboardError)
    }
    subs.deliver(value, seq)
  }

  private onChannel(ch: Channel): void {
    const kind = ch.header.kind
    switch (kind & KIND_MASK) {
      case MessageKind.REQUEST:
      case MessageKind.NOTIFY:
        return IncomingCall.fromChannel(this, this.nameOf(ch.header.method), ch)
      case MessageKind.EVENT:
        return this.onEventChannel(ch, this.nameOf(ch.header.method))
      case MessageKind.SUBSCRIBE:
        return this.peerTopics.subscribed(this.nameOf(ch.header.method), ch)
      case MessageKind.RESPONSE: {
        const call = this.pending.get(ch.header.messageId)
        if (call !== undefined) return call.responseOn(ch)
        ch.bind(ignoreHandler)
        ch.reset(wireCodeOf('CANCELLED')) // a late response to a call we gave up on
        return
      }
      default:
        throw sbError('PROTOCOL_ERROR', `OPEN of kind ${kind & KIND_MASK}`)
    }
  }

  /** An event bigger than a chunk: gather it, then deliver it like one from a MSG frame. */
  private onEventChannel(ch: Channel, topic: string): void {
    const max = this.localMaxMessageBytes
    if (ch.header.totalSize !== undefined && ch.header.totalSize > max) {
      ch.bind(ignoreHandler)
      ch.reset(wireCodeOf('MESSAGE_TOO_LARGE'))
      return
    }
    const body = new BodyCollector(ch.header.totalSize)
    ch.bind({
      onData: (data, fin) => {
        if (!body.add(data) || body.size > max) {
          ch.reset(wireCodeOf('MESSAGE_TOO_LARGE'))
          return
        }
        ch.consume(data.length)
        if (!fin) return
        const whole = body.finish()
        if (whole !== undefined) this.deliverEvent(topic, ch.header.kind, whole, ch.header.messageId)
      },
      onEnd: () => {},
      onReset: () => {},
      onWritable: () => {},
    })
  }

  // ---- backpressure, lifecycle ---------------------------------------------------------------

  /** False while more than `writableHighWaterBytes` wait to be written; see drained(). */
  get writable(): boolean {
    return this.session.queuedBytes < (this.options.writableHighWaterBytes ?? 1024 * 1024)
  }

  /** Resolves when writable is true again (at once if it is). */
  drained(): Promise<void> {
    if (this.writable || this.session.state === 'closed') return Promise.resolve()
    return this.drainWaiters.wait()
  }

  private onFlushed(): void {
    if (this.drainWaiters.size > 0 && this.writable) this.drainWaiters.wake()
  }

  /** Why the session ended, once it has (set before 'close' is emitted). */
  get closeError(): SwitchboardError | undefined {
    return this.closeReason
  }

  /** The code of the peer's GOAWAY, once one arrived (set before 'goaway' is emitted). */
  get goawayCode(): ErrorCode | undefined {
    return this.peerGoawayCode
  }

  get state(): Session['state'] {
    return this.session.state
  }

  get remote(): string {
    return this.session.transport.remote
  }

  /** For TCP and TLS the remote IP (no port), else undefined: the key of per-source limits. */
  get remoteAddress(): string | undefined {
    return this.session.transport.remoteAddress
  }

  /** The peer's link id (hex): stable across a dialer's reconnects. */
  get peerLinkId(): string {
    return Buffer.from(this.session.agreement!.remote.linkId).toString('hex')
  }

  /** The negotiated security mode: 'none', 'noise-nnpsk0', 'noise-xx', 'noise-xxpsk3', 'noise-ik' or 'noise-nk'. */
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

  /**
   * Graceful: the peer finishes what it started (GOAWAY), then the connection ends. The peer's
   * subscriptions here are reset with GOING_AWAY (their streams wait for it to resume elsewhere)
   * so the close does not wait for channels that only end when the subscriber leaves.
   */
  close(): Promise<void> {
    this.peerTopics.goingAway()
    return this.session.close()
  }

  /** At once: everything pending fails with `err` (default SESSION_CLOSED). */
  abort(err?: SwitchboardError): void {
    this.session.abort(err)
  }

  /**
   * Turns the peer away: it gets a GOAWAY carrying `code` (e.g. PAIR_FULL, GOING_AWAY) and the
   * connection closes. Unlike abort(), the peer learns why.
   */
  turnAway(code: ErrorCode, message?: string): void {
    this.session.closeWithGoaway(sbError(code, message))
  }

  get closed(): Promise<void> {
    return this.session.closed
  }

  private onSessionClose(err: SwitchboardError | undefined): void {
    const reason = err ?? sbError('SESSION_CLOSED')
    this.closeReason = reason
    this.sweep.stop()
    const code = reason.wireCode === 0 ? wireCodeOf('CONNECTION_LOST') : reason.wireCode
    // Requests the peer counted but never answered: they may have run.
    for (const call of [...this.pending.values()]) call.onLost(code)
    this.pending.clear()
    for (const call of [...this.incoming.values()]) call.cancel(code)
    this.incoming.clear()
    this.topics.closeAll(reason)
    this.peerTopics.closeAll()
    this.drainWaiters.wake()
    this.emit('close', err)
  }

  getStats(): ConnectionStats {
    return {
      ...this.session.getStats(),
      pendingCalls: this.pending.size,
      activeHandlers: this.activeHandlers,
      subscriptions: this.topics.subscriberCount,
      eventsWaiting: this.peerTopics.waitingCount,
      invalidEvents: this.contractStats.invalidEvents,
      eventsDroppedValidating: this.contractStats.eventsDroppedValidating,
    }
  }
}

const ignoreHandler = { onData() {}, onEnd() {}, onReset() {}, onWritable() {} }

/**
 * What listen() returns: accepts connections, serves the handlers registered with handle(),
 * fans published events out to subscribed clients, and closes gracefully (GOAWAY, drain).
 */
import { EventEmitter } from 'node:events'
import { type ErrorCode, SwitchboardError, sbError } from '../errors.ts'
import { RpcConnection } from '../rpc/connection.ts'
import type { ContractHandlers, ContractOptions, Protocol } from '../rpc/contract.ts'
import type { ProtocolPublisher } from '../rpc/contract-client.ts'
import { ContractPublisher, ContractRegistry } from '../rpc/contract-registry.ts'
import { DedupeTable } from '../rpc/dedupe.ts'
import { type PublishReport, publishToAll } from '../rpc/fanout.ts'
import { SubscriberRegistry } from '../rpc/subscriber-registry.ts'
import type { Handler, SendOptions } from '../rpc/types.ts'
import { defaultHandshakeLimits, HandshakeGate } from '../session/handshake-limits.ts'
import { refuseHandshake } from '../session/session.ts'
import { listen as listenTransport } from '../transport/listen.ts'
import { asksForHandshake } from '../transport/security-gate.ts'
import type { Transport, TransportListener } from '../transport/types.ts'
import type { ListenOptions } from './options.ts'
import { ServerClient } from './server-client.ts'

/**
 * The authenticated identity of a connection's peer: its static public key (hex) in keys mode.
 * Without keys (and not anonymous) nothing tells two peers apart beyond what they present, so the identity is ''
 * and a client is keyed by its link id alone: with a shared secret, every holder of the secret
 * is one party (docs/security.md). Keying by identity is what stops a peer with another key
 * from presenting someone else's link id and receiving their calls or stored responses.
 */
export function peerIdentity(conn: RpcConnection): string {
  const key = conn.remotePublicKey
  if (key !== undefined) return Buffer.from(key).toString('hex')
  // A keyless dialer (NK) proved nothing, and anyone may be one: if they were all one party, a
  // stranger who saw a link id in a plain-text hello could take over that client's handle. Each
  // such connection is its own party instead (its handshake hash), at the price of what a client
  // handle keeps across reconnects (stored responses, events held for a subscriber).
  if (conn.security === 'noise-nk') return `anonymous:${Buffer.from(conn.handshakeHash!).toString('hex')}`
  return ''
}

/** A server's events. */
export interface ServerEvents {
  /** A client finished its hello and is served. */
  connection: [conn: RpcConnection]
  /** A served client's connection ended. */
  disconnect: [conn: RpcConnection]
  /** A handshake or connection error (emitted only while someone listens). */
  error: [err: SwitchboardError]
  /** close() finished. */
  close: []
}

export interface ServerStats {
  connections: number
  /** Connections in the hello exchange. */
  handshaking: number
  clients: number
  dedupeIds: number
  /** Subscriptions of every client, including those waiting for their client to reconnect. */
  subscribers: number
  /** Events numbered for a subscriber and not yet sent (waiting for its credit or its return). */
  eventsWaiting: number
  /** Events dropped under subscribers' policies, in total. */
  eventsDropped: number
  /** Subscriptions ended by PUBLISH_TIMEOUT or SLOW_CONSUMER, in total. */
  subscriptionsFailed: number
}

export class Server extends EventEmitter<ServerEvents> {
  /** The resolved address (e.g. tcp://127.0.0.1:34567 when port 0 was asked). */
  address = ''
  /** Open connections. */
  readonly connections = new Set<RpcConnection>()
  /** @internal pair() shares its link's handler table. */
  handlers = new Map<string, Handler>()
  /** @internal the protocols this server implements (implement()); pair() shares its link's. */
  contracts = new ContractRegistry(() => this.handlers)
  /** Idempotent calls of every client, by (identity, link id, message id). */
  readonly dedupe: DedupeTable
  /** Every client's subscriptions, by (identity, link id, topic): they outlive connections. */
  private readonly subscribers: SubscriberRegistry
  /** Each client by (identity, link id): outlives its connections (see ServerClient). */
  private readonly clients = new Map<string, ServerClient>()
  private readonly lingerTimers = new Map<string, NodeJS.Timeout>()
  /** Most connections seen in the hello exchange at once. */
  maxHandshakingSeen = 0
  private listener: TransportListener | undefined
  private readonly options: ListenOptions
  private closing: Promise<void> | undefined
  /** Bounds handshakes in progress, globally and per source IP (HANDSHAKE_BUSY beyond). */
  private readonly gate: HandshakeGate
  private subscriberGate: ((conn: RpcConnection, topic: string) => ErrorCode | undefined) | undefined

  /** @internal use listen(). */
  constructor(options: ListenOptions) {
    super()
    this.options = options
    this.gate = new HandshakeGate(options)
    this.dedupe = new DedupeTable(options.dedupeWindow)
    this.subscribers = new SubscriberRegistry(options)
  }

  /** The handle of the client on `conn`: stays valid when that client reconnects. */
  clientOf(conn: RpcConnection): ServerClient {
    const key = `${peerIdentity(conn)}\0${conn.peerLinkId}`
    let client = this.clients.get(key)
    if (client === undefined) {
      client = new ServerClient(peerIdentity(conn), conn.peerLinkId)
      this.clients.set(key, client)
    }
    return client
  }

  private track(conn: RpcConnection): void {
    const key = `${peerIdentity(conn)}\0${conn.peerLinkId}`
    const client = this.clientOf(conn)
    clearTimeout(this.lingerTimers.get(key))
    this.lingerTimers.delete(key)
    client.attach(conn)
    conn.once('close', () => {
      client.detach(conn)
      if (client.connections.size > 0 || this.closing !== undefined) return
      const timer = setTimeout(() => {
        this.lingerTimers.delete(key)
        this.clients.delete(key)
        client.end(sbError('CONNECTION_LOST', `client ${client.linkId} did not come back`))
      }, this.options.clientLingerMs ?? 30_000)
      timer.unref()
      this.lingerTimers.set(key, timer)
    })
  }

  /** @internal */
  async start(address: string): Promise<void> {
    const options = { ...this.options, admitTls: (source: string | undefined) => this.gate.enter(source) }
    this.listener = await listenTransport(address, options, (t) => this.accept(t))
    this.address = this.listener.address
  }

  /**
   * @internal Asked whenever a client subscribes to a topic: a code refuses the subscription (its
   * `ready` rejects with it). The daemon refuses clients that have not logged in.
   */
  gateSubscribers(gate: (conn: RpcConnection, topic: string) => ErrorCode | undefined): void {
    this.subscriberGate = gate
  }

  /** Registers the handler for `method`; every connection (present and future) uses it. */
  handle<In = unknown, Out = unknown>(method: string, handler: Handler<In, Out>): this {
    this.handlers.set(method, handler as Handler)
    return this
  }

  /**
   * Serves `protocol` with typed `handlers` on every connection, present and future
   * (docs/contracts.md): inputs and results are validated with its schemas unless
   * `validate: false`. Its name and version go into every hello; connections already open learn
   * it from an OFFER frame. Returns the publisher of the protocol's events.
   */
  implement<P extends Protocol>(
    protocol: P,
    handlers: ContractHandlers<P>,
    options: ContractOptions = {},
  ): ProtocolPublisher<P, PublishReport> {
    const offer = this.contracts.implement(protocol, handlers, options)
    for (const conn of this.connections) conn.announce(offer)
    return new ContractPublisher(protocol, (topic, data, opts) => this.publish(topic, data, opts))
  }

  /**
   * @internal Serves an already-open transport as if this server had accepted it (a relayed
   * connection that peer/ received as a call). Such a path is not an owner-only unix socket, so
   * the server must run a handshake (a secret or keys) unless it was told `insecure`; otherwise
   * the transport is aborted and INSECURE_TRANSPORT thrown. The handshake limits apply as to any
   * accepted connection.
   */
  adopt(transport: Transport): void {
    if (!asksForHandshake(this.options, 'listener') && this.options.insecure !== true) {
      const err = sbError(
        'INSECURE_TRANSPORT',
        `${transport.remote}: a relayed connection needs a secret or keys on this server (or insecure: true)`,
      )
      transport.abort(err)
      throw err
    }
    this.accept(transport)
  }

  private accept(transport: Transport): void {
    if (this.closing !== undefined) {
      // Refused in the hello slot, coded: the dialer sees GOING_AWAY (it may retry elsewhere).
      refuseHandshake(transport, sbError('GOING_AWAY', 'server is closing'))
      return
    }
    const max = this.options.maxConnections ?? defaultHandshakeLimits.maxConnections
    const admitted = this.gate.enter(transport.remoteAddress)
    if (admitted instanceof SwitchboardError) {
      refuseHandshake(transport, admitted)
      this.report(admitted)
      return
    }
    this.maxHandshakingSeen = Math.max(this.maxHandshakingSeen, this.gate.count)
    // onReady runs before the session reads the records that came with the hello (it holds them
    // for a macrotask), so a handler of the first call already sees this connection in `connections` (and 'connection' fired).
    const offered = this.contracts.offers()
    RpcConnection.open(transport, 'listener', this.options, this.handlers, {
      dedupe: this.dedupe,
      subscribers: this.subscribers,
      identityOf: peerIdentity,
      protocols: offered,
      admitSubscriber: (conn, topic) => this.subscriberGate?.(conn, topic),
      onReady: (conn) => {
        admitted()
        if (this.closing !== undefined) return conn.turnAway('GOING_AWAY', 'server is closing')
        if (this.connections.size >= max) {
          return conn.turnAway(
            max === 1 ? 'PAIR_FULL' : 'REFUSED',
            `server accepts at most ${max} connection(s)`,
          )
        }
        this.connections.add(conn)
        // Implemented while this hello was on its way: announced now.
        for (const offer of this.contracts.offers()) if (!offered.includes(offer)) conn.announce(offer)
        this.track(conn)
        conn.on('error', (err) => this.report(err))
        conn.on('close', () => {
          this.connections.delete(conn)
          this.emit('disconnect', conn)
        })
        this.emit('connection', conn)
      },
    }).then(
      () => {},
      (err: SwitchboardError) => {
        admitted()
        this.report(err)
      },
    )
  }

  private report(err: SwitchboardError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }

  /**
   * Sends an event on `topic` to every subscriber (each client's subscription outlives its
   * connection: one that reconnects gets what it missed). Resolves with the report once each
   * copy is delivered, dropped by its subscriber's policy, or failed; the value is encoded once
   * per codec in use, not once per subscriber.
   */
  publish(topic: string, data?: unknown, options: SendOptions = {}): Promise<PublishReport> {
    return publishToAll(this.subscribers, topic, data, options.signal)
  }

  /**
   * @internal the labels (subscriberLabel) of `topic`'s subscribers, attached or waiting to
   * resume: a joined peer learns from them which peers' subscriptions reached it.
   */
  subscriberLabels(topic: string): string[] {
    return [...(this.subscribers.subscribersOf(topic) ?? [])].map((s) => s.label)
  }

  /** @internal calls `listener` whenever a subscription arrives; returns what stops that. */
  onSubscribed(listener: () => void): () => void {
    this.subscribers.on('subscribed', listener)
    return () => this.subscribers.off('subscribed', listener)
  }

  /** @internal how long a publish waits for a subscriber (the publishTimeout option), ms. */
  get publishTimeoutMs(): number {
    return this.subscribers.publishTimeoutMs
  }

  /** @internal ends, without a grace period, the subscriptions whose label `gone` matches. */
  forgetSubscribers(gone: (label: string) => boolean): void {
    this.subscribers.forget((stream) => gone(stream.label))
  }

  /**
   * Stops accepting, tells every client to go away (GOAWAY with the last request it processed),
   * lets in-flight work finish (up to closeTimeoutMs), then resolves.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.listener?.close()
      for (const t of this.lingerTimers.values()) clearTimeout(t)
      this.lingerTimers.clear()
      for (const c of this.clients.values()) c.end(sbError('SESSION_CLOSED', 'server closed'))
      this.clients.clear()
      this.subscribers.closeAll()
      await Promise.allSettled([...this.connections].map((c) => c.close()))
      this.emit('close')
    })()
    return this.closing
  }

  getStats(): ServerStats {
    return {
      subscribers: this.subscribers.size,
      eventsWaiting: this.subscribers.eventsWaiting,
      eventsDropped: this.subscribers.eventsDropped,
      subscriptionsFailed: this.subscribers.subscriptionsFailed,
      connections: this.connections.size,
      handshaking: this.gate.count,
      clients: this.clients.size,
      dedupeIds: this.dedupe.getStats().ids,
    }
  }
}

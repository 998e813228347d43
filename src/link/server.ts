/**
 * What listen() returns: accepts connections, serves the handlers registered with handle(),
 * fans published events out to subscribed clients, and closes gracefully (GOAWAY, drain).
 */
import { EventEmitter } from 'node:events'
import { SwitchboardError, sbError } from '../errors.ts'
import { RpcConnection } from '../rpc/connection.ts'
import type { Handler, SendOptions } from '../rpc/types.ts'
import { HandshakeGate } from '../session/handshake-limits.ts'
import { refuseHandshake } from '../session/session.ts'
import { listen as listenTransport } from '../transport/listen.ts'
import type { Transport, TransportListener } from '../transport/types.ts'
import type { ListenOptions } from './options.ts'

export type ServerConnection = RpcConnection

/** A server's events. */
export interface ServerEvents {
  /** A client finished its hello and is served. */
  connection: [conn: ServerConnection]
  /** A served client's connection ended. */
  disconnect: [conn: ServerConnection]
  /** A handshake or connection error (emitted only while someone listens). */
  error: [err: SwitchboardError]
  /** close() finished. */
  close: []
}

export class Server extends EventEmitter<ServerEvents> {
  /** The resolved address (e.g. tcp://127.0.0.1:34567 when port 0 was asked). */
  address = ''
  /** Open connections. */
  readonly connections = new Set<ServerConnection>()
  private readonly handlers = new Map<string, Handler>()
  private listener: TransportListener | undefined
  private readonly options: ListenOptions
  private closing: Promise<void> | undefined
  /** Bounds handshakes in progress, globally and per source IP (HANDSHAKE_BUSY beyond). */
  private readonly gate: HandshakeGate

  /** @internal use listen(). */
  constructor(options: ListenOptions) {
    super()
    this.options = options
    this.gate = new HandshakeGate(options)
  }

  /** @internal */
  async start(address: string): Promise<void> {
    this.listener = await listenTransport(address, this.options, (t) => this.accept(t))
    this.address = this.listener.address
  }

  /** Registers the handler for `method`; every connection (present and future) uses it. */
  handle<In = unknown, Out = unknown>(method: string, handler: Handler<In, Out>): this {
    this.handlers.set(method, handler as Handler)
    return this
  }

  private accept(transport: Transport): void {
    if (this.closing !== undefined) return transport.abort()
    const max = this.options.maxConnections ?? 1024
    const admitted = this.gate.enter(transport.remoteAddress)
    if (admitted instanceof SwitchboardError) {
      refuseHandshake(transport, admitted)
      this.report(admitted)
      return
    }
    RpcConnection.open(transport, 'listener', this.options, this.handlers).then(
      (conn) => {
        admitted()
        if (this.closing !== undefined) return conn.abort(sbError('GOING_AWAY', 'server is closing'))
        if (this.connections.size >= max) {
          return conn.refuse(
            max === 1 ? 'PAIR_FULL' : 'REFUSED',
            `server accepts at most ${max} connection(s)`,
          )
        }
        this.connections.add(conn)
        conn.on('error', (err) => this.report(err))
        conn.on('close', () => {
          this.connections.delete(conn)
          this.emit('disconnect', conn)
        })
        this.emit('connection', conn)
      },
      (err: SwitchboardError) => {
        admitted()
        this.report(err)
      },
    )
  }

  private report(err: SwitchboardError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }

  /** Sends an event on `topic` to every connection subscribed to it; resolves when all are written. */
  async publish(topic: string, data?: unknown, options: SendOptions = {}): Promise<void> {
    const sends: Promise<void>[] = []
    for (const conn of this.connections)
      if (conn.peerSubscribed(topic)) sends.push(conn.publish(topic, data, options))
    await Promise.allSettled(sends)
  }

  /**
   * Stops accepting, tells every client to go away (GOAWAY with the last request it processed),
   * lets in-flight work finish (up to closeTimeoutMs), then resolves.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.listener?.close()
      await Promise.allSettled([...this.connections].map((c) => c.close()))
      this.emit('close')
    })()
    return this.closing
  }

  getStats(): { connections: number; handshaking: number } {
    return { connections: this.connections.size, handshaking: this.gate.count }
  }
}

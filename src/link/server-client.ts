/**
 * The server's handle of one client, keyed by (identity, link id): the client's reconnects
 * present the same link id, so calls and events the server makes through this handle go to
 * whichever connection of that client is up, and wait (under their deadline) while none is.
 */
import { performance } from 'node:perf_hooks'
import { type SwitchboardError, sbError } from '../errors.ts'
import type { RpcConnection } from '../rpc/connection.ts'
import { DEFAULT_CALL_TIMEOUT_MS } from '../rpc/defaults.ts'
import type { RequestOptions, SendOptions } from '../rpc/types.ts'

interface Waiter {
  resolve(conn: RpcConnection): void
  reject(err: SwitchboardError): void
}

export class ServerClient {
  /** Hex link id the client presents in its hello. */
  readonly linkId: string
  /** Authenticated identity: the client's public key (hex) in keys mode, else ''. */
  readonly identity: string
  readonly connections = new Set<RpcConnection>()
  private waiters: Waiter[] = []
  private gone: SwitchboardError | undefined

  constructor(identity: string, linkId: string) {
    this.identity = identity
    this.linkId = linkId
  }

  /** @internal */
  attach(conn: RpcConnection): void {
    this.connections.add(conn)
    for (const w of this.waiters.splice(0)) w.resolve(conn)
  }

  /** @internal */
  detach(conn: RpcConnection): void {
    this.connections.delete(conn)
  }

  /** @internal the server closed or forgot this client. */
  end(err: SwitchboardError): void {
    this.gone = err
    for (const w of this.waiters.splice(0)) w.reject(err)
  }

  private live(): RpcConnection | undefined {
    for (const c of this.connections) if (c.canOpen) return c
    return undefined
  }

  private connection(timeoutMs: number, signal: AbortSignal | undefined): Promise<RpcConnection> {
    const c = this.live()
    if (c !== undefined) return Promise.resolve(c)
    if (this.gone !== undefined) return Promise.reject(this.gone)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w)
        reject(sbError('DEADLINE', `client ${this.linkId} did not come back within ${timeoutMs} ms`))
      }, timeoutMs)
      timer.unref()
      const onAbort = (): void => {
        clearTimeout(timer)
        this.waiters = this.waiters.filter((x) => x !== w)
        reject(sbError('CANCELLED', 'cancelled while waiting for the client'))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      const w: Waiter = {
        resolve: (conn) => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          resolve(conn)
        },
        reject: (err) => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          reject(err)
        },
      }
      this.waiters.push(w)
    })
  }

  /** Calls `method` on the client, on its current connection (waiting for it to come back). */
  async request<T = unknown>(method: string, data?: unknown, options: RequestOptions = {}): Promise<T> {
    const timeout = options.timeout ?? DEFAULT_CALL_TIMEOUT_MS
    const started = performance.now()
    const conn = await this.connection(timeout, options.signal)
    const left = Math.max(1, Math.ceil(timeout - (performance.now() - started)))
    return conn.request<T>(method, data, { ...options, timeout: left })
  }

  /** One-way message to the client. */
  async send(method: string, data?: unknown, options: SendOptions = {}): Promise<void> {
    const conn = await this.connection(DEFAULT_CALL_TIMEOUT_MS, options.signal)
    return conn.send(method, data, options)
  }
}

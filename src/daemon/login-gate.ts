/**
 * Logging in is the last step of the handshake with a daemon that has auth configured: until a
 * connection has proven a principal (cookie, password or a known key) it holds a handshake slot
 * (the listener's `maxHandshaking`, `maxHandshakingPerSource`: more are turned away with
 * HANDSHAKE_BUSY), it must log in within `handshakeTimeoutMs` of being served (else it is turned
 * away with HANDSHAKE_TIMEOUT), and it may fail at most `maxFailures` logins (then AUTH_FAILED).
 * So a password guesser pays the back-off's waits inside one bounded deadline per connection and
 * cannot hold more connections in that state than the handshake limits allow.
 */
import type { RpcConnection } from '../rpc/connection.ts'
import { defaultHandshakeLimits, HandshakeGate } from '../session/handshake-limits.ts'

export interface LoginGateOptions {
  /** A connection must log in within this long after it is served, ms. Default 5,000. */
  readonly timeoutMs?: number | undefined
  /** Connections not logged in at once; default the listener's maxHandshaking (64). */
  readonly maxHandshaking?: number | undefined
  /** Of them from one remote IP; default maxHandshakingPerSource (8). */
  readonly maxHandshakingPerSource?: number | undefined
  /** Failed logins one connection may make; the next failure closes it. Default 3. */
  readonly maxFailures?: number | undefined
}

interface Pending {
  readonly release: () => void
  readonly timer: NodeJS.Timeout
  failures: number
}

export class LoginGate {
  readonly timeoutMs: number
  readonly maxFailures: number
  readonly #gate: HandshakeGate
  readonly #pending = new Map<RpcConnection, Pending>()
  readonly #log: (event: string, fields: Record<string, unknown>) => void

  constructor(options: LoginGateOptions, log: (event: string, fields: Record<string, unknown>) => void) {
    this.timeoutMs = options.timeoutMs ?? defaultHandshakeLimits.handshakeTimeoutMs
    this.maxFailures = options.maxFailures ?? 3
    this.#gate = new HandshakeGate(options)
    this.#log = log
  }

  /** Connections waiting to log in now. */
  get waiting(): number {
    return this.#pending.size
  }

  /** A served connection that has not logged in: admitted to wait for its login, or turned away. */
  admit(conn: RpcConnection): void {
    const release = this.#gate.enter(conn.remoteAddress)
    if (release instanceof Error) {
      this.#turnAway(conn, 'HANDSHAKE_BUSY', `${release.message}, counting connections not logged in`)
      return
    }
    const timer = setTimeout(() => {
      this.#turnAway(conn, 'HANDSHAKE_TIMEOUT', `no login within ${this.timeoutMs} ms`)
    }, this.timeoutMs)
    timer.unref()
    this.#pending.set(conn, { release, timer, failures: 0 })
    conn.once('close', () => this.#end(conn))
  }

  /** The connection proved a principal: it leaves the gate. */
  loggedIn(conn: RpcConnection): void {
    this.#end(conn)
  }

  /** A login on `conn` failed; the last one allowed closes it (after its answer is sent). */
  failed(conn: RpcConnection): void {
    const p = this.#pending.get(conn)
    if (p === undefined) return
    p.failures++
    if (p.failures < this.maxFailures) return
    // After the failed call's answer has gone out, so the client learns AUTH_FAILED for the call
    // too: the answer is queued in this turn's microtasks and the session flushes it in a
    // setImmediate queued after this one, so the turn-away waits one more check phase.
    const why = `${p.failures} failed logins on this connection`
    setImmediate(() => setImmediate(() => this.#turnAway(conn, 'AUTH_FAILED', why)))
  }

  /** The daemon is stopping. */
  clear(): void {
    for (const conn of [...this.#pending.keys()]) this.#end(conn)
  }

  #end(conn: RpcConnection): void {
    const p = this.#pending.get(conn)
    if (p === undefined) return
    this.#pending.delete(conn)
    clearTimeout(p.timer)
    p.release()
  }

  #turnAway(
    conn: RpcConnection,
    code: 'HANDSHAKE_BUSY' | 'HANDSHAKE_TIMEOUT' | 'AUTH_FAILED',
    why: string,
  ): void {
    this.#end(conn)
    this.#log('login-refused', { code, source: conn.remoteAddress ?? 'local', message: why })
    conn.turnAway(code, why)
  }
}

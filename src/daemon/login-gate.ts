/**
 * Logging in is the last step of the handshake with a daemon that has auth configured: until a
 * connection has proven a principal (cookie, password or a known key) it holds a handshake slot
 * (the listener's `maxHandshaking`, `maxHandshakingPerSource`: more are turned away with
 * HANDSHAKE_BUSY), it must log in within `handshakeTimeoutMs` of being served (else it is turned
 * away with HANDSHAKE_TIMEOUT), and it may fail at most `maxFailures` logins: after that every
 * login on it is answered AUTH_FAILED at once (no password is checked) and the deadline closes it
 * with AUTH_FAILED. Closing it at the last failure instead could overtake that failure's own
 * answer, which is still being written.
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
  timer: NodeJS.Timeout | undefined
  failures: number
  /** Why it may not try again (maxFailures reached). */
  spent: string | undefined
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
    const p: Pending = { release, timer: undefined, failures: 0, spent: undefined }
    p.timer = setTimeout(() => {
      if (p.spent !== undefined) this.#turnAway(conn, 'AUTH_FAILED', p.spent)
      else this.#turnAway(conn, 'HANDSHAKE_TIMEOUT', `no login within ${this.timeoutMs} ms`)
    }, this.timeoutMs)
    p.timer.unref()
    this.#pending.set(conn, p)
    conn.once('close', () => this.#end(conn))
  }

  /** The connection proved a principal: it leaves the gate. */
  loggedIn(conn: RpcConnection): void {
    this.#end(conn)
  }

  /** A login on `conn` failed; after the last one allowed, it gets no more tries. */
  failed(conn: RpcConnection): void {
    const p = this.#pending.get(conn)
    if (p === undefined) return
    p.failures++
    if (p.failures >= this.maxFailures) p.spent = `${p.failures} failed logins on this connection`
  }

  /** May `conn` try no more logins? */
  spent(conn: RpcConnection): boolean {
    return this.#pending.get(conn)?.spent !== undefined
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

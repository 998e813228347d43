/**
 * The connections of one link (a pool): dials through an injected connector, rebuilds after
 * failures with backoff, grows while messages wait and shrinks after idling. It never runs more
 * than `maxPendingConnects` dials at once, and spreads connections over several addresses.
 * The link decides what runs where; the pool only says which connections are up.
 */
import { performance } from 'node:perf_hooks'
import { type ErrorCode, type SwitchboardError, sbError } from '../errors.ts'
import type { RpcConnection } from '../rpc/connection.ts'
import { backoffDelay } from './backoff.ts'
import type { LinkTuning } from './defaults.ts'

/** Opens one connection to `address` (dial + hello), or rejects coded. */
export type Acquire = (address: string, signal: AbortSignal) => Promise<RpcConnection>

export interface PoolEvents {
  /** A connection is up (the first one, or one more). */
  up(conn: RpcConnection): void
  /** A connection ended (the pool has already dropped it). */
  down(conn: RpcConnection, err: SwitchboardError | undefined): void
  /** No connection could be made and the pool stopped trying (reconnect off, retries used up, refused). */
  gaveUp(err: SwitchboardError): void
  /** True while messages wait or are in flight. */
  hasWork(): boolean
}

/** Refusals a retry cannot fix: the link closes instead of dialing again. */
const FINAL: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'PAIR_FULL',
  'REFUSED',
  'VERSION_MISMATCH',
  'NEGOTIATION_FAILED',
  'HANDSHAKE_FAILED',
  'HELLO_TOO_LARGE',
  'INSECURE_TRANSPORT',
  'NOT_PERMITTED',
  'ADDRESS_INVALID',
  'SCHEME_UNSUPPORTED',
  'PEER_NAME_UNSUPPORTED',
  'NOT_A_SOCKET',
  'INVALID_ARGUMENT',
  // Security: the same secret, key and allow list give the same answer on every retry.
  'AUTH_FAILED',
  'PEER_NOT_ALLOWED',
  'KEY_FILE_INSECURE',
  'KEY_FILE_INVALID',
])

/** The peer's GOAWAY code when it refused us for good (PAIR_FULL, REFUSED, …), as an error. */
function refusalOf(conn: RpcConnection): SwitchboardError | undefined {
  const code = conn.goawayCode
  if (code === undefined || !FINAL.has(code)) return undefined
  return sbError(code, `refused by the peer (${code})`)
}

function lostEarly(): SwitchboardError {
  return sbError('CONNECTION_LOST', 'connection closed during the hello exchange')
}

interface Member {
  conn: RpcConnection
  address: string
  idleSince: number
  /** Calls started here; shrink() compares it between ticks (cheaper than a clock read per call). */
  picks: number
  picksSeen: number
}

export class Pool {
  private readonly members = new Map<RpcConnection, Member>()
  private readonly dialsTo = new Map<string, number>()
  private dialing = 0
  private failures = 0
  private retryTimer: NodeJS.Timeout | undefined
  private idleTimer: NodeJS.Timeout | undefined
  private readonly controller = new AbortController()
  private stopped = false
  /** The most dials seen in progress at once (tests assert it never passes maxPendingConnects). */
  maxDialingSeen = 0
  /** Dials started over the pool's life. */
  dials = 0

  constructor(
    private readonly addresses: readonly string[],
    private readonly tuning: LinkTuning,
    private readonly acquire: Acquire,
    private readonly events: PoolEvents,
  ) {}

  /** Connections that may take new calls (open, no GOAWAY received). */
  usable(): RpcConnection[] {
    const out: RpcConnection[] = []
    for (const m of this.members.values()) if (m.conn.canOpen) out.push(m.conn)
    return out
  }

  /** True when some connection may take new calls. */
  hasUsable(): boolean {
    for (const m of this.members.values()) if (m.conn.canOpen) return true
    return false
  }

  /**
   * The usable connection with the fewest calls waiting (counting `assigned`, calls about to
   * start there), or undefined.
   */
  pick(assigned?: ReadonlyMap<RpcConnection, number>): RpcConnection | undefined {
    // Ties go to the first member: one-way traffic, which leaves no pending count, stays on one
    // connection and so arrives in the order it was sent (the pool grows on requests only).
    let best: Member | undefined
    let bestLoad = Number.POSITIVE_INFINITY
    for (const m of this.members.values()) {
      if (!m.conn.canOpen) continue
      const load = m.conn.pendingCount + (assigned?.get(m.conn) ?? 0)
      if (load < bestLoad) {
        best = m
        bestLoad = load
        if (load === 0) break
      }
    }
    if (best === undefined) return undefined
    best.picks++
    return best.conn
  }

  get size(): number {
    return this.members.size
  }

  get pendingDials(): number {
    return this.dialing
  }

  /** Makes sure a connection is up or on its way (the first dial of a link, or after a loss). */
  ensure(): void {
    if (this.stopped || this.hasUsable() || this.dialing > 0 || this.retryTimer) return
    this.dial()
  }

  /** `waiting` messages wait (queued + in flight): adds a connection when each has too many. */
  grow(waiting: number): void {
    if (waiting <= this.tuning.poolGrowThreshold || this.stopped || this.members.size === 0) return
    const planned = this.usable().length + this.dialing
    if (planned >= this.tuning.poolMax || this.dialing >= this.tuning.maxPendingConnects) return
    if (waiting > this.tuning.poolGrowThreshold * planned) this.dial()
  }

  private dial(): void {
    const address = this.leastUsedAddress()
    this.dialing++
    this.dials++
    this.maxDialingSeen = Math.max(this.maxDialingSeen, this.dialing)
    this.dialsTo.set(address, (this.dialsTo.get(address) ?? 0) + 1)
    const done = (): void => {
      this.dialing--
      this.dialsTo.set(address, (this.dialsTo.get(address) ?? 1) - 1)
    }
    this.acquire(address, this.controller.signal).then(
      (conn) => {
        done()
        if (this.stopped) return conn.abort(sbError('SESSION_CLOSED', 'link closed'))
        // Refused or closed before we could watch it (it all came in the hello's read).
        if (conn.sessionEnded) return this.dialFailed(refusalOf(conn) ?? conn.closeError ?? lostEarly())
        this.failures = 0
        this.add(conn, address)
      },
      (err: SwitchboardError) => {
        done()
        if (this.stopped) return
        this.dialFailed(err)
      },
    )
  }

  private dialFailed(err: SwitchboardError): void {
    // A failed extra connection is not retried: the ones that are up carry the load.
    if (this.hasUsable()) return
    this.failures++
    if (!this.tuning.reconnect || FINAL.has(err.code) || this.failures > this.tuning.maxRetries) {
      this.events.gaveUp(err)
      return
    }
    if (this.dialing > 0) return // another dial may still succeed
    const t = this.tuning
    const delay = backoffDelay(this.failures - 1, t.backoffInitialMs, t.backoffMaxMs, t.backoffJitter)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      this.ensure()
    }, delay)
    // An idle link waiting to reconnect does not keep the process alive; one with work does.
    if (!this.events.hasWork()) this.retryTimer.unref()
  }

  /** Work arrived: a pending reconnect now keeps the process alive. */
  workArrived(): void {
    this.retryTimer?.ref()
  }

  private leastUsedAddress(): string {
    let best = this.addresses[0]!
    let bestCount = Number.POSITIVE_INFINITY
    for (const a of this.addresses) {
      let n = this.dialsTo.get(a) ?? 0
      for (const m of this.members.values()) if (m.address === a) n++
      if (n < bestCount) {
        best = a
        bestCount = n
      }
    }
    return best
  }

  private add(conn: RpcConnection, address: string): void {
    this.members.set(conn, { conn, address, idleSince: performance.now(), picks: 0, picksSeen: 0 })
    conn.on('close', (err: SwitchboardError | undefined) => {
      this.members.delete(conn)
      const refusal = refusalOf(conn)
      if (refusal !== undefined && !this.stopped) {
        this.events.gaveUp(refusal)
        return
      }
      this.events.down(conn, err)
      if (this.members.size <= 1) this.stopIdleTimer()
    })
    conn.on('goaway', () => {
      // Draining: finishes what it has, takes nothing new. Rebuild beside it if it was the last.
      if (refusalOf(conn) === undefined && !this.hasUsable()) this.ensure()
    })
    if (this.members.size > 1) this.startIdleTimer()
    this.events.up(conn)
  }

  private startIdleTimer(): void {
    if (this.idleTimer !== undefined) return
    const every = Math.max(10, Math.min(1000, this.tuning.poolIdleMs / 4))
    this.idleTimer = setInterval(() => this.shrink(), every)
    this.idleTimer.unref()
  }

  private stopIdleTimer(): void {
    clearInterval(this.idleTimer)
    this.idleTimer = undefined
  }

  /** Closes connections beyond the first that carried nothing for poolIdleMs. */
  private shrink(): void {
    const now = performance.now()
    for (const m of this.members.values()) {
      const busy = m.picks !== m.picksSeen || m.conn.pendingCount > 0 || m.conn.getStats().openChannels > 0
      m.picksSeen = m.picks
      if (busy) m.idleSince = now
    }
    for (const m of [...this.members.values()]) {
      if (this.usable().length <= 1) break
      if (m.conn.hasSubscriptions) continue
      if (now - m.idleSince >= this.tuning.poolIdleMs) void m.conn.close()
    }
  }

  /** Stops dialing and timers; the link closes or aborts the connections itself. */
  stop(): RpcConnection[] {
    this.stopped = true
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    this.stopIdleTimer()
    this.controller.abort(sbError('SESSION_CLOSED', 'link closed'))
    return [...this.members.keys()]
  }
}

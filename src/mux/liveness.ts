/**
 * Liveness, separate from any call deadline (DESIGN.md §3 invariant 3). Pure: the driver passes
 * `now` (monotonic ms) in.
 *
 * - We ping when we have sent nothing for half of min(our timeout, the peer's), so the peer's
 *   inactivity check is always fed.
 * - Silence from the peer past our own timeout is INACTIVITY_TIMEOUT.
 * - A PING arriving sooner than a quarter of min(ours, theirs) after the previous one is a
 *   strike; more than `maxStrikes` strikes is KEEPALIVE_FLOOD, so a peer cannot keep us busy
 *   answering pings while sending no work. Any other frame from the peer clears the strikes, as
 *   gRPC does: a busy peer that also pings is not flooding.
 */
import type { ErrorCode } from '../errors.ts'

export class Liveness {
  private lastReceived: number
  private lastSent: number
  private lastPingReceived = Number.NEGATIVE_INFINITY
  private strikes = 0
  private readonly timeoutMs: number
  private readonly pingEveryMs: number
  private readonly minPingGapMs: number
  private readonly maxStrikes: number

  constructor(now: number, ownTimeoutMs: number, peerTimeoutMs: number, maxStrikes = 3) {
    this.lastReceived = now
    this.lastSent = now
    this.timeoutMs = ownTimeoutMs
    const shared = Math.min(ownTimeoutMs, peerTimeoutMs)
    this.pingEveryMs = shared / 2
    this.minPingGapMs = shared / 4
    this.maxStrikes = maxStrikes
  }

  /** The peer sent something (any bytes). */
  received(now: number): void {
    this.lastReceived = now
  }

  /** The peer sent a frame other than PING: it is doing real work, not flooding. */
  receivedWork(): void {
    this.strikes = 0
  }

  /** We wrote something. */
  sent(now: number): void {
    this.lastSent = now
  }

  /** A PING arrived; returns an error code when the peer is flooding. */
  pingReceived(now: number): ErrorCode | undefined {
    if (now - this.lastPingReceived < this.minPingGapMs) this.strikes++
    this.lastPingReceived = now
    return this.strikes > this.maxStrikes ? 'KEEPALIVE_FLOOD' : undefined
  }

  /** What the periodic check decides: close for silence, send a ping, or nothing. */
  check(now: number): 'timeout' | 'ping' | undefined {
    if (now - this.lastReceived >= this.timeoutMs) return 'timeout'
    if (now - this.lastSent >= this.pingEveryMs) return 'ping'
    return undefined
  }

  /** How often the driver should call `check`, ms. */
  get checkEveryMs(): number {
    return Math.max(10, this.minPingGapMs / 2)
  }
}

/**
 * The Transport adapter over one streamed switchboard call: a relayed connection. Our outbound
 * bytes are the call's streamed request body (on the far side: the handler's returned stream),
 * the far side's bytes arrive on the call's streamed response (on the far side: the handler's
 * `ctx.body`). The inner session runs over it as over a socket, with its own handshake, so the
 * relay in between sees only the inner session's records.
 *
 * Backpressure is the outer call's: the outer stream pulls our bytes only while its channel has
 * credit, so write() returns false until it has taken them; pause() stops pulling the inbound
 * stream, and an unpulled stream returns no credit, so the far writer stops.
 *
 * States: open → closing (close() or the far side's end: pending bytes still go, then our
 * direction ends) → closed (both directions ended, or abort(), or the outer call failed). The
 * `close` event is reported once, after bind().
 */
import { isSwitchboardError, type SwitchboardError, sbError } from '../errors.ts'
import type { Transport, TransportEvents } from '../transport/types.ts'

/** Bytes waiting for the outer stream before write() says wait. */
const HIGH_WATER = 256 * 1024
/** Largest piece handed to the outer stream at once, so it never queues far past its window. */
const PIECE = 64 * 1024

type State = 'open' | 'closing' | 'closed'

export class RelayedTransport implements Transport {
  readonly remote: string
  readonly remoteAddress = undefined
  private events: TransportEvents | undefined
  private state: State = 'open'
  /** Written and not yet taken by the outer stream, oldest first. */
  private readonly pending: Uint8Array[] = []
  private pendingBytes = 0
  private wantDrain = false
  /** Wakes the outbound stream when bytes, the end or an abort arrive. */
  private wakeOut: (() => void) | undefined
  /** The outbound stream returned (our direction ended cleanly). */
  private outDone = false
  private outStarted = false
  private inbound: AsyncIterator<Uint8Array> | undefined
  private inDone = false
  /** The read loop runs (started by bind() or attach(), whichever comes last). */
  private reading = false
  private userPaused = false
  private wakeIn: (() => void) | undefined
  private failure: SwitchboardError | undefined
  private reported = false
  private readonly cancelCall: ((err: SwitchboardError) => void) | undefined

  /**
   * `remote` describes the path (e.g. 'relay:<instance>'). `cancelCall` resets the outer call on
   * abort() (the dialer passes its AbortController; the far side's stream throws instead).
   */
  constructor(remote: string, cancelCall?: (err: SwitchboardError) => void) {
    this.remote = remote
    this.cancelCall = cancelCall
  }

  get writableLength(): number {
    return this.pendingBytes
  }

  /**
   * The outbound byte stream, to be the outer call's request body (dialer) or the handler's
   * returned stream (far side). `prefix` goes first (the relay's header). Iterated once.
   */
  outbound(prefix?: Uint8Array): AsyncIterable<Uint8Array> {
    if (this.outStarted) throw sbError('INVALID_ARGUMENT', 'the outbound stream can be taken once')
    this.outStarted = true
    return this.pull(prefix)
  }

  /** The inbound byte stream: the outer call's response (dialer) or `ctx.body` (far side). */
  attach(inbound: AsyncIterable<Uint8Array>): void {
    if (this.inbound !== undefined) throw sbError('INVALID_ARGUMENT', 'inbound already attached')
    this.inbound = inbound[Symbol.asyncIterator]()
    if (this.events !== undefined) void this.read()
  }

  write(chunks: readonly Uint8Array[]): boolean {
    if (this.state !== 'open') return false
    for (const c of chunks) {
      if (c.length === 0) continue
      this.pending.push(c)
      this.pendingBytes += c.length
    }
    this.wake()
    if (this.pendingBytes < HIGH_WATER) return true
    this.wantDrain = true
    return false
  }

  close(): void {
    if (this.state !== 'open') return
    this.state = 'closing'
    this.wake()
    // Read on, even if paused, so the far side's end (and with it our close) can arrive.
    this.wakeReader()
  }

  abort(err?: Error): void {
    if (this.state === 'closed') return
    const failure =
      err === undefined
        ? undefined
        : isSwitchboardError(err)
          ? err
          : sbError('TRANSPORT_ERROR', `${this.remote}: aborted: ${err.message}`, { cause: err })
    this.finish(failure, sbError('CANCELLED', `${this.remote}: relayed connection aborted`))
  }

  bind(events: TransportEvents): void {
    if (this.events !== undefined)
      throw sbError('INVALID_ARGUMENT', 'Transport.bind() may be called only once')
    this.events = events
    if (this.state === 'closed') {
      queueMicrotask(this.report)
      return
    }
    if (this.inbound !== undefined) void this.read()
  }

  pause(): void {
    this.userPaused = true
  }

  resume(): void {
    this.userPaused = false
    this.wakeReader()
  }

  // ---- outbound ------------------------------------------------------------------------------

  private async *pull(prefix: Uint8Array | undefined): AsyncGenerator<Uint8Array> {
    let clean = false
    try {
      if (prefix !== undefined && prefix.length > 0) yield prefix
      for (;;) {
        if (this.state === 'closed') {
          // Aborted. A dialer's call was reset by cancelCall; a target has no call of its own
          // to reset, so its stream ends with an error, which the caller receives as the END.
          if (this.cancelCall === undefined)
            throw sbError('CANCELLED', `${this.remote}: relayed connection aborted`)
          return
        }
        const piece = this.takePiece()
        if (piece !== undefined) {
          yield piece
          continue
        }
        if (this.state === 'closing') {
          clean = true
          return
        }
        await new Promise<void>((resolve) => {
          this.wakeOut = resolve
        })
      }
    } finally {
      this.outDone = true
      // The outer stream stopped taking our bytes before our end: the outer call is gone.
      if (!clean && this.state !== 'closed')
        this.finish(sbError('TRANSPORT_ERROR', `${this.remote}: the relayed stream stopped`), undefined)
      else this.maybeClosed()
    }
  }

  /** The next piece of pending bytes (at most PIECE), or undefined when none wait. */
  private takePiece(): Uint8Array | undefined {
    const head = this.pending[0]
    if (head === undefined) return undefined
    let piece = head
    if (head.length > PIECE) {
      piece = head.subarray(0, PIECE)
      this.pending[0] = head.subarray(PIECE)
    } else {
      this.pending.shift()
    }
    this.pendingBytes -= piece.length
    if (this.pendingBytes === 0 && this.wantDrain) {
      this.wantDrain = false
      if (this.state === 'open') this.events?.drain()
    }
    return piece
  }

  private wake(): void {
    const w = this.wakeOut
    this.wakeOut = undefined
    w?.()
  }

  // ---- inbound -------------------------------------------------------------------------------

  private async read(): Promise<void> {
    if (this.reading) return
    this.reading = true
    const it = this.inbound!
    try {
      for (;;) {
        await this.whilePaused()
        if (this.isClosed()) return
        const r = await it.next()
        if (r.done) break
        await this.whilePaused()
        if (this.isClosed()) return
        this.events!.data(r.value)
      }
    } catch (err) {
      this.finish(
        isSwitchboardError(err, 'TRANSPORT_ERROR')
          ? err
          : sbError('TRANSPORT_ERROR', `${this.remote}: relayed stream failed: ${(err as Error).message}`, {
              cause: err,
            }),
        undefined,
      )
      return
    }
    this.inDone = true
    // As a socket without half-open: the far side ended, so our pending bytes go and we end too.
    if (this.state === 'open') this.state = 'closing'
    this.wake()
    this.maybeClosed()
  }

  private whilePaused(): Promise<void> | undefined {
    if (!this.userPaused || this.state !== 'open') return undefined
    return new Promise<void>((resolve) => {
      this.wakeIn = resolve
    }).then(() => this.whilePaused())
  }

  private wakeReader(): void {
    const w = this.wakeIn
    this.wakeIn = undefined
    w?.()
  }

  /** A method, not a field read, so the compiler does not narrow it across awaits. */
  private isClosed(): boolean {
    return this.state === 'closed'
  }

  // ---- the end -------------------------------------------------------------------------------

  /** Both directions ended cleanly: a clean close. */
  private maybeClosed(): void {
    if (this.state !== 'closed' && this.inDone && this.outDone) this.finish(undefined, undefined)
  }

  /**
   * Closes now with `failure` (undefined: clean). `reset`: the outer call is abandoned and the
   * far side must learn it (abort); undefined when it already knows or ended cleanly.
   */
  private finish(failure: SwitchboardError | undefined, reset: SwitchboardError | undefined): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.failure = failure
    this.pending.length = 0
    this.pendingBytes = 0
    if (reset !== undefined) {
      this.cancelCall?.(reset)
      // Stop reading: a far side still sending is told by the reset (dialer) or our stream's error.
      if (!this.inDone) void this.inbound?.return?.().catch(() => {})
    }
    this.wake()
    this.wakeReader()
    if (this.events !== undefined) queueMicrotask(this.report)
  }

  private readonly report = (): void => {
    if (this.reported) return
    this.reported = true
    this.events!.close(this.failure)
  }
}

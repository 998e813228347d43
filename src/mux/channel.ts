/**
 * One channel of a Mux: a bidirectional exchange (a request and its response, a one-way
 * message, a stream). Pure: it queues bytes and frames; the Mux schedules them.
 *
 * State, per HTTP/2's stream states, from this side's point of view:
 *
 *   open ──(we end)──▶ local-closed ──(they end)──▶ closed
 *     └──(they end)──▶ remote-closed ──(we end)──┘
 *   any ──(reset, either side, or session close)──▶ closed
 */
import { sbError } from '../errors.ts'
import type { Frame } from '../wire/frame.ts'

export type ChannelState = 'open' | 'local-closed' | 'remote-closed' | 'closed'

/** The moves a channel may make (HTTP/2's stream states); any other is a bug the mux reports. */
const channelMoves: Record<ChannelState, readonly ChannelState[]> = {
  open: ['local-closed', 'remote-closed', 'closed'],
  'local-closed': ['closed'],
  'remote-closed': ['closed'],
  closed: [],
}

/** What the layer above sees happen on a channel. Set with `channel.bind()` synchronously. */
export interface ChannelHandler {
  /** Body bytes from the peer (a view into the received record, which is never reused: keeping it is safe and holds the record's memory). */
  onData(data: Uint8Array, fin: boolean): void
  /** The peer ended its direction with a status (0 = ok) and detail bytes. */
  onEnd(status: number, detail: Uint8Array): void
  /** The channel was aborted: by a peer RESET, a GOAWAY above it, or the session closing. */
  onReset(code: number): void
  /** The send queue fell below its high-water mark after a write returned false. */
  onWritable(): void
  /** Our direction ended: its last frame was handed to the driver for writing. */
  onSent?(): void
  /** SUBSCRIBE channels, publisher side: the subscriber granted `events` more events. */
  onCredit?(events: number): void
}

/** Header fields of an OPEN, as the layer above supplies or receives them. */
export interface OpenHeader {
  kind: number
  method: number
  messageId: number
  oneWay?: boolean
  deadlineMs?: number | undefined
  trace?: Uint8Array | undefined
  totalSize?: number | undefined
}

const noopHandler: ChannelHandler = {
  onData() {},
  onEnd() {},
  onReset() {},
  onWritable() {},
}

/** Internal hooks the Mux gives each channel. */
export interface ChannelHost {
  schedule(ch: Channel): void
  control(frame: Frame): void
  returnCredit(ch: Channel, bytes: number): void
  /** The channel ended: forget its id and free its slot under maxChannels. */
  release(ch: Channel): void
  /** A channel tried a move its state machine does not allow: our bug; fail the session, coded. */
  illegalMove(ch: Channel, from: ChannelState, to: ChannelState): void
  /** The channel's queue fell below high water after a refused write; report after the drain. */
  writable(ch: Channel): void
  /** Queued body bytes changed by `delta`: the host keeps the total, read on every write. */
  queued(delta: number): void
  /** Body bytes queued in all channels. */
  readonly queuedTotal: number
  /** What all channels together may queue beyond one chunk each (the connection's send credit). */
  readonly queueBudget: number
}

export class Channel {
  /** Channel id; 0 for a local channel until its OPEN is sent (ids go out in increasing order). */
  id: number
  readonly header: OpenHeader
  readonly local: boolean
  private current: ChannelState = 'open'
  handler: ChannelHandler = noopHandler

  /** Bytes we may still send on this channel (peer's grant). */
  sendCredit: number
  /** Bytes the peer may still send us before we grant more. */
  recvRemaining: number
  /** True until the OPEN frame has been scheduled (local channels only). */
  needsOpen: boolean
  /** Local channels: the OPEN's place in the connection's message count (0: not sent, or a RESPONSE). */
  seq = 0
  /** The sender announced the body's size and we granted all of it up front: no more grants. */
  prepaid = false

  /** Queued outbound body bytes, oldest first; `queueHead` is the read offset into the first. */
  readonly queue: Uint8Array[] = []
  queueHead = 0
  queuedBytes = 0
  /** Received bytes consumed by the layer above and not yet granted back to the peer. */
  creditOwed = 0
  /** True while the channel sits in the scheduler's ready list. */
  scheduled = false
  /** True while the channel waits for a slot under the peer's maxChannels (mux-owned). */
  waitingToOpen = false
  /** True while its OPEN waits its turn in the mux's line of messages (mux-owned). */
  inLine = false
  /** After the queue drains: send FIN (status ok) or END with a status. */
  pendingEnd: { status: number; detail: Uint8Array } | undefined
  private wantWritable = false
  private readonly host: ChannelHost
  /** One chunk, bytes: the queue may always hold this much (its least high-water mark). */
  private readonly chunkBytes: number

  constructor(
    id: number,
    header: OpenHeader,
    local: boolean,
    sendCredit: number,
    recvWindow: number,
    host: ChannelHost,
    chunkBytes: number,
  ) {
    this.id = id
    this.header = header
    this.local = local
    this.sendCredit = sendCredit
    this.recvRemaining = recvWindow
    this.needsOpen = local
    this.host = host
    this.chunkBytes = chunkBytes
    // One-way: the receiver's direction is closed from the start on both ends.
    if (header.oneWay) this.current = local ? 'remote-closed' : 'local-closed'
  }

  /** Where the channel is (read-only: it moves only through moveTo). */
  get state(): ChannelState {
    return this.current
  }

  /** The one way a channel changes state; an illegal move is reported, never thrown. */
  private moveTo(to: ChannelState): boolean {
    if (this.current === to) return true
    if (!channelMoves[this.current].includes(to)) {
      this.host.illegalMove(this, this.current, to)
      return false
    }
    this.current = to
    return true
  }

  /** True once the OPEN left for the driver to write: from then on the peer may have it. */
  get openSent(): boolean {
    return !this.needsOpen
  }

  bind(handler: ChannelHandler): void {
    this.handler = handler
  }

  get canSend(): boolean {
    return (this.state === 'open' || this.state === 'remote-closed') && this.pendingEnd === undefined
  }

  /**
   * Queues body bytes (no copy: the caller must not mutate them). Returns false when the queue
   * is above its high-water mark (see withinHighWater): wait for `onWritable` before writing more.
   */
  write(data: Uint8Array, fin = false): boolean {
    if (!this.canSend) throw sbError('SESSION_CLOSED', `channel ${this.id} can no longer send`)
    if (data.length > 0) {
      this.queue.push(data)
      this.queuedBytes += data.length
      this.host.queued(data.length)
    }
    if (fin) this.pendingEnd = { status: 0, detail: new Uint8Array(0) }
    this.host.schedule(this)
    const ok = this.withinHighWater
    if (!ok) this.wantWritable = true
    return ok
  }

  /**
   * Whether the queue is within its high-water mark: one chunk always; up to what the peer's
   * credit lets go now while all channels together hold less than the connection may send. So a
   * flowing stream takes a whole window's piece without waiting a turn, while stalled channels
   * (no credit) hold one chunk each and all of them stay bounded in total.
   */
  private get withinHighWater(): boolean {
    const q = this.queuedBytes
    return q <= this.chunkBytes || (q <= this.sendCredit && this.host.queuedTotal <= this.host.queueBudget)
  }

  /** Ends our direction with a status after queued bytes are sent (0 = ok, same as FIN). */
  end(status = 0, detail: Uint8Array = new Uint8Array(0)): void {
    if (!this.canSend) return
    this.pendingEnd = { status, detail }
    this.host.schedule(this)
  }

  /** Aborts both directions at once: queued bytes are dropped and the peer gets RESET. */
  reset(code: number): void {
    if (this.state === 'closed') return
    if (!this.needsOpen) this.host.control({ type: 'reset', channel: this.id, code })
    this.dropQueue()
    this.removeFromMux()
  }

  /** SUBSCRIBE channels, subscriber side: grants the publisher `events` more events. */
  grantEvents(events: number): void {
    if (this.state === 'closed' || this.needsOpen || events <= 0) return
    this.host.control({ type: 'credit', channel: this.id, increment: events })
  }

  /** The layer above consumed `bytes` of received body: the peer may send that much more. */
  consume(bytes: number): void {
    if (bytes > 0) this.host.returnCredit(this, bytes)
  }

  /** Takes up to `max` queued bytes as one slice (the scheduler's chunk). */
  takeChunk(max: number): Uint8Array {
    const first = this.queue[0]
    if (first === undefined || max <= 0) return new Uint8Array(0)
    const available = first.length - this.queueHead
    let out: Uint8Array
    if (available <= max) {
      out = this.queueHead === 0 ? first : first.subarray(this.queueHead)
      this.queue.shift()
      this.queueHead = 0
    } else {
      out = first.subarray(this.queueHead, this.queueHead + max)
      this.queueHead += max
    }
    this.queuedBytes -= out.length
    this.host.queued(-out.length)
    this.sendCredit -= out.length
    if (this.wantWritable && this.withinHighWater) {
      this.wantWritable = false
      this.host.writable(this)
    }
    return out
  }

  /** Marks our direction ended (the scheduler sent FIN or END). */
  sentEnd(): void {
    this.pendingEnd = undefined
    this.handler.onSent?.()
    if (this.current === 'remote-closed') this.removeFromMux()
    else this.moveTo('local-closed')
  }

  /** Marks the peer's direction ended. */
  receivedEnd(): void {
    if (this.current === 'open') this.moveTo('remote-closed')
    else if (this.current === 'local-closed') this.removeFromMux()
  }

  /** The session is closing: the channel is over, whatever its state (the mux forgets it). */
  abandon(): void {
    this.removed = true
    this.moveTo('closed')
  }

  /** Moves to closed and has the Mux forget it (its id, its slot). Idempotent. */
  removeFromMux(): void {
    if (this.removed) return
    this.removed = true
    this.moveTo('closed')
    this.host.release(this)
  }

  dropQueue(): void {
    this.host.queued(-this.queuedBytes)
    this.queue.length = 0
    this.queueHead = 0
    this.queuedBytes = 0
    this.pendingEnd = undefined
  }

  private removed = false
}

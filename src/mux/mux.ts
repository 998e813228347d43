/**
 * The multiplexer core, without I/O (STYLE.md practice 1): frames and `now` in, frames out.
 *
 * - Whole messages in single MSG frames (messages.ts), replies in REPLY frames: no channel.
 * - Channels opened by either side (dialer odd ids, listener even ids) for streams and
 *   messages bigger than a chunk.
 * - Credit-based flow control per channel and per connection, counted in body bytes (a MSG
 *   frame counts its whole payload against the connection window).
 * - A round-robin scheduler that sends at most one chunk of a channel before moving to the
 *   next, so a small message never waits behind a big one; control frames go first.
 * - Both sides count messages (MSG frames, OPENs but RESPONSE) in wire order: GOAWAY and
 *   connection CREDIT carry the receiver's count, so the sender knows which it processed.
 * - RESET with a reason code, liveness (liveness.ts).
 *
 * The driver (session/) calls `receive` with decoded frames, `drain` when it can write, and
 * `tick` from its one coarse timer.
 */
import { codeFromWire, type ErrorCode, SwitchboardError, sbError, wireCodeOf } from '../errors.ts'
import { Fifo } from '../internal/fifo.ts'
import { KIND_MASK, MessageKind } from '../wire/constants.ts'
import type { Frame, MsgFrame, ReplyFrame } from '../wire/frame.ts'
import { bodyOf, fixedPayloadSize } from '../wire/frame-encode.ts'
import type { ProtocolOffer } from '../wire/hello.ts'
import { Channel, type ChannelHost, type OpenHeader } from './channel.ts'
import type { MuxLimits } from './limits.ts'
import { Liveness } from './liveness.ts'
import { isMessage, MessageQueue, type OutgoingMessage } from './messages.ts'

export type MuxState = 'open' | 'draining' | 'closed'

const muxMoves: Record<MuxState, readonly MuxState[]> = {
  open: ['draining', 'closed'],
  draining: ['closed'],
  closed: [],
}

export interface MuxEvents {
  /** The peer opened a channel. Bind a handler synchronously; its first bytes follow at once. */
  onChannel(ch: Channel): void
  /** A whole message arrived (its byte fields are views into the received record, never reused). */
  onMessage?(frame: MsgFrame): void
  /** A reply to one of our requests arrived. */
  onReply?(frame: ReplyFrame): void
  /** The peer gave up on a request it sent (cancelled, deadline). */
  onCancel?(messageId: number, code: number): void
  /** The peer interned a name in its table. */
  onName(id: number, name: string): void
  /** The peer now implements one more protocol (OFFER frame). */
  onOffer?(offer: ProtocolOffer): void
  /**
   * The peer sent GOAWAY: our channels and messages after its first `lastProcessed` were already
   * reset or refused with GOING_AWAY.
   */
  onGoaway(lastProcessed: number, code: ErrorCode): void
  /** The peer acknowledged our SETTINGS: it has processed everything we sent before them. */
  onSettingsAck?(): void
  /** New frames wait to be sent: the driver should schedule a drain. */
  onFlush(): void
  /** The mux hit a fatal condition: flush what is queued (a GOAWAY), then close the connection. */
  onFatal(err: SwitchboardError): void
}

export interface MuxOptions {
  role: 'dialer' | 'listener'
  /** Our receive limits (announced in our hello). */
  local: MuxLimits
  /** The peer's receive limits (from its hello). */
  remote: MuxLimits
  now: number
}

export interface MuxStats {
  openChannels: number
  /** Body bytes accepted from the layer above and not yet framed. */
  queuedBytes: number
  /** Our remaining send credit on the connection. */
  sendCredit: number
  /** Bytes the peer may still send us on the connection before we grant more. */
  recvCredit: number
}

const MAX_WINDOW = 2 ** 31 - 1

export class Mux implements ChannelHost {
  private current: MuxState = 'open'
  private readonly events: MuxEvents
  private readonly local: MuxLimits
  private remote: MuxLimits
  private readonly role: 'dialer' | 'listener'
  private readonly channels = new Map<number, Channel>()
  /** Local channels whose OPEN has not been sent yet (no id assigned). */
  private readonly unopened = new Set<Channel>()
  private nextLocalId: number
  private lastRemoteId = 0
  private localOpen = 0
  private remoteOpen = 0
  /** Local channels over the peer's maxChannels, in open order; closed ones are skipped lazily. */
  private readonly waitingToOpen = new Fifo<Channel>()
  private readonly ready = new Fifo<Channel>()
  private readonly connBlocked = new Set<Channel>()
  private readonly writableNow: Channel[] = []
  private controlQueue: Frame[] = []
  private connSendCredit: number
  private connRecvRemaining: number
  private connCreditOwed = 0
  private goawaySent: number | undefined
  private goawayReceived: number | undefined
  /** Whole messages (MSG frames) waiting for credit, and written ones not yet counted. */
  private readonly messages = new MessageQueue()
  /** Messages (MSG, OPEN but RESPONSE) we wrote / received on this connection. */
  private sentCount = 0
  private receivedCount = 0
  /** receivedCount as of our last connection CREDIT. */
  private ackedCount = 0
  private readonly liveness: Liveness
  private pingCounter = 0
  /** Body bytes queued in all channels (kept by the channels through queued()). */
  private totalQueued = 0

  constructor(options: MuxOptions, events: MuxEvents) {
    this.events = events
    this.role = options.role
    this.local = options.local
    this.remote = options.remote
    this.nextLocalId = options.role === 'dialer' ? 1 : 2
    this.connSendCredit = options.remote.connectionWindow
    this.connRecvRemaining = options.local.connectionWindow
    this.liveness = new Liveness(options.now, options.local.keepaliveMs, options.remote.keepaliveMs)
  }

  /** Where the mux is (read-only: it moves only through moveTo). */
  get state(): MuxState {
    return this.current
  }

  /**
   * The one way the mux changes state. An illegal move is our bug: it fails the session with
   * INTERNAL (through onFatal, so the peer gets a GOAWAY), never throws out of an I/O callback.
   */
  private moveTo(to: MuxState): boolean {
    if (muxMoves[this.current].includes(to)) {
      this.current = to
      return true
    }
    if (this.current !== 'closed')
      this.fail(sbError('INTERNAL', `mux cannot go from ${this.current} to ${to}`))
    return false
  }

  illegalMove(ch: Channel, from: string, to: string): void {
    this.fail(sbError('INTERNAL', `channel ${ch.id} cannot go from ${from} to ${to}`))
  }

  /** How often the driver should call tick(), ms. */
  get tickEveryMs(): number {
    return this.liveness.checkEveryMs
  }

  /** True when new channels may be opened from this side. */
  get canOpen(): boolean {
    return this.state === 'open' && this.goawayReceived === undefined
  }

  // ---- opening channels -------------------------------------------------------------------

  /** Opens a channel; its OPEN frame leaves with the first chunk written (or empty). */
  open(header: OpenHeader): Channel {
    if (this.state === 'closed') throw sbError('SESSION_CLOSED')
    if (!this.canOpen) throw sbError('GOING_AWAY', 'session is going away; open on a new connection')
    // The id is assigned when the OPEN is sent, so ids on the wire always increase.
    const ch = new Channel(
      0,
      header,
      true,
      this.remote.channelWindow,
      this.local.channelWindow,
      this,
      this.local.chunkBytes,
    )
    this.unopened.add(ch)
    if (this.localOpen < this.remote.maxChannels) {
      this.localOpen++
      ch.inLine = true
      this.messages.pushOpen(ch)
      // The OPEN goes at the next flush even if nothing is written yet: a stream whose first
      // bytes wait for the other side (a relayed connection) must still reach it.
      this.events.onFlush()
    } else {
      ch.waitingToOpen = true
      this.waitingToOpen.push(ch)
    }
    return ch
  }

  /**
   * Queues a whole message as one MSG frame; it leaves as soon as the connection window allows,
   * before any channel's chunk. Its callbacks report what became of it.
   */
  sendMessage(msg: OutgoingMessage): void {
    if (this.state === 'closed') throw sbError('SESSION_CLOSED')
    if (!this.canOpen) throw sbError('GOING_AWAY', 'session is going away; send on a new connection')
    this.messages.push(msg)
    this.events.onFlush()
  }

  /** The largest MSG frame payload the peer's limits allow (a bigger message takes a channel). */
  get maxMessageFrameBytes(): number {
    return Math.min(this.local.chunkBytes, this.remote.chunkBytes, this.remote.connectionWindow)
  }

  // ---- ChannelHost --------------------------------------------------------------------------

  schedule(ch: Channel): void {
    if (ch.inLine) {
      // Its OPEN waits for its turn in the line of messages (drain() takes it from there).
      if (this.state !== 'closed') this.events.onFlush()
      return
    }
    if (ch.scheduled || this.state === 'closed' || ch.waitingToOpen) return
    if (!this.sendable(ch)) {
      // Bytes wait only for connection credit: park the channel where a connection CREDIT
      // finds it, or it would never be scheduled again.
      if (ch.queuedBytes > 0 && ch.sendCredit > 0 && this.connSendCredit <= 0) this.connBlocked.add(ch)
      return
    }
    ch.scheduled = true
    this.ready.push(ch)
    this.events.onFlush()
  }

  /**
   * Queues a frame that goes before any message or chunk: control frames, and REPLY and CANCEL
   * (exempt from flow control: bounded by the requests in flight).
   */
  control(frame: Frame): void {
    if (this.state === 'closed') return
    this.controlQueue.push(frame)
    this.events.onFlush()
  }

  returnCredit(ch: Channel, bytes: number): void {
    this.grantConnection(bytes)
    // No point granting a channel whose peer direction has ended, or one paid up front.
    if (!ch.prepaid && (ch.state === 'open' || ch.state === 'local-closed')) {
      ch.creditOwed += bytes
      if (ch.creditOwed >= this.local.channelWindow / 4) {
        ch.recvRemaining += ch.creditOwed
        this.control({ type: 'credit', channel: ch.id, increment: ch.creditOwed })
        ch.creditOwed = 0
      }
    }
  }

  release(ch: Channel): void {
    if (!this.unopened.delete(ch)) {
      if (this.channels.get(ch.id) !== ch) return
      this.channels.delete(ch.id)
    }
    this.connBlocked.delete(ch)
    if (ch.waitingToOpen) {
      ch.waitingToOpen = false // it stays in the queue; openNextWaiting() skips it
    } else if (ch.local) {
      this.localOpen--
      this.openNextWaiting()
    } else {
      this.remoteOpen--
    }
  }

  /** A local channel slot freed up: the oldest channel still waiting for one takes it. */
  private openNextWaiting(): void {
    for (let next = this.waitingToOpen.shift(); next !== undefined; next = this.waitingToOpen.shift()) {
      if (!next.waitingToOpen) continue
      next.waitingToOpen = false
      this.localOpen++
      this.schedule(next)
      return
    }
  }

  /** Body bytes queued in all channels and messages. */
  get queuedBytes(): number {
    return this.totalQueued + this.messages.waitingBytes
  }

  queued(delta: number): void {
    this.totalQueued += delta
  }

  get queuedTotal(): number {
    return this.totalQueued
  }

  get queueBudget(): number {
    // What the connection may still send: queued bytes beyond it could only wait.
    return this.connSendCredit
  }

  writable(ch: Channel): void {
    this.writableNow.push(ch)
  }

  // ---- sending ------------------------------------------------------------------------------

  private sendable(ch: Channel): boolean {
    if (ch.state === 'closed' || ch.state === 'local-closed') return false
    if (ch.needsOpen) return true
    if (ch.queuedBytes > 0) return ch.sendCredit > 0 && this.connSendCredit > 0
    return ch.pendingEnd !== undefined
  }

  /** True when drain() would return frames. */
  get hasOutput(): boolean {
    return (
      this.controlQueue.length > 0 ||
      this.ready.length > 0 ||
      (this.messages.waiting.length > 0 &&
        (this.connSendCredit > 0 || !isMessage(this.messages.waiting.peek()!)))
    )
  }

  /**
   * Takes the frames to send now: all control frames, then round-robin chunks until about
   * `budget` body bytes. Body views reference the caller's buffers (no copy).
   */
  drain(now: number, budget: number): Frame[] {
    const out = this.controlQueue
    this.controlQueue = []
    let used = 0
    const waiting = this.messages.waiting
    const chunk = Math.min(this.local.chunkBytes, this.remote.chunkBytes)
    for (let m = waiting.peek(); m !== undefined && used < budget; m = waiting.peek()) {
      if (!isMessage(m)) {
        // A channel's turn in the line: its OPEN goes now (its chunks then go round robin).
        waiting.shift()
        m.inLine = false
        if (!m.needsOpen || m.state === 'closed' || m.waitingToOpen) continue
        const frame = this.nextFrame(m, chunk)
        if (frame !== undefined) {
          out.push(frame)
          used += 16 + (bodyOf(frame)?.length ?? 0)
        }
        this.schedule(m) // its next chunks go round robin
        continue
      }
      const cost = fixedPayloadSize(m) + m.data.length
      // A message waits for credit rather than split; one bigger than the whole window (the
      // peer shrank it) goes once all of it is free, so it never waits forever.
      if (cost > this.connSendCredit && this.connSendCredit < this.remote.connectionWindow) break
      waiting.shift()
      this.connSendCredit -= cost
      used += cost
      this.messages.written(m, ++this.sentCount)
      out.push(m)
      m.onWritten()
    }
    // Channels get at least one chunk per flush, however many messages went first.
    const channelBudget = Math.max(budget - used, chunk)
    used = 0
    while (used < channelBudget && this.ready.length > 0) {
      const ch = this.ready.shift()!
      ch.scheduled = false
      if (ch.state === 'closed') continue
      const frame = this.nextFrame(ch, chunk)
      if (frame !== undefined) {
        out.push(frame)
        used += frame.type === 'open' || frame.type === 'data' ? frame.data.length + 16 : 16
      }
      if (this.sendable(ch)) {
        ch.scheduled = true
        this.ready.push(ch)
      } else if (ch.queuedBytes > 0 && ch.sendCredit > 0 && this.connSendCredit === 0) {
        this.connBlocked.add(ch)
      }
    }
    if (out.length > 0) this.liveness.sent(now)
    if (this.writableNow.length > 0) {
      const list = this.writableNow.splice(0)
      for (const ch of list) if (ch.state !== 'closed') ch.handler.onWritable()
    }
    return out
  }

  private nextFrame(ch: Channel, chunk: number): Frame | undefined {
    const max = Math.min(chunk, ch.sendCredit, this.connSendCredit)
    if (ch.needsOpen) {
      ch.needsOpen = false
      ch.id = this.nextLocalId
      this.nextLocalId += 2
      if (countsAsMessage(ch.header.kind)) ch.seq = ++this.sentCount
      this.unopened.delete(ch)
      this.channels.set(ch.id, ch)
      const data = ch.takeChunk(max)
      this.connSendCredit -= data.length
      const fin = ch.queuedBytes === 0 && ch.pendingEnd?.status === 0
      const h = ch.header
      const frame: Frame = {
        type: 'open',
        channel: ch.id,
        fin,
        oneWay: h.oneWay === true,
        kind: h.kind,
        method: h.method,
        messageId: h.messageId,
        deadlineMs: h.deadlineMs,
        trace: h.trace,
        totalSize: h.totalSize,
        data,
      }
      if (fin) ch.sentEnd()
      return frame
    }
    if (ch.queuedBytes > 0) {
      if (max <= 0) return undefined
      const data = ch.takeChunk(max)
      this.connSendCredit -= data.length
      const fin = ch.queuedBytes === 0 && ch.pendingEnd?.status === 0
      if (fin) ch.sentEnd()
      return { type: 'data', channel: ch.id, fin, data }
    }
    const end = ch.pendingEnd
    if (end === undefined) return undefined
    ch.sentEnd()
    if (end.status === 0) return { type: 'data', channel: ch.id, fin: true, data: new Uint8Array(0) }
    return { type: 'end', channel: ch.id, status: end.status, detail: end.detail }
  }

  // ---- receiving ----------------------------------------------------------------------------

  /** Bytes arrived from the peer (call before `receive`, with the record's arrival time). */
  noteReceived(now: number): void {
    this.liveness.received(now)
  }

  /** Processes one frame from the peer. A protocol violation fails the mux (onFatal). */
  receive(frame: Frame, now: number): void {
    if (this.state === 'closed') return
    try {
      this.dispatch(frame, now)
    } catch (err) {
      if (err instanceof SwitchboardError) this.fail(err)
      else throw err
    }
  }

  private dispatch(frame: Frame, now: number): void {
    if (frame.type !== 'ping' && frame.type !== 'pong') this.liveness.receivedWork()
    switch (frame.type) {
      case 'msg':
        return this.receiveMessage(frame)
      case 'reply':
        return this.events.onReply?.(frame)
      case 'cancel':
        return this.events.onCancel?.(frame.messageId, frame.code)
      case 'open':
        return this.receiveOpen(frame.channel, frame, frame.data, frame.fin)
      case 'data': {
        const ch = this.receivingChannel(frame.channel, frame.data.length)
        if (ch === undefined) return
        this.takeRecvCredit(ch, frame.data.length)
        ch.handler.onData(frame.data, frame.fin)
        if (frame.fin) ch.receivedEnd()
        return
      }
      case 'end': {
        const ch = this.receivingChannel(frame.channel, 0)
        if (ch === undefined) return
        ch.handler.onEnd(frame.status, frame.detail)
        ch.receivedEnd()
        return
      }
      case 'reset': {
        const ch = this.channels.get(frame.channel)
        if (ch === undefined) return // crossed with our own reset or end: harmless
        ch.dropQueue()
        ch.removeFromMux()
        ch.handler.onReset(frame.code)
        return
      }
      case 'credit':
        return this.receiveCredit(frame.channel, frame.increment, frame.processed ?? 0)
      case 'ping': {
        const flood = this.liveness.pingReceived(now)
        if (flood !== undefined) throw sbError(flood)
        this.control({ type: 'pong', data: frame.data.slice() })
        return
      }
      case 'pong':
        return
      case 'goaway':
        return this.receiveGoaway(frame.lastProcessed, codeFromWire(frame.code))
      case 'settings':
        if (!frame.ack) this.control({ type: 'settings', ack: true, values: [] })
        else this.events.onSettingsAck?.()
        return
      case 'name':
        this.events.onName(frame.id, frame.name)
        return
      case 'offer':
        this.events.onOffer?.(frame.offer)
        return
      case 'unknown':
        return // a newer peer's frame type: skipped, as the spec requires
    }
  }

  private receiveMessage(frame: MsgFrame): void {
    const cost = fixedPayloadSize(frame) + frame.data.length
    if (cost > this.connRecvRemaining) throw sbError('FLOW_CONTROL', 'peer exceeded the connection window')
    this.connRecvRemaining -= cost
    this.receivedCount++
    // After our GOAWAY a message is refused unprocessed: the peer learns so from the GOAWAY's
    // count and sends it again elsewhere, so nothing needs saying here.
    if (this.state === 'open' && this.goawaySent === undefined) this.events.onMessage?.(frame)
    // The handler or the subscription has taken it: the peer may send that much more.
    this.grantConnection(cost)
  }

  private isRemoteId(id: number): boolean {
    return (id % 2 === 1) === (this.role === 'listener')
  }

  private receiveOpen(id: number, h: OpenHeader & { oneWay: boolean }, data: Uint8Array, fin: boolean): void {
    if (!this.isRemoteId(id)) throw sbError('PROTOCOL_ERROR', `peer opened channel ${id} with our parity`)
    if (id <= this.lastRemoteId) throw sbError('PROTOCOL_ERROR', `channel ${id} opened out of order`)
    this.lastRemoteId = id
    if (data.length > this.connRecvRemaining || data.length > this.local.channelWindow) {
      throw sbError('FLOW_CONTROL', `OPEN carries ${data.length} bytes beyond credit`)
    }
    const resetUnaccepted = (code: ErrorCode): void => {
      // A channel we do not accept still used connection credit: give it back at once.
      this.connRecvRemaining -= data.length
      this.grantConnection(data.length)
      this.control({ type: 'reset', channel: id, code: wireCodeOf(code) })
    }
    const counted = countsAsMessage(h.kind)
    if (counted) this.receivedCount++
    // Responses still come in after our GOAWAY (they answer our own requests); messages do not.
    if (counted && (this.state !== 'open' || this.goawaySent !== undefined))
      return resetUnaccepted('GOING_AWAY')
    if (this.remoteOpen >= this.local.maxChannels) return resetUnaccepted('CHANNEL_LIMIT')
    const header: OpenHeader = {
      kind: h.kind,
      method: h.method,
      messageId: h.messageId,
      oneWay: h.oneWay,
      deadlineMs: h.deadlineMs,
      trace: h.trace,
      totalSize: h.totalSize,
    }
    const ch = new Channel(
      id,
      header,
      false,
      this.remote.channelWindow,
      this.local.channelWindow,
      this,
      this.local.chunkBytes,
    )
    this.channels.set(id, ch)
    this.remoteOpen++
    this.takeRecvCredit(ch, data.length)
    this.prepay(ch)
    this.events.onChannel(ch)
    if (data.length > 0 || fin) ch.handler.onData(data, fin)
    if (fin) ch.receivedEnd()
  }

  /**
   * A body of announced size that we accept gets its whole size as channel credit at once, so
   * only the connection window paces it (no grant round trip per quarter window).
   */
  private prepay(ch: Channel): void {
    const size = ch.header.totalSize
    const window = this.local.channelWindow
    if (size === undefined || size <= window || size > this.local.maxMessageBytes) return
    ch.prepaid = true
    ch.recvRemaining += size - window
    this.control({ type: 'credit', channel: ch.id, increment: size - window })
  }

  /** The channel a DATA/END is for, or undefined for a late frame on a channel we already closed. */
  private receivingChannel(id: number, bytes: number): Channel | undefined {
    const ch = this.channels.get(id)
    if (ch !== undefined && (ch.state === 'open' || ch.state === 'local-closed')) return ch
    if (ch !== undefined) throw sbError('PROTOCOL_ERROR', `frame on channel ${id} after its end`)
    const known = this.isRemoteId(id) ? id <= this.lastRemoteId : id < this.nextLocalId
    if (!known) throw sbError('PROTOCOL_ERROR', `frame on channel ${id}, which was never opened`)
    // A frame that crossed our RESET: account its bytes to the connection and return them.
    if (bytes > this.connRecvRemaining) throw sbError('FLOW_CONTROL', 'peer exceeded the connection window')
    this.connRecvRemaining -= bytes
    this.grantConnection(bytes)
    return undefined
  }

  private takeRecvCredit(ch: Channel, bytes: number): void {
    if (bytes > ch.recvRemaining) throw sbError('FLOW_CONTROL', `peer exceeded channel ${ch.id}'s window`)
    if (bytes > this.connRecvRemaining) throw sbError('FLOW_CONTROL', 'peer exceeded the connection window')
    ch.recvRemaining -= bytes
    this.connRecvRemaining -= bytes
  }

  private grantConnection(bytes: number): void {
    if (bytes === 0) return
    this.connCreditOwed += bytes
    if (this.connCreditOwed >= this.local.connectionWindow / 4) this.sendConnectionCredit()
  }

  private sendConnectionCredit(): void {
    this.connRecvRemaining += this.connCreditOwed
    this.control({
      type: 'credit',
      channel: 0,
      increment: this.connCreditOwed,
      processed: this.receivedCount,
    })
    this.connCreditOwed = 0
    this.ackedCount = this.receivedCount
  }

  /**
   * The driver finished a read: acknowledge the messages it carried now, in one CREDIT, rather
   * than at a quarter window. The sender keeps each message until it is acknowledged, so a
   * prompt count lets those die young instead of surviving into the old generation.
   */
  readDone(): void {
    if (this.state === 'closed' || this.receivedCount === this.ackedCount) return
    this.sendConnectionCredit()
  }

  private receiveCredit(id: number, increment: number, processed: number): void {
    if (id === 0) {
      if (processed > this.sentCount) throw sbError('PROTOCOL_ERROR', 'peer acknowledged messages never sent')
      this.messages.acknowledge(processed)
      this.connSendCredit += increment
      if (this.connSendCredit > MAX_WINDOW) throw sbError('FLOW_CONTROL', 'connection credit overflow')
      for (const ch of this.connBlocked) this.schedule(ch)
      this.connBlocked.clear()
      if (this.messages.waiting.length > 0) this.events.onFlush()
      return
    }
    const ch = this.channels.get(id)
    if (ch === undefined) return // credit for a channel that just closed
    if (!ch.local && (ch.header.kind & KIND_MASK) === MessageKind.SUBSCRIBE) {
      // A subscriber's credit counts events, not bytes: the publisher above keeps it.
      ch.handler.onCredit?.(increment)
      return
    }
    ch.sendCredit += increment
    if (ch.sendCredit > MAX_WINDOW) throw sbError('FLOW_CONTROL', `channel ${id} credit overflow`)
    this.schedule(ch)
  }

  private receiveGoaway(lastProcessed: number, code: ErrorCode): void {
    if (lastProcessed > this.sentCount) throw sbError('PROTOCOL_ERROR', 'GOAWAY counts messages never sent')
    this.goawayReceived = lastProcessed
    const goingAway = wireCodeOf('GOING_AWAY')
    for (const ch of [...this.channels.values(), ...this.unopened]) {
      // Responses we owe the peer still go out; messages it did not take are refused.
      if (!ch.local || !countsAsMessage(ch.header.kind)) continue
      if (ch.seq > lastProcessed || ch.needsOpen) {
        ch.dropQueue()
        ch.removeFromMux()
        ch.handler.onReset(goingAway)
      }
    }
    this.messages.refuseAbove(lastProcessed, goingAway)
    this.events.onGoaway(lastProcessed, code)
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /** Periodic liveness check (the driver's one coarse timer). */
  tick(now: number): void {
    if (this.state === 'closed') return
    const verdict = this.liveness.check(now)
    if (verdict === 'timeout') {
      this.fail(sbError('INACTIVITY_TIMEOUT'))
    } else if (verdict === 'ping') {
      const data = new Uint8Array(8)
      new DataView(data.buffer).setUint32(4, ++this.pingCounter)
      this.control({ type: 'ping', data })
    }
  }

  /**
   * Graceful shutdown: tells the peer how many of its messages we took; those finish, later
   * ones are refused (the peer sends them again elsewhere).
   */
  goaway(code: ErrorCode = 'GOING_AWAY'): void {
    if (this.state !== 'open') return
    this.moveTo('draining')
    this.goawaySent = this.receivedCount
    this.control({ type: 'goaway', lastProcessed: this.receivedCount, code: wireCodeOf(code) })
  }

  /** True when no channel is open in either direction and no message waits to be written. */
  get idle(): boolean {
    return this.channels.size === 0 && this.unopened.size === 0 && this.messages.waitingMessages === 0
  }

  /**
   * Fails the whole session (a fatal error found here or by the driver): queue a GOAWAY with the
   * code, reset everything, tell the driver.
   */
  fail(err: SwitchboardError): void {
    if (this.state === 'closed') return
    const wire = err.wireCode === 0 ? wireCodeOf('INTERNAL') : err.wireCode
    this.controlQueue.push({ type: 'goaway', lastProcessed: this.receivedCount, code: wire })
    this.closeAll(err)
    this.events.onFatal(err)
  }

  /** Closes every channel with `err`'s code (session closing). Idempotent. */
  closeAll(err: SwitchboardError): void {
    if (!this.moveTo('closed')) return
    const code = err.wireCode === 0 ? wireCodeOf('CONNECTION_LOST') : err.wireCode
    const all = [...this.channels.values(), ...this.unopened]
    this.channels.clear()
    this.unopened.clear()
    this.ready.clear()
    this.connBlocked.clear()
    this.waitingToOpen.clear()
    this.localOpen = 0
    this.remoteOpen = 0
    for (const ch of all) {
      ch.dropQueue()
      ch.abandon()
      ch.handler.onReset(code)
    }
    this.messages.closeAll(code)
  }

  /** Frames left over after closeAll (the fatal GOAWAY); the driver sends them before closing. */
  takeFinalFrames(): Frame[] {
    const out = this.controlQueue
    this.controlQueue = []
    return out
  }

  getStats(): MuxStats {
    return {
      openChannels: this.channels.size + this.unopened.size,
      queuedBytes: this.totalQueued + this.messages.waitingBytes,
      sendCredit: this.connSendCredit,
      recvCredit: this.connRecvRemaining,
    }
  }
}

/** Messages count toward GOAWAY and acknowledgements; a RESPONSE channel answers one. */
function countsAsMessage(kind: number): boolean {
  return (kind & KIND_MASK) !== MessageKind.RESPONSE
}

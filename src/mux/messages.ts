/**
 * Whole messages in single MSG frames (DESIGN.md §7: a message that fits in one chunk is one
 * frame, with no channel). The sender's side of their life in the mux: a queue of messages not
 * yet written (waiting for connection credit), and the written ones the peer has not yet counted
 * as received, kept so a GOAWAY or a lost connection tells each exactly what became of it.
 *
 * Both sides count messages (MSG frames and OPENs other than RESPONSE) from 1 in wire order; the
 * receiver's count travels back in connection CREDIT frames and in GOAWAY.
 */

import { Fifo } from '../internal/fifo.ts'
import type { MsgFrame } from '../wire/frame.ts'
import type { Channel } from './channel.ts'

/** A MSG frame the layer above hands the mux, with the callbacks that settle its fate. */
export interface OutgoingMessage extends MsgFrame {
  /** Its place in the connection's message count once written (0 before). Set by the mux. */
  seq: number
  /** The frame was handed to the transport. */
  onWritten(): void
  /**
   * The peer will never process it: the session ended before it was written, or the peer's
   * GOAWAY refused it. Safe to send again elsewhere.
   */
  onRefused(code: number): void
  /** The session ended after it was written and before the peer counted it: it may have run. */
  onLost(code: number): void
}

export class MessageQueue {
  /**
   * Not yet written, in send order; a channel stands in the line where it was opened, so its
   * OPEN leaves in order with the MSG frames around it (a subscribe, then a request).
   */
  readonly waiting = new Fifo<OutgoingMessage | Channel>()
  /** Written and not yet counted by the peer, in seq order. */
  private readonly unacked = new Fifo<OutgoingMessage>()
  /** Body bytes of the waiting messages. */
  waitingBytes = 0
  /** MSG frames waiting (the line also holds channels' places). */
  waitingMessages = 0

  push(msg: OutgoingMessage): void {
    this.waiting.push(msg)
    this.waitingBytes += msg.data.length
    this.waitingMessages++
  }

  /** A channel just opened: its OPEN takes its turn in the line. */
  pushOpen(ch: Channel): void {
    this.waiting.push(ch)
  }

  /** `msg` (the head of `waiting`, just shifted) was written with sequence number `seq`. */
  written(msg: OutgoingMessage, seq: number): void {
    this.waitingBytes -= msg.data.length
    this.waitingMessages--
    msg.seq = seq
    this.unacked.push(msg)
  }

  /** The peer has received every message up to `processed`: forget them. */
  acknowledge(processed: number): void {
    for (let m = this.unacked.peek(); m !== undefined && m.seq <= processed; m = this.unacked.peek()) {
      this.unacked.shift()
    }
  }

  /** The peer's GOAWAY refused everything above `lastProcessed`, and everything unwritten. */
  refuseAbove(lastProcessed: number, code: number): void {
    this.acknowledge(lastProcessed)
    const refused = this.drainAll()
    for (const m of refused) m.onRefused(code)
  }

  /** The session ended: unwritten messages were refused, unacknowledged ones may have run. */
  closeAll(code: number): void {
    const lost: OutgoingMessage[] = []
    for (let m = this.unacked.shift(); m !== undefined; m = this.unacked.shift()) lost.push(m)
    const refused: OutgoingMessage[] = []
    for (let m = this.waiting.shift(); m !== undefined; m = this.waiting.shift())
      if (isMessage(m)) refused.push(m)
    this.waitingBytes = 0
    this.waitingMessages = 0
    for (const m of lost) m.onLost(code)
    for (const m of refused) m.onRefused(code)
  }

  private drainAll(): OutgoingMessage[] {
    const out: OutgoingMessage[] = []
    for (let m = this.unacked.shift(); m !== undefined; m = this.unacked.shift()) out.push(m)
    for (let m = this.waiting.shift(); m !== undefined; m = this.waiting.shift())
      if (isMessage(m)) out.push(m)
    this.waitingBytes = 0
    this.waitingMessages = 0
    return out
  }

  get unackedCount(): number {
    return this.unacked.length
  }
}

/** A MSG frame rather than a channel's place in the line. */
export function isMessage(m: OutgoingMessage | Channel): m is OutgoingMessage {
  return (m as OutgoingMessage).type === 'msg'
}

/**
 * The publisher's side of a connection's topics: which topics the peer subscribed to, and each
 * one's event credit. An event goes out while the subscription has credit; past it the event
 * waits here (publish() resolves when it is written) until the subscriber returns credit, so a
 * subscriber is never sent more than its window ahead of what it took.
 */
import { type SwitchboardError, wireCodeOf } from '../errors.ts'
import type { Channel } from '../mux/channel.ts'
import { Fifo } from '../mux/fifo.ts'
import { Cursor } from '../wire/cursor.ts'
import { lossError } from './loss.ts'
import type { SendSink } from './sinks.ts'

/** An event waiting for its subscriber's credit. */
export interface DeferredEvent {
  kind: number
  value: unknown
  bytes: Uint8Array
  signal: AbortSignal | undefined
  messageId: number
  sink: SendSink
}

export interface PublisherHost {
  /** Sends an event now (credit was taken). */
  transmit(
    kind: number,
    topic: string,
    value: unknown,
    bytes: Uint8Array,
    signal: AbortSignal | undefined,
    messageId: number,
    sink: SendSink,
  ): void
}

class PeerSubscription {
  credit = 0
  readonly waiting = new Fifo<DeferredEvent>()
  constructor(readonly ch: Channel) {}
}

export type Admission = 'now' | 'wait' | 'none'

export class PeerSubscriptions {
  private readonly subs = new Map<string, PeerSubscription>()
  /** Body bytes of events waiting for credit (they count toward conn.writable). */
  waitingBytes = 0
  /** Events waiting for credit. */
  waitingCount = 0

  constructor(private readonly host: PublisherHost) {}

  has(topic: string): boolean {
    return this.subs.has(topic)
  }

  /** May an event on `topic` go now? 'none': nobody subscribed; 'wait': no credit left. */
  admit(topic: string): Admission {
    const sub = this.subs.get(topic)
    if (sub === undefined) return 'none'
    if (sub.credit > 0 && sub.waiting.length === 0) {
      sub.credit--
      return 'now'
    }
    return 'wait'
  }

  defer(topic: string, event: DeferredEvent): void {
    const sub = this.subs.get(topic)
    if (sub === undefined) return event.sink.written()
    sub.waiting.push(event)
    this.waitingBytes += event.bytes.length
    this.waitingCount++
  }

  /** The peer opened a SUBSCRIBE channel: its body holds the window, in events. */
  subscribed(topic: string, ch: Channel): void {
    if (this.subs.has(topic)) {
      ch.bind({ onData() {}, onEnd() {}, onReset() {}, onWritable() {} })
      ch.reset(wireCodeOf('PROTOCOL_ERROR'))
      return
    }
    const sub = new PeerSubscription(ch)
    let windowRead = false
    const gone = (): void => {
      if (this.subs.get(topic) !== sub) return
      this.subs.delete(topic)
      // Nobody to deliver to any more: those events are done, as for a topic nobody subscribed to.
      for (let e = sub.waiting.shift(); e !== undefined; e = sub.waiting.shift()) {
        this.waitingBytes -= e.bytes.length
        this.waitingCount--
        e.sink.written()
      }
    }
    ch.bind({
      onData: (data, fin) => {
        ch.consume(data.length)
        if (!windowRead && data.length > 0) {
          windowRead = true
          sub.credit = new Cursor(data).varint()
          if (sub.credit < 1) {
            // A window of 0 would stall forever: the spec asks for at least 1.
            ch.reset(wireCodeOf('PROTOCOL_ERROR'))
            return
          }
          this.subs.set(topic, sub)
          ch.write(Uint8Array.of(1)) // acknowledge: events published from now on reach the subscriber
        }
        if (fin) {
          gone()
          if (ch.canSend) ch.end()
        }
      },
      onEnd: gone,
      onReset: gone,
      onWritable: () => {},
      onCredit: (events) => {
        sub.credit += events
        this.release(topic, sub)
      },
    })
  }

  private release(topic: string, sub: PeerSubscription): void {
    while (sub.credit > 0) {
      const e = sub.waiting.shift()
      if (e === undefined) return
      sub.credit--
      this.waitingBytes -= e.bytes.length
      this.waitingCount--
      this.host.transmit(e.kind, topic, e.value, e.bytes, e.signal, e.messageId, e.sink)
    }
  }

  /** The session ended: events still waiting were never written. */
  closeAll(reason: SwitchboardError): void {
    for (const [topic, sub] of this.subs) {
      for (let e = sub.waiting.shift(); e !== undefined; e = sub.waiting.shift()) {
        e.sink.failed(lossError(reason, false), {
          kind: e.kind,
          name: topic,
          value: e.value,
          messageId: e.messageId,
        })
      }
    }
    this.subs.clear()
    this.waitingBytes = 0
    this.waitingCount = 0
  }
}

/**
 * The subscriber's side of a connection's topics: one SUBSCRIBE channel per topic, shared by
 * every local subscription of it; an event is decoded once and handed to each.
 *
 * Events carry a sequence number per subscription. The entry drops a number it has already
 * seen (a publisher resending after a reconnect), and counts a jump as events the publisher
 * dropped under the subscription's policy. Credit is the acknowledgement: it goes back as the
 * slowest local subscription takes events, a quarter window at a time, and the publisher keeps
 * every event until it is credited, so it can send again what a lost connection did not carry.
 */
import { codeFromWire, type SwitchboardError, sbError } from '../errors.ts'
import type { Channel, OpenHeader } from '../mux/channel.ts'
import { MessageKind } from '../wire/constants.ts'
import { encodeSubscribeRequest, SubscribeAck } from './subscribe-request.ts'
import type { EventSink } from './subscription.ts'

export interface TopicHost {
  openChannel(header: OpenHeader): Channel
  nameId(name: string): number
  nextMessageId(): number
  readonly sessionEnded: boolean
  /** How this side is named in a publisher's reports. */
  readonly subscriberLabel: string
}

export class TopicEntry {
  readonly sinks = new Set<EventSink>()
  acknowledged = false
  /** Highest sequence number seen on this topic. */
  lastSeq: number
  /**
   * Events that count toward credit: those received on an earlier connection and not credited
   * there (still queued, or taken after its last credit), then every arrival.
   */
  private counted: number
  /** How many of `counted` came from an earlier connection (the publisher holds them too). */
  private readonly carriedOver: number
  private granted = 0
  private readonly grantAt: number
  /** Bound once: the credit hook every sink of this entry calls when its reader takes one. */
  readonly settle = (): void => this.settleCredit()

  constructor(
    readonly ch: Channel,
    window: number,
    lastSeq: number,
    carriedOver: number,
  ) {
    this.grantAt = Math.max(1, Math.floor(window / 4))
    this.lastSeq = lastSeq
    this.counted = carriedOver
    this.carriedOver = carriedOver
  }

  /**
   * The publisher answered a resume with NEW: it does not hold the events of the earlier
   * connection, so taking them must not credit this one.
   */
  forgetCarriedOver(): void {
    this.counted -= this.carriedOver
  }

  /** The channel ended: what the sinks took and this channel did not credit stays with them. */
  release(): void {
    const owed = Math.max(0, this.counted - this.maxPending() - this.granted)
    for (const sink of this.sinks) sink.uncredited = owed
  }

  private maxPending(): number {
    let pending = 0
    for (const sink of this.sinks) if (sink.pending > pending) pending = sink.pending
    return pending
  }

  /** The publisher has the subscription: it acknowledged, or its first event came. */
  acknowledge(): void {
    if (this.acknowledged) return
    this.acknowledged = true
    for (const sink of this.sinks) sink.acknowledge()
  }

  /** One decoded event for every local subscription of the topic. */
  deliver(value: unknown, seq: number): void {
    // Events are MSG frames and the acknowledgement rides the channel: an event may come first.
    this.acknowledge()
    this.counted++
    if (seq > this.lastSeq) {
      const skipped = seq - this.lastSeq - 1
      this.lastSeq = seq
      for (const sink of this.sinks) {
        sink.lastSeq = seq
        sink.deliver(value, skipped)
      }
    }
    this.settleCredit()
  }

  /** Returns credit for what the slowest local subscription has taken, a quarter window at a time. */
  private settleCredit(): void {
    const owed = this.counted - this.maxPending() - this.granted
    if (owed >= this.grantAt) {
      this.granted += owed
      this.ch.grantEvents(owed)
    }
  }
}

export class TopicSubscriptions {
  private readonly entries = new Map<string, TopicEntry>()

  constructor(private readonly host: TopicHost) {}

  get size(): number {
    return this.entries.size
  }

  get subscriberCount(): number {
    let n = 0
    for (const e of this.entries.values()) n += e.sinks.size
    return n
  }

  /** The topic's entry, if we subscribed to it. */
  receiving(topic: string): TopicEntry | undefined {
    return this.entries.get(topic)
  }

  /** Delivers `topic`'s events to `sink`; returns the function that stops it. */
  attach(topic: string, sink: EventSink): () => void {
    let entry = this.entries.get(topic)
    if (entry === undefined) {
      try {
        entry = this.open(topic, sink)
      } catch (err) {
        const e = err as SwitchboardError
        sink.ended(e, this.host.sessionEnded || e.code === 'GOING_AWAY')
        return () => {}
      }
    } else {
      // Joins mid-stream: it gets what is published from now on.
      sink.lastSeq = entry.lastSeq
    }
    entry.sinks.add(sink)
    sink.carried = true
    sink.onTaken = entry.settle
    if (entry.acknowledged) sink.acknowledge()
    const e = entry
    return () => {
      if (sink.onTaken === e.settle) sink.onTaken = undefined
      if (!e.sinks.delete(sink) || e.sinks.size > 0) return
      if (this.entries.get(topic) === e) this.entries.delete(topic)
      if (e.ch.canSend) e.ch.end()
    }
  }

  private open(topic: string, first: EventSink): TopicEntry {
    const ch = this.host.openChannel({
      kind: MessageKind.SUBSCRIBE,
      method: this.host.nameId(topic),
      messageId: this.host.nextMessageId(),
    })
    // A resume: the events received on the earlier connection and not credited there (still
    // queued, or taken after its last credit) are held by the publisher too; they take room in
    // the window until read, and are credited on this channel as they are.
    const carriedOver = first.carried ? first.pending + first.uncredited : 0
    first.uncredited = 0
    const window = Math.max(1, first.window - carriedOver)
    const entry = new TopicEntry(ch, window, first.lastSeq, carriedOver)
    this.entries.set(topic, entry)
    const end = (err: SwitchboardError): void => {
      if (this.entries.get(topic) === entry) this.entries.delete(topic)
      entry.release()
      const connectionEnded = this.host.sessionEnded || err.code === 'GOING_AWAY'
      for (const sink of [...entry.sinks]) sink.ended(err, connectionEnded)
    }
    ch.bind({
      onData: (data, fin) => {
        ch.consume(data.length)
        if (data.length > 0) {
          if (data[0] === SubscribeAck.NEW) entry.forgetCarriedOver()
          entry.acknowledge()
        }
        if (fin) end(sbError('CANCELLED', `publisher ended the subscription to '${topic}'`))
      },
      onEnd: () => end(sbError('CANCELLED', `publisher ended the subscription to '${topic}'`)),
      onReset: (code) => end(sbError(codeFromWire(code), `subscription to '${topic}' ended`)),
      onWritable: () => {},
    })
    ch.write(
      encodeSubscribeRequest({
        window,
        policy: first.policy,
        resume: first.carried,
        resumeAfter: first.carried ? first.lastSeq : 0,
        label: this.host.subscriberLabel,
      }),
    )
    return entry
  }

  /** The session ended: every subscription hears it. */
  closeAll(reason: SwitchboardError): void {
    const entries = [...this.entries.values()]
    this.entries.clear()
    for (const e of entries) {
      e.release()
      for (const sink of [...e.sinks]) sink.ended(reason, true)
    }
  }
}

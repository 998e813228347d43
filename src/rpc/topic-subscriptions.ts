/**
 * The subscriber's side of a connection's topics: one SUBSCRIBE channel per topic, shared by
 * every local subscription of it; an event is decoded once and handed to each.
 *
 * The SUBSCRIBE body announces a window in events; the publisher sends at most that many ahead
 * of the credit we return on the channel. We return it as events arrive and are handed to the
 * subscriptions (whose own overflow policy bounds their queues), a quarter window at a time.
 */
import { codeFromWire, type SwitchboardError, sbError } from '../errors.ts'
import type { Channel, OpenHeader } from '../mux/channel.ts'
import { MessageKind } from '../wire/constants.ts'
import { varintSize, writeVarint } from '../wire/varint.ts'
import type { EventSink } from './subscription.ts'

export interface TopicHost {
  openChannel(header: OpenHeader): Channel
  nameId(name: string): number
  nextMessageId(): number
  readonly sessionEnded: boolean
}

export class TopicEntry {
  readonly sinks = new Set<EventSink>()
  acknowledged = false
  private owed = 0
  private readonly grantAt: number

  constructor(
    readonly ch: Channel,
    window: number,
  ) {
    this.grantAt = Math.max(1, Math.floor(window / 4))
  }

  /** The publisher has the subscription: it acknowledged, or its first event came. */
  acknowledge(): void {
    if (this.acknowledged) return
    this.acknowledged = true
    for (const sink of this.sinks) sink.acknowledge()
  }

  /** One decoded event for every local subscription of the topic. */
  deliver(value: unknown): void {
    // Events are MSG frames and the acknowledgement rides the channel: an event may come first.
    this.acknowledge()
    for (const sink of this.sinks) sink.deliver(value)
    if (++this.owed >= this.grantAt) {
      this.ch.grantEvents(this.owed)
      this.owed = 0
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
  attach(topic: string, sink: EventSink, window: number): () => void {
    let entry = this.entries.get(topic)
    if (entry === undefined) {
      try {
        entry = this.open(topic, window)
      } catch (err) {
        const e = err as SwitchboardError
        sink.ended(e, this.host.sessionEnded || e.code === 'GOING_AWAY')
        return () => {}
      }
    }
    entry.sinks.add(sink)
    if (entry.acknowledged) sink.acknowledge()
    const e = entry
    return () => {
      if (!e.sinks.delete(sink) || e.sinks.size > 0) return
      if (this.entries.get(topic) === e) this.entries.delete(topic)
      if (e.ch.canSend) e.ch.end()
    }
  }

  private open(topic: string, window: number): TopicEntry {
    const ch = this.host.openChannel({
      kind: MessageKind.SUBSCRIBE,
      method: this.host.nameId(topic),
      messageId: this.host.nextMessageId(),
    })
    const entry = new TopicEntry(ch, window)
    this.entries.set(topic, entry)
    const end = (err: SwitchboardError): void => {
      if (this.entries.get(topic) === entry) this.entries.delete(topic)
      const connectionEnded = this.host.sessionEnded || err.code === 'GOING_AWAY'
      for (const sink of [...entry.sinks]) sink.ended(err, connectionEnded)
    }
    ch.bind({
      onData: (data, fin) => {
        ch.consume(data.length)
        if (data.length > 0) entry.acknowledge()
        if (fin) end(sbError('CANCELLED', `publisher ended the subscription to '${topic}'`))
      },
      onEnd: () => end(sbError('CANCELLED', `publisher ended the subscription to '${topic}'`)),
      onReset: (code) => end(sbError(codeFromWire(code), `subscription to '${topic}' ended`)),
      onWritable: () => {},
    })
    const body = new Uint8Array(varintSize(window))
    writeVarint(body, 0, window)
    ch.write(body)
    return entry
  }

  /** The session ended: every subscription hears it. */
  closeAll(reason: SwitchboardError): void {
    const entries = [...this.entries.values()]
    this.entries.clear()
    for (const e of entries) for (const sink of [...e.sinks]) sink.ended(reason, true)
  }
}

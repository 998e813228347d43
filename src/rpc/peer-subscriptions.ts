/**
 * The publisher's side of one connection's topics: the SUBSCRIBE channels the peer opened, each
 * bound to that subscriber's stream in the registry (which outlives this connection). Reads the
 * request, acknowledges it, passes the subscriber's credit on, and detaches the streams when the
 * connection ends so they wait for the subscriber to resume.
 */
import { type ErrorCode, wireCodeOf } from '../errors.ts'
import type { Channel } from '../mux/channel.ts'
import { decodeSubscribeRequest, SubscribeAck, type SubscribeRequest } from './subscribe-request.ts'
import type { SubscriberRegistry } from './subscriber-registry.ts'
import type { EventWriter, SubscriberStream } from './subscriber-stream.ts'

export interface PublisherHost extends EventWriter {
  /** The registry key of the peer's subscription to `topic` (who, which link, topic). */
  subscriberKey(topic: string): string
  /** A code when the owner refuses the peer's subscription to `topic` (it has not logged in, say). */
  refuseSubscriber?(topic: string): ErrorCode | undefined
}

const ignore = { onData() {}, onEnd() {}, onReset() {}, onWritable() {} }

export class PeerSubscriptions {
  /** The stream each topic's channel carries on this connection. */
  private readonly streams = new Map<string, { stream: SubscriberStream; ch: Channel }>()

  constructor(
    private readonly host: PublisherHost,
    readonly registry: SubscriberRegistry,
  ) {}

  has(topic: string): boolean {
    return this.streams.has(topic)
  }

  /** The stream of the peer's subscription to `topic` on this connection. */
  streamOf(topic: string): SubscriberStream | undefined {
    return this.streams.get(topic)?.stream
  }

  /** Events waiting (numbered, not yet sent) in this connection's streams. */
  get waitingCount(): number {
    let n = 0
    for (const { stream } of this.streams.values()) n += stream.waiting
    return n
  }

  /** The peer opened a SUBSCRIBE channel: its body holds the request. */
  subscribed(topic: string, ch: Channel): void {
    if (this.streams.has(topic)) {
      ch.bind(ignore)
      ch.reset(wireCodeOf('PROTOCOL_ERROR'))
      return
    }
    let stream: SubscriberStream | undefined
    const unsubscribed = (): void => {
      if (stream === undefined) return
      if (this.streams.get(topic)?.ch === ch) this.streams.delete(topic)
      stream.leave()
      stream = undefined
      if (ch.canSend) ch.end()
    }
    ch.bind({
      onData: (data, fin) => {
        ch.consume(data.length)
        if (stream === undefined && data.length > 0) {
          let request: SubscribeRequest
          try {
            request = decodeSubscribeRequest(data)
          } catch {
            ch.reset(wireCodeOf('PROTOCOL_ERROR'))
            return
          }
          const refused = this.host.refuseSubscriber?.(topic)
          if (refused !== undefined) {
            ch.reset(wireCodeOf(refused))
            return
          }
          const got = this.registry.subscribe(this.host.subscriberKey(topic), topic, request)
          if ('refused' in got) {
            ch.reset(wireCodeOf(got.refused))
            return
          }
          stream = got.stream
          this.streams.set(topic, { stream, ch })
          ch.write(Uint8Array.of(got.resumed ? SubscribeAck.RESUMED : SubscribeAck.NEW))
          stream.attach(this.host, ch, request, got.resumed)
        }
        if (fin) unsubscribed()
      },
      onEnd: unsubscribed,
      onReset: () => {
        // The subscriber gave up on it (or the connection is going): the stream stays for a resume.
        if (this.streams.get(topic)?.ch === ch) this.streams.delete(topic)
        stream?.detach(ch)
        stream = undefined
      },
      onWritable: () => {},
      onCredit: (events) => stream?.credited(ch, events),
    })
  }

  /** This side is closing: each subscriber hears GOING_AWAY and may resume on another connection. */
  goingAway(): void {
    for (const { stream, ch } of this.streams.values()) {
      stream.detach(ch)
      ch.reset(wireCodeOf('GOING_AWAY'))
    }
    this.streams.clear()
  }

  /** The session ended: the streams wait for their subscribers to come back on another. */
  closeAll(): void {
    for (const { stream, ch } of this.streams.values()) stream.detach(ch)
    this.streams.clear()
  }
}

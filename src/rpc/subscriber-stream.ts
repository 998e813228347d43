/**
 * The publisher's stream of one topic's events to one subscriber. It numbers the events, keeps
 * each until the subscriber's credit acknowledges it, and outlives the connection: when the
 * subscriber resumes on a new connection (same link), the events it did not get are sent again
 * and numbering goes on, so the subscriber gets each event once.
 *
 * Events the subscriber has no credit for wait in a queue bounded in bytes (per subscriber, and
 * in total across the registry). When it is full, the subscriber's policy decides: 'block'
 * holds the publish until there is room, up to publishTimeout, then fails the subscription
 * (PUBLISH_TIMEOUT); 'drop-oldest' and 'drop-newest' drop (the subscriber sees the gap in the
 * numbers); 'disconnect' fails it at once (SLOW_CONSUMER).
 */
import { type ErrorCode, type SwitchboardError, sbError, wireCodeOf } from '../errors.ts'
import { Fifo } from '../internal/fifo.ts'
import type { Channel } from '../mux/channel.ts'
import type { Codec } from './codec.ts'
import type { SendSink } from './sinks.ts'
import type { SubscribeRequest, SubscriptionPolicy } from './subscribe-request.ts'

/** How one copy of a published event ended, for the publisher's report. */
export interface CopyOutcome {
  /** Written, or taken into the subscriber's queue (the stream delivers it from there). */
  delivered(): void
  /** Dropped under the subscriber's policy. */
  dropped(): void
  /** The subscription failed or ended before the copy was taken. */
  failed(label: string, code: ErrorCode): void
}

/** Writes an event on the connection the stream is attached to. */
export interface EventWriter {
  readonly codec: Codec
  /** Largest non-streamed body the subscriber accepts. */
  readonly remoteMaxMessageBytes: number
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

/** What a stream needs from the registry that owns it. */
export interface StreamOwner {
  readonly publishTimeoutMs: number
  readonly maxQueuedBytesPerSubscriber: number
  /** True while the registry's total of queued bytes leaves room for `bytes` more. */
  totalRoomFor(bytes: number): boolean
  queuedBytesChanged(delta: number): void
  dropped(): void
  /** The stream ended (failed, or the subscriber left): forget it. */
  removed(stream: SubscriberStream, failure: ErrorCode | undefined): void
}

interface QueuedEvent {
  seq: number
  kind: number
  bytes: Uint8Array
}

interface BlockedEvent {
  kind: number
  bytes: Uint8Array
  outcome: CopyOutcome
}

/** An event on the wire needs nothing back from its connection: the stream keeps it until credited. */
const RETAINED: SendSink = { written() {}, failed() {}, undone() {} }

export class SubscriberStream {
  /** The connection and channel carrying the stream now (undefined between connections). */
  private writer: EventWriter | undefined
  private ch: Channel | undefined
  /** The codec events were last encoded with (a fan-out groups subscribers by it). */
  codec: Codec | undefined
  private credit = 0
  private maxMessageBytes = Number.POSITIVE_INFINITY
  private nextSeq = 1
  /** Sent and not yet credited, in order. */
  private inFlight = new Fifo<QueuedEvent>()
  /** Numbered, not yet sent. */
  private queue = new Fifo<QueuedEvent>()
  private queuedBytes = 0
  /** 'block' publishes waiting for room, in order. */
  private readonly blocked = new Fifo<BlockedEvent>()
  private blockTimer: NodeJS.Timeout | undefined
  private graceTimer: NodeJS.Timeout | undefined
  private ended = false
  readonly policy: SubscriptionPolicy
  label: string

  constructor(
    readonly key: string,
    readonly topic: string,
    request: SubscribeRequest,
    private readonly owner: StreamOwner,
  ) {
    this.policy = request.policy
    this.label = request.label
    // A subscriber resuming with a publisher that forgot it (e.g. restarted) keeps its numbering.
    this.nextSeq = request.resumeAfter + 1
  }

  /** Events numbered and not yet sent. */
  get waiting(): number {
    return this.queue.length + this.blocked.length
  }

  get attached(): boolean {
    return this.ch !== undefined
  }

  /** Carries the stream on `ch` from now on (`resumed`: the subscriber has events up to resumeAfter). */
  attach(writer: EventWriter, ch: Channel, request: SubscribeRequest, resumed: boolean): void {
    clearTimeout(this.graceTimer)
    this.graceTimer = undefined
    this.writer = writer
    this.codec = writer.codec
    this.maxMessageBytes = writer.remoteMaxMessageBytes
    this.ch = ch
    this.label = request.label
    this.credit = request.window
    if (resumed) {
      // Up to resumeAfter the subscriber has them: they stay in flight, to be credited on the
      // new channel as it takes them. Above it they were lost on the way: sent again, first.
      const held = new Fifo<QueuedEvent>()
      const again = new Fifo<QueuedEvent>()
      for (let e = this.inFlight.shift(); e !== undefined; e = this.inFlight.shift()) {
        if (e.seq <= request.resumeAfter) held.push(e)
        else again.push(e)
      }
      for (let e = this.queue.shift(); e !== undefined; e = this.queue.shift()) again.push(e)
      this.inFlight = held
      this.queue = again
      let bytes = 0
      for (let i = 0; i < again.length; i++) bytes += again.at(i)!.bytes.length
      this.queuedBytes = bytes
    }
    this.pump()
  }

  /** `ch` stopped carrying the stream: wait up to publishTimeout for the subscriber to resume. */
  detach(ch: Channel): void {
    if (this.ended || this.ch !== ch) return
    this.writer = undefined
    this.ch = undefined
    this.credit = 0
    this.graceTimer ??= setTimeout(() => {
      this.fail(sbError('PUBLISH_TIMEOUT', `subscriber of '${this.topic}' did not come back in time`))
    }, this.owner.publishTimeoutMs)
    this.graceTimer.unref()
  }

  /** Offers one published event (already encoded with `codec`). */
  offer(kind: number, bytes: Uint8Array, outcome: CopyOutcome): void {
    if (this.ended) return outcome.failed(this.label, 'CANCELLED')
    // Would be refused on arrival: reported, and the subscription goes on.
    if (bytes.length > this.maxMessageBytes) return outcome.failed(this.label, 'MESSAGE_TOO_LARGE')
    if (this.blocked.length > 0) {
      this.blocked.push({ kind, bytes, outcome })
      return
    }
    if (this.roomFor(bytes.length)) {
      this.enqueue(kind, bytes)
      return outcome.delivered()
    }
    switch (this.policy) {
      case 'block':
        this.blocked.push({ kind, bytes, outcome })
        this.armBlockTimer()
        return
      case 'drop-newest':
        this.nextSeq++ // the gap tells the subscriber
        this.owner.dropped()
        return outcome.dropped()
      case 'drop-oldest':
        while (!this.roomFor(bytes.length) && this.queue.length > 0) {
          const old = this.queue.shift()!
          this.queuedBytes -= old.bytes.length
          this.owner.queuedBytesChanged(-old.bytes.length)
          this.owner.dropped()
        }
        this.enqueue(kind, bytes)
        return outcome.delivered()
      case 'disconnect':
        this.fail(sbError('SLOW_CONSUMER', `subscriber of '${this.topic}' fell behind its queue bound`))
        return outcome.failed(this.label, 'SLOW_CONSUMER')
    }
  }

  /** The subscriber took `events` more (cumulative acknowledgement): forget them, send more. */
  credited(ch: Channel, events: number): void {
    if (this.ch !== ch) return
    for (let i = 0; i < events; i++) {
      const e = this.inFlight.shift()
      if (e === undefined) break
      this.owner.queuedBytesChanged(-e.bytes.length)
    }
    this.credit += events
    this.pump()
  }

  /** The subscriber unsubscribed: nothing more goes to it. */
  leave(): void {
    this.end(undefined, 'CANCELLED')
  }

  /** Ends the subscription with `err`; the subscriber sees the code if it is still connected. */
  fail(err: SwitchboardError): void {
    if (this.ended) return
    if (this.ch !== undefined && this.ch.state !== 'closed') this.ch.reset(wireCodeOf(err.code))
    this.end(err.code, err.code)
  }

  /** Forgets the stream quietly (the publisher is closing). */
  discard(): void {
    this.end(undefined, 'SESSION_CLOSED')
  }

  private end(failure: ErrorCode | undefined, blockedCode: ErrorCode): void {
    if (this.ended) return
    this.ended = true
    clearTimeout(this.blockTimer)
    clearTimeout(this.graceTimer)
    let held = this.queuedBytes
    for (let i = 0; i < this.inFlight.length; i++) held += this.inFlight.at(i)!.bytes.length
    this.owner.queuedBytesChanged(-held)
    this.queue.clear()
    this.inFlight.clear()
    this.queuedBytes = 0
    for (let b = this.blocked.shift(); b !== undefined; b = this.blocked.shift()) {
      b.outcome.failed(this.label, blockedCode)
    }
    this.writer = undefined
    this.ch = undefined
    this.owner.removed(this, failure)
  }

  private roomFor(bytes: number): boolean {
    // One event always fits an empty queue, however large (as the link's outbound queue).
    if (this.queue.length === 0) return true
    return (
      this.queuedBytes + bytes <= this.owner.maxQueuedBytesPerSubscriber && this.owner.totalRoomFor(bytes)
    )
  }

  private enqueue(kind: number, bytes: Uint8Array): void {
    this.queue.push({ seq: this.nextSeq++, kind, bytes })
    this.queuedBytes += bytes.length
    this.owner.queuedBytesChanged(bytes.length)
    this.pump()
  }

  private pump(): void {
    const writer = this.writer
    while (writer !== undefined && this.credit > 0 && this.queue.length > 0 && !this.ended) {
      const e = this.queue.shift()!
      this.queuedBytes -= e.bytes.length
      this.credit--
      this.inFlight.push(e)
      writer.transmit(e.kind, this.topic, undefined, e.bytes, undefined, e.seq, RETAINED)
    }
    this.admitBlocked()
  }

  /** Moves 'block' publishes into the queue while there is room. */
  private admitBlocked(): void {
    if (this.blocked.length === 0) return
    let moved = false
    while (this.blocked.length > 0 && this.roomFor(this.blocked.peek()!.bytes.length)) {
      const b = this.blocked.shift()!
      this.queue.push({ seq: this.nextSeq++, kind: b.kind, bytes: b.bytes })
      this.queuedBytes += b.bytes.length
      this.owner.queuedBytesChanged(b.bytes.length)
      b.outcome.delivered()
      moved = true
    }
    if (moved) {
      clearTimeout(this.blockTimer)
      this.blockTimer = undefined
      if (this.blocked.length > 0) this.armBlockTimer()
      this.pump()
    }
  }

  /** publishTimeout after the oldest blocked publish started waiting (or last made progress). */
  private armBlockTimer(): void {
    if (this.blockTimer !== undefined) return
    this.blockTimer = setTimeout(() => {
      this.blockTimer = undefined
      this.fail(
        sbError(
          'PUBLISH_TIMEOUT',
          `subscriber of '${this.topic}' took nothing for ${this.owner.publishTimeoutMs} ms`,
        ),
      )
    }, this.owner.publishTimeoutMs)
    this.blockTimer.unref()
  }
}

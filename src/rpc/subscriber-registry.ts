/**
 * Every subscriber a publisher has, by (who, link, topic): the streams outlive connections, so a
 * subscriber that reconnects resumes its own. A server keeps one registry for all its
 * connections; a lone connection keeps its own. It also holds the limits all streams share (the
 * total queue cap) and, for a while, why a stream failed, so a subscriber that comes back after
 * it was given up hears the code instead of silently starting over.
 */
import { EventEmitter } from 'node:events'
import type { ErrorCode } from '../errors.ts'
import type { SubscribeRequest } from './subscribe-request.ts'
import { type StreamOwner, SubscriberStream } from './subscriber-stream.ts'

export interface PublishLimits {
  /** How long publish() waits for a 'block' subscriber's queue to have room, and how long a
   * subscriber whose connection dropped is waited for. Default 5,000 ms. */
  publishTimeout?: number
  /** Bytes of events one subscriber may have queued (not yet sent). Default 1 MiB. */
  maxQueuedBytesPerSubscriber?: number
  /** Bytes of events all subscribers together may hold (queued or unacknowledged). Default 64 MiB. */
  maxQueuedBytesTotal?: number
}

export const defaultPublishLimits: Readonly<Required<PublishLimits>> = Object.freeze({
  publishTimeout: 5000,
  maxQueuedBytesPerSubscriber: 1024 * 1024,
  maxQueuedBytesTotal: 64 * 1024 * 1024,
})

/** Failures remembered for subscribers that may still come back. */
const MAX_REMEMBERED_FAILURES = 4096

export type Subscribed =
  | { readonly stream: SubscriberStream; readonly resumed: boolean }
  | { readonly refused: ErrorCode }

export interface RegistryEvents {
  /** A subscriber's stream started or resumed. */
  subscribed: [stream: SubscriberStream]
}

export class SubscriberRegistry extends EventEmitter<RegistryEvents> implements StreamOwner {
  private readonly streams = new Map<string, SubscriberStream>()
  private readonly byTopic = new Map<string, Set<SubscriberStream>>()
  private readonly failures = new Map<string, ErrorCode>()
  readonly publishTimeoutMs: number
  readonly maxQueuedBytesPerSubscriber: number
  private readonly maxQueuedBytesTotal: number
  /** Bytes held by every stream (queued and unacknowledged). */
  queuedBytes = 0
  /** Events dropped under subscribers' policies, in total. */
  eventsDropped = 0
  /** Subscriptions that failed (PUBLISH_TIMEOUT, SLOW_CONSUMER), in total. */
  subscriptionsFailed = 0

  constructor(limits: PublishLimits = {}) {
    super()
    this.publishTimeoutMs = limits.publishTimeout ?? defaultPublishLimits.publishTimeout
    this.maxQueuedBytesPerSubscriber =
      limits.maxQueuedBytesPerSubscriber ?? defaultPublishLimits.maxQueuedBytesPerSubscriber
    this.maxQueuedBytesTotal = limits.maxQueuedBytesTotal ?? defaultPublishLimits.maxQueuedBytesTotal
  }

  /** A subscriber asked for `topic`: its stream, resumed when it is known and asked to resume. */
  subscribe(key: string, topic: string, request: SubscribeRequest): Subscribed {
    const failure = this.failures.get(key)
    if (failure !== undefined) {
      this.failures.delete(key)
      if (request.resume) return { refused: failure }
    }
    const existing = this.streams.get(key)
    if (existing !== undefined) {
      if (request.resume) {
        this.emit('subscribed', existing)
        return { stream: existing, resumed: true }
      }
      existing.leave() // a new subscription replaces the old one of the same link and topic
    }
    const stream = new SubscriberStream(key, topic, request, this)
    this.streams.set(key, stream)
    let set = this.byTopic.get(topic)
    if (set === undefined) {
      set = new Set()
      this.byTopic.set(topic, set)
    }
    set.add(stream)
    this.emit('subscribed', stream)
    return { stream, resumed: false }
  }

  /** The topic's subscribers, attached or waiting to resume. */
  subscribersOf(topic: string): ReadonlySet<SubscriberStream> | undefined {
    return this.byTopic.get(topic)
  }

  get size(): number {
    return this.streams.size
  }

  /** Events numbered and not yet sent, over every stream. */
  get eventsWaiting(): number {
    let n = 0
    for (const s of this.streams.values()) n += s.waiting
    return n
  }

  totalRoomFor(bytes: number): boolean {
    return this.queuedBytes + bytes <= this.maxQueuedBytesTotal
  }

  queuedBytesChanged(delta: number): void {
    this.queuedBytes += delta
  }

  dropped(): void {
    this.eventsDropped++
  }

  removed(stream: SubscriberStream, failure: ErrorCode | undefined): void {
    if (this.streams.get(stream.key) === stream) this.streams.delete(stream.key)
    const set = this.byTopic.get(stream.topic)
    set?.delete(stream)
    if (set?.size === 0) this.byTopic.delete(stream.topic)
    if (failure === undefined) return
    this.subscriptionsFailed++
    if (this.failures.size >= MAX_REMEMBERED_FAILURES) {
      this.failures.delete(this.failures.keys().next().value!)
    }
    this.failures.set(stream.key, failure)
  }

  /** Ends the streams whose subscriber is known to be gone (a peer that left): no grace period. */
  forget(gone: (stream: SubscriberStream) => boolean): void {
    for (const s of [...this.streams.values()]) if (gone(s)) s.leave()
  }

  /** The publisher is closing: every stream is forgotten. */
  closeAll(): void {
    for (const s of [...this.streams.values()]) s.discard()
    this.failures.clear()
  }
}

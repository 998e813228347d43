/**
 * The subscriber's side of a topic: events go to a callback (`subscribe(topic, onEvent)`, the hot
 * path: no queue, no promise per event) or into a bounded queue (a head index, not shift())
 * read by one async iterator, one hop per event. The subscription takes effect when the publisher acknowledges it (`ready`); from then on
 * it gets every event published, once, unless its own overflow policy dropped some (counted).
 */
import { type SwitchboardError, sbError } from '../errors.ts'
import { Fifo } from '../mux/fifo.ts'
import type { SubscribeOptions } from './types.ts'

/** Where a connection delivers a topic's events. */
export interface EventSink {
  /** An event arrived (already decoded; raw bytes are the subscriber's own copy). */
  deliver(value: unknown): void
  /** The publisher acknowledged the subscription: events after this reach the sink. */
  acknowledge(): void
  /** The connection ended the subscription; `connectionEnded` when the whole session went. */
  ended(err: SwitchboardError, connectionEnded: boolean): void
}

const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined })

export class Subscription<T = unknown> implements AsyncIterable<T>, EventSink {
  readonly topic: string
  /** Events dropped by the overflow policy. */
  dropped = 0
  /** Events delivered to the iterator or the callback. */
  received = 0
  /** Resolves when the publisher has the subscription (events after this are delivered). */
  readonly ready: Promise<void>
  private readonly queue = new Fifo<T>()
  private readonly maxQueued: number
  private readonly overflow: 'drop-oldest' | 'drop-newest'
  private readonly onEvent: ((value: T) => void) | undefined
  private waiter: { resolve(r: IteratorResult<T>): void; reject(e: SwitchboardError): void } | undefined
  private done = false
  private error: SwitchboardError | undefined
  private iterating = false
  private resolveReady!: () => void
  private rejectReady!: (err: SwitchboardError) => void
  private readonly onClose: () => void

  constructor(topic: string, options: SubscribeOptions | ((value: T) => void), onClose: () => void) {
    this.topic = topic
    const opts = typeof options === 'function' ? {} : options
    this.onEvent = typeof options === 'function' ? options : undefined
    this.maxQueued = opts.maxQueued ?? 1024
    this.overflow = opts.overflow ?? 'drop-oldest'
    if (!Number.isInteger(this.maxQueued) || this.maxQueued < 1) {
      throw sbError('INVALID_ARGUMENT', 'maxQueued must be a positive integer')
    }
    this.onClose = onClose
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve
      this.rejectReady = reject
    })
    this.ready.catch(() => {})
  }

  /** Events the publisher may send before the subscriber returns credit. */
  get window(): number {
    return this.maxQueued
  }

  /** @internal the publisher acknowledged. */
  acknowledge(): void {
    this.resolveReady()
  }

  /**
   * @internal a contract's check of each event before it is delivered (contract-client.ts):
   * it calls `accept` for the events that pass, in arrival order.
   */
  gate: ((value: unknown, accept: (value: unknown) => void) => void) | undefined

  /** @internal an event arrived. */
  deliver(value: unknown): void {
    if (this.done) return
    if (this.gate !== undefined) return this.gate(value, this.accept)
    this.accept(value)
  }

  private readonly accept = (value: unknown): void => {
    if (this.done) return
    if (this.onEvent !== undefined) {
      this.received++
      this.onEvent(value as T)
      return
    }
    const w = this.waiter
    if (w !== undefined) {
      this.waiter = undefined
      this.received++
      w.resolve({ done: false, value: value as T })
      return
    }
    if (this.queue.length >= this.maxQueued) {
      this.dropped++
      if (this.overflow === 'drop-newest') return
      this.queue.shift()
    }
    this.queue.push(value as T)
  }

  /** @internal the connection ended the subscription (`connectionEnded`: the link may carry on). */
  ended(err: SwitchboardError, _connectionEnded = false): void {
    this.fail(err)
  }

  /** @internal ends the subscription with an error (the iterator throws it after queued events). */
  fail(err: SwitchboardError): void {
    if (this.done) return
    this.error = err
    this.done = true
    this.rejectReady(err)
    this.settleWaiter()
  }

  /** Ends the subscription: the iterator finishes after the queued events. Idempotent. */
  close(): void {
    if (this.done) return
    this.done = true
    this.rejectReady(sbError('CANCELLED', 'subscription closed'))
    this.onClose()
    this.settleWaiter()
  }

  private settleWaiter(): void {
    const w = this.waiter
    if (w === undefined) return
    this.waiter = undefined
    if (this.error !== undefined) w.reject(this.error)
    else w.resolve(DONE)
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.onEvent !== undefined)
      throw sbError('INVALID_ARGUMENT', 'this subscription delivers to its callback')
    if (this.iterating) throw sbError('INVALID_ARGUMENT', 'a subscription can be iterated once')
    this.iterating = true
    return {
      next: () => this.next(),
      return: () => {
        this.close()
        return Promise.resolve(DONE)
      },
    }
  }

  private next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0) {
      this.received++
      return Promise.resolve({ done: false, value: this.queue.shift() as T })
    }
    if (this.error !== undefined) {
      const err = this.error
      this.close()
      return Promise.reject(err)
    }
    if (this.done) return Promise.resolve(DONE)
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject }
    })
  }
}

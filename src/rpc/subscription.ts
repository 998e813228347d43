/**
 * The subscriber's side of a topic on one connection: an async iterable over a bounded queue.
 * The subscription takes effect when the publisher acknowledges it (`ready`); from then on it
 * gets every event published, once, unless its own overflow policy dropped some (counted).
 */
import { type SwitchboardError, sbError } from '../errors.ts'
import type { SubscribeOptions } from './types.ts'

export class Subscription<T = unknown> implements AsyncIterable<T> {
  readonly topic: string
  /** Events dropped by the overflow policy. */
  dropped = 0
  /** Events delivered to the iterator. */
  received = 0
  /** Resolves when the publisher has the subscription (events after this are delivered). */
  readonly ready: Promise<void>
  private readonly queue: T[] = []
  private readonly maxQueued: number
  private readonly overflow: 'drop-oldest' | 'drop-newest'
  private wake: (() => void) | undefined
  private done = false
  private error: SwitchboardError | undefined
  private resolveReady!: () => void
  private rejectReady!: (err: SwitchboardError) => void
  private readonly onClose: () => void

  constructor(topic: string, options: SubscribeOptions, onClose: () => void) {
    this.topic = topic
    this.maxQueued = options.maxQueued ?? 1024
    this.overflow = options.overflow ?? 'drop-oldest'
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

  /** @internal the publisher acknowledged. */
  acknowledge(): void {
    this.resolveReady()
  }

  /** @internal an event arrived. */
  deliver(value: T): void {
    if (this.done) return
    if (this.queue.length >= this.maxQueued) {
      this.dropped++
      if (this.overflow === 'drop-newest') return
      this.queue.shift()
    }
    this.queue.push(value)
    this.notify()
  }

  /** @internal the connection ended the subscription. */
  fail(err: SwitchboardError): void {
    if (this.done) return
    this.error = err
    this.done = true
    this.rejectReady(err)
    this.notify()
  }

  /** Ends the subscription: the iterator finishes after the queued events. Idempotent. */
  close(): void {
    if (this.done) return
    this.done = true
    this.rejectReady(sbError('CANCELLED', 'subscription closed'))
    this.onClose()
    this.notify()
  }

  private notify(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (;;) {
        if (this.queue.length > 0) {
          this.received++
          yield this.queue.shift() as T
          continue
        }
        if (this.error !== undefined) throw this.error
        if (this.done) return
        await new Promise<void>((resolve) => {
          this.wake = resolve
        })
      }
    } finally {
      this.close()
    }
  }
}

/**
 * The subscriber's side of a topic: events go to a callback (`subscribe(topic, onEvent)`, the hot
 * path: no queue, no promise per event) or into a queue read by one async iterator, one hop per
 * event. The queue needs no bound of its own: the publisher sends at most `window` events ahead
 * of what the reader took (the connection returns credit as events are taken). The subscription
 * takes effect when the publisher acknowledges it (`ready`); from then on it gets every event
 * published, once, unless its policy made the publisher drop some (counted from the gaps in
 * their sequence numbers) or the subscription ended with an error.
 */
import { type SwitchboardError, sbError } from '../errors.ts'
import { PullQueue } from '../internal/pull-queue.ts'
import type { SubscriptionPolicy } from './subscribe-request.ts'
import type { SubscribeOptions } from './types.ts'

/** Where a connection delivers a topic's events. */
export interface EventSink {
  /** An event arrived (decoded); `skipped`: sequence numbers the publisher dropped before it. */
  deliver(value: unknown, skipped: number): void
  /** The publisher acknowledged the subscription: events after this reach the sink. */
  acknowledge(): void
  /** The connection ended the subscription; `connectionEnded` when the whole session went. */
  ended(err: SwitchboardError, connectionEnded: boolean): void
  /** Events delivered and not yet taken by the reader. */
  readonly pending: number
  /** The highest sequence number delivered (0: none): a resume after a reconnect starts there. */
  lastSeq: number
  /** Set once a connection carried it: the next subscription on the wire is a resume. */
  carried: boolean
  /** Events taken that the connection which carried them did not credit before it ended. */
  uncredited: number
  /** Set by the carrying connection: called when the reader takes a queued event. */
  onTaken: (() => void) | undefined
  readonly window: number
  readonly policy: SubscriptionPolicy
}

const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined })

export class Subscription<T = unknown> implements AsyncIterable<T>, EventSink {
  readonly topic: string
  /** Events the publisher dropped under this subscription's policy (gaps in the sequence). */
  dropped = 0
  /** Events delivered to the iterator or the callback. */
  received = 0
  /** Resolves when the publisher has the subscription (events after this are delivered). */
  readonly ready: Promise<void>
  lastSeq = 0
  carried = false
  uncredited = 0
  onTaken: (() => void) | undefined = undefined
  readonly policy: SubscriptionPolicy
  private readonly queue = new PullQueue<T>()
  private readonly maxQueued: number
  private readonly onEvent: ((value: T) => void) | undefined
  private done = false
  private error: SwitchboardError | undefined
  private iterating = false
  private resolveReady!: () => void
  private rejectReady!: (err: SwitchboardError) => void
  private readonly onClose: () => void

  constructor(topic: string, options: SubscribeOptions | ((value: T) => void), onClose: () => void) {
    this.topic = topic
    const opts = typeof options === 'function' ? {} : options
    this.onEvent =
      typeof options === 'function' ? options : (opts.onEvent as ((value: T) => void) | undefined)
    this.maxQueued = opts.maxQueued ?? 1024
    this.policy = opts.policy ?? opts.overflow ?? 'block'
    if (!['block', 'drop-oldest', 'drop-newest', 'disconnect'].includes(this.policy)) {
      throw sbError('INVALID_ARGUMENT', `unknown subscription policy '${String(this.policy)}'`)
    }
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

  /** @internal events this subscription passed on to a merged one that still holds them. */
  held = 0

  get pending(): number {
    return this.queue.length + this.held + this.validating
  }

  /**
   * @internal a contract's check of each event before it is delivered (contract-client.ts):
   * it calls `accept` for the events that pass, in arrival order.
   */
  gate: ((value: unknown, accept: (value: unknown) => void, drop: () => void) => void) | undefined
  /** Events handed to the gate and not yet accepted or dropped: they count as pending (credit). */
  private validating = 0

  /** @internal an event arrived. */
  deliver(value: unknown, skipped: number): void {
    if (this.done) return
    this.dropped += skipped
    if (this.gate !== undefined) {
      this.validating++
      return this.gate(value, this.validated, this.invalid)
    }
    this.accept(value)
  }

  /** The gate passed an event: it is delivered, and no longer pending in the gate. */
  private readonly validated = (value: unknown): void => {
    this.validating--
    this.accept(value)
    this.onTaken?.()
  }

  /** The gate dropped an event (invalid): its credit goes back. */
  private readonly invalid = (): void => {
    this.validating--
    this.onTaken?.()
  }

  private readonly accept = (value: unknown): void => {
    if (this.done) return
    if (this.onEvent !== undefined) {
      this.received++
      this.onEvent(value as T)
      return
    }
    // Straight to a waiting reader (counted now), or queued until it takes it (counted then).
    if (this.queue.push(value as T)) this.received++
  }

  /** @internal the connection ended the subscription (`connectionEnded`: the link may carry on). */
  ended(err: SwitchboardError, _connectionEnded = false): void {
    this.fail(err)
  }

  /** @internal told when the subscription fails (a merged subscription fails with its source). */
  onFailed: ((err: SwitchboardError) => void) | undefined = undefined

  /** @internal ends the subscription with an error (the iterator throws it after queued events). */
  fail(err: SwitchboardError): void {
    if (this.done) return
    this.error = err
    this.done = true
    this.onFailed?.(err)
    this.rejectReady(err)
    this.queue.settle(err)
  }

  /** Ends the subscription: the iterator finishes after the queued events. Idempotent. */
  close(): void {
    if (this.done) return
    this.done = true
    this.rejectReady(sbError('CANCELLED', 'subscription closed'))
    this.onClose()
    this.queue.settle()
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
      const value = this.queue.shift()
      this.onTaken?.()
      return Promise.resolve({ done: false, value })
    }
    if (this.error !== undefined) {
      const err = this.error
      this.close()
      return Promise.reject(err)
    }
    if (this.done) return Promise.resolve(DONE)
    return this.queue.wait()
  }
}

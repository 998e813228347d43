/**
 * The queue behind an async iterator that a producer pushes into (a streamed body, a
 * subscription's events). Items wait here until the reader pulls; a reader that finds it empty
 * waits, and the next push goes to it directly: one promise per item, no wake-up followed by a
 * second look at the queue. Unbounded on purpose: every producer of one is bounded by credit
 * (bytes or events) that goes back only as the reader takes items.
 *
 * It holds items and the one waiting reader, nothing else: whether the stream has ended or
 * failed, and what taking an item means (credit, counters), are the owner's.
 */
import { Fifo } from './fifo.ts'

interface Reader<T> {
  resolve(result: IteratorResult<T>): void
  reject(err: unknown): void
}

const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined })

export class PullQueue<T> {
  private readonly items = new Fifo<T>()
  private reader: Reader<T> | undefined

  /** Items queued (the reader has not taken them). */
  get length(): number {
    return this.items.length
  }

  /** Gives `item` to the waiting reader (true: it has it now) or queues it (false). */
  push(item: T): boolean {
    const r = this.reader
    if (r === undefined) {
      this.items.push(item)
      return false
    }
    this.reader = undefined
    r.resolve({ done: false, value: item })
    return true
  }

  /** The oldest queued item (check `length` first: an item itself may be undefined). */
  shift(): T {
    return this.items.shift() as T
  }

  /** For a reader that found the queue empty: the next pushed item, or what settle() says. */
  wait(): Promise<IteratorResult<T>> {
    return new Promise((resolve, reject) => {
      this.reader = { resolve, reject }
    })
  }

  /** The stream is over: a waiting reader gets `err`, or the end when there is none. */
  settle(err?: unknown): void {
    const r = this.reader
    if (r === undefined) return
    this.reader = undefined
    if (err !== undefined) r.reject(err)
    else r.resolve(DONE)
  }

  /** Forgets the queued items. */
  clear(): void {
    this.items.clear()
  }
}

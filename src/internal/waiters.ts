/**
 * Callers waiting for one thing to happen (a channel's queue fell below its high-water mark, a
 * connection drained, a link's first hello finished): wait() gives each a promise, and the owner,
 * which alone knows when the thing happened, settles them all at once with wake() or fail().
 * Pure: no timer, no clock; a waiter that must give up on time is its owner's business.
 */
export class Waiters<T = void> {
  private list: { resolve(value: T): void; reject(err: unknown): void }[] = []

  /** How many callers wait. */
  get size(): number {
    return this.list.length
  }

  /** A promise that the next wake() resolves or the next fail() rejects. */
  wait(): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.list.push({ resolve, reject })
    })
  }

  /** Resolves every caller waiting now; later wait() calls wait for the next wake(). */
  wake(value: T): void {
    if (this.list.length === 0) return
    for (const w of this.list.splice(0)) w.resolve(value)
  }

  /** Rejects every caller waiting now with `err`. */
  fail(err: unknown): void {
    if (this.list.length === 0) return
    for (const w of this.list.splice(0)) w.reject(err)
  }
}

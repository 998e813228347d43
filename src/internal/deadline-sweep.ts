/**
 * One coarse timer checks every deadline of its owner (DESIGN.md §7: no timer per request).
 * It runs only while something is registered (and one more tick after the last one left), every
 * `intervalMs` (default 25 ms), so a deadline
 * fires between 0 and `intervalMs` late. The timer is unref'd: a pending deadline never keeps a
 * process alive on its own (the connection it belongs to does).
 */
import { performance } from 'node:perf_hooks'

export interface Expirable {
  /** Monotonic ms (performance.now()) at which `expire` is called. */
  readonly deadlineAt: number
  expire(): void
}

export class DeadlineSweep {
  private readonly items = new Set<Expirable>()
  private timer: NodeJS.Timeout | undefined
  private readonly intervalMs: number

  constructor(intervalMs = 25) {
    this.intervalMs = intervalMs
  }

  add(item: Expirable): void {
    this.items.add(item)
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.intervalMs)
      this.timer.unref()
    }
  }

  delete(item: Expirable): void {
    // The timer is not stopped here: one call after another (concurrency 1) would otherwise
    // create and clear an interval per call. The next sweep stops it if nothing came back.
    this.items.delete(item)
  }

  get size(): number {
    return this.items.size
  }

  private sweep(): void {
    const now = performance.now()
    for (const item of this.items) {
      if (item.deadlineAt <= now) {
        this.items.delete(item)
        item.expire()
      }
    }
    if (this.items.size === 0) this.stop()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}

/**
 * The receiver's memory of idempotent messages (DESIGN.md §3 invariant 4): keyed by (peer
 * identity, link id, message id), so a repeat sent after a reconnect gets the first run's result
 * instead of a second run, and a repeat that arrives while the first run is still going waits
 * for it. Bounded by count, age and stored bytes; the oldest finished entries go first. A
 * forgotten id (evicted, response too large to keep, process restarted) simply runs again, which
 * is what `idempotent` permits.
 */
import { performance } from 'node:perf_hooks'

/** Bounds of the dedupe memory (one per server or link). */
export interface DedupeWindow {
  /** Most message ids remembered. Default 10,000. */
  maxIds: number
  /** An id is forgotten this long after its run finished, ms. Default 300,000 (5 min). */
  maxAgeMs: number
  /** Most bytes of stored responses. Default 16 MiB. */
  maxBytes: number
  /** A response larger than this is not stored (a repeat runs again), bytes. Default 1 MiB. */
  maxResponseBytes: number
}

export const defaultDedupeWindow: Readonly<DedupeWindow> = Object.freeze({
  maxIds: 10_000,
  maxAgeMs: 5 * 60_000,
  maxBytes: 16 * 1024 * 1024,
  maxResponseBytes: 1024 * 1024,
})

/** What a finished run left for repeats: response bytes, an error END, or (one-way) nothing. */
export type Outcome =
  | { kind: 'response'; raw: boolean; bytes: Uint8Array }
  | { kind: 'error'; status: number; detail: Uint8Array }
  | { kind: 'done' }

/** Called with the first run's outcome, or undefined when it kept none (the repeat runs itself). */
export type OutcomeWaiter = (outcome: Outcome | undefined) => void

interface Entry {
  outcome: Outcome | undefined
  finishedAt: number
  bytes: number
  waiters: OutcomeWaiter[]
}

export class DedupeTable {
  private readonly window: DedupeWindow
  /** Insertion order = age order (Map keeps it), so eviction takes from the front. */
  private readonly entries = new Map<string, Entry>()
  private storedBytes = 0

  constructor(window: Partial<DedupeWindow> = {}) {
    this.window = { ...defaultDedupeWindow, ...window }
  }

  /**
   * Starts the run of `key`: 'run' when the caller must run it (it then calls finish()),
   * 'wait' when a run is going (`waiter` gets its outcome), or the stored outcome.
   */
  begin(key: string, waiter: OutcomeWaiter): 'run' | 'wait' | Outcome {
    this.evict()
    const e = this.entries.get(key)
    if (e === undefined) {
      this.entries.set(key, { outcome: undefined, finishedAt: 0, bytes: 0, waiters: [] })
      return 'run'
    }
    if (e.finishedAt === 0) {
      e.waiters.push(waiter)
      return 'wait'
    }
    if (e.outcome === undefined) {
      e.finishedAt = 0 // kept nothing: this repeat becomes the run
      return 'run'
    }
    return e.outcome
  }

  /** The run of `key` finished; `outcome` undefined when nothing can be replayed (stream, aborted). */
  finish(key: string, outcome: Outcome | undefined): void {
    const e = this.entries.get(key)
    if (e === undefined) return
    const size = outcome === undefined ? 0 : sizeOf(outcome)
    const kept = outcome !== undefined && size <= this.window.maxResponseBytes ? outcome : undefined
    const waiters = e.waiters
    if (kept === undefined) {
      this.entries.delete(key)
    } else {
      e.outcome = kept
      e.bytes = size
      e.finishedAt = performance.now()
      e.waiters = []
      this.storedBytes += size
      // Re-insert so age order follows finish time.
      this.entries.delete(key)
      this.entries.set(key, e)
    }
    this.evict()
    for (const w of waiters) w(kept)
  }

  private evict(): void {
    const now = performance.now()
    for (const [key, e] of this.entries) {
      const over = this.entries.size > this.window.maxIds || this.storedBytes > this.window.maxBytes
      const old = e.finishedAt !== 0 && now - e.finishedAt > this.window.maxAgeMs
      if (!over && !old) break
      if (e.finishedAt === 0) {
        if (!over) break
        continue // a run still going is never dropped while others can be
      }
      this.entries.delete(key)
      this.storedBytes -= e.bytes
    }
  }

  getStats(): { ids: number; bytes: number } {
    return { ids: this.entries.size, bytes: this.storedBytes }
  }
}

function sizeOf(o: Outcome): number {
  if (o.kind === 'response') return o.bytes.length
  if (o.kind === 'error') return o.detail.length + 8
  return 8
}

/**
 * Back-off for failed logins, per source (a remote address, say). The first failure is answered
 * at once; each further one waits before it is answered, 250 ms, then twice as long each time,
 * up to 30 s; a success resets the source. Attempts from one source run one after another, so
 * a guesser cannot skip the waits by trying in parallel, and only a few may wait in line
 * (beyond that: AUTH_FAILED at once, without a check). A source quiet for `forgetAfterMs` starts
 * over, and at most `maxSources` are remembered (the least recently failed are forgotten first).
 */
import { setTimeout as sleepMs } from 'node:timers/promises'
import { sbError } from '../../errors.ts'

export interface BackoffOptions {
  /** The wait after the second failure in a row, ms; it doubles with each further one. Default 250. */
  readonly initialMs?: number
  /** The longest wait, ms. Default 30,000. */
  readonly maxMs?: number
  /** Attempts from one source waiting for their turn; more fail at once. Default 8. */
  readonly maxWaitingPerSource?: number
  /** Sources remembered at once. Default 10,000. */
  readonly maxSources?: number
  /** A source with no failure for this long starts over, ms. Default 900,000 (15 min). */
  readonly forgetAfterMs?: number
  /** Monotonic clock, ms. Default performance.now. */
  readonly now?: () => number
  /** Waits `ms`. Default: a real timer. Tests inject a fake. */
  readonly sleep?: (ms: number) => Promise<void>
}

interface SourceState {
  failures: number
  lastFailureAt: number
  waiting: number
  tail: Promise<unknown>
}

export class LoginBackoff {
  readonly #initialMs: number
  readonly #maxMs: number
  readonly #maxWaiting: number
  readonly #maxSources: number
  readonly #forgetAfterMs: number
  readonly #now: () => number
  readonly #sleep: (ms: number) => Promise<void>
  readonly #sources = new Map<string, SourceState>()

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 250
    this.#maxMs = options.maxMs ?? 30_000
    this.#maxWaiting = options.maxWaitingPerSource ?? 8
    this.#maxSources = options.maxSources ?? 10_000
    this.#forgetAfterMs = options.forgetAfterMs ?? 900_000
    this.#now = options.now ?? (() => performance.now())
    this.#sleep = options.sleep ?? ((ms) => sleepMs(ms))
  }

  /** The wait before answering the `failures`-th failure in a row: 0, then 250, 500, … up to maxMs. */
  delayFor(failures: number): number {
    if (failures <= 1) return 0
    return Math.min(this.#initialMs * 2 ** Math.min(failures - 2, 30), this.#maxMs)
  }

  /** Failures in a row counted for `source` (0 when unknown or forgotten). */
  failures(source: string): number {
    const state = this.#sources.get(source)
    if (state === undefined || this.#now() - state.lastFailureAt >= this.#forgetAfterMs) return 0
    return state.failures
  }

  /**
   * Runs `check` in `source`'s turn; when it answers false, waits the back-off before returning
   * false. Throws AUTH_FAILED without calling `check` when too many attempts already wait.
   */
  async attempt(source: string, check: () => Promise<boolean>): Promise<boolean> {
    let state = this.#sources.get(source)
    if (state === undefined) {
      state = { failures: 0, lastFailureAt: 0, waiting: 0, tail: Promise.resolve() }
      this.#sources.set(source, state)
      this.#evict()
    }
    if (state.waiting >= this.#maxWaiting) {
      throw sbError('AUTH_FAILED', 'too many login attempts at once from this source; try again later')
    }
    const s = state
    s.waiting++
    const turn = s.tail.then(() => this.#run(source, s, check))
    s.tail = turn.catch(() => {})
    try {
      return await turn
    } finally {
      s.waiting--
      if (s.waiting === 0 && s.failures === 0 && this.#sources.get(source) === s) this.#sources.delete(source)
    }
  }

  async #run(source: string, s: SourceState, check: () => Promise<boolean>): Promise<boolean> {
    if (this.#now() - s.lastFailureAt >= this.#forgetAfterMs) s.failures = 0
    if (await check()) {
      s.failures = 0
      return true
    }
    s.failures++
    s.lastFailureAt = this.#now()
    // Most recently failed last: eviction forgets the sources that failed longest ago.
    this.#sources.delete(source)
    this.#sources.set(source, s)
    await this.#sleep(this.delayFor(s.failures))
    return false
  }

  #evict(): void {
    for (const [source, state] of this.#sources) {
      if (this.#sources.size <= this.#maxSources) return
      if (state.waiting === 0) this.#sources.delete(source)
    }
  }
}

/**
 * Small helpers shared by the runner, the agents and the adapters: timeouts on every wait, a
 * yield to the event loop, percentiles, a cross-process clock, CPU and memory readings, and a
 * gate for producers whose library gives a promise or callback per message instead of `drain`.
 */

/** Rejects with a message naming what was awaited when `promise` does not settle within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Resolves in the next check phase: pending setImmediate flushes run first, then I/O is polled. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** The q-quantile (0..1) of `values`, nearest rank; sorts `values` in place. */
export function quantile(values: Float64Array, q: number): number {
  if (values.length === 0) return Number.NaN
  values.sort()
  const rank = Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1))
  return values[rank]!
}

/** CLOCK_MONOTONIC in ns: one clock for every process on the machine (fan-out timing). */
export function monoNs(): number {
  return Number(process.hrtime.bigint())
}

/** CPU time (user + system, all threads) this process used, µs. */
export function cpuMicros(): number {
  const u = process.cpuUsage()
  return u.user + u.system
}

/** Peak resident set of this process since it started, KiB. */
export function maxRssKiB(): number {
  return process.resourceUsage().maxRSS
}

/** A full collection when the agent runs with --expose-gc, so garbage from setup is not timed. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc !== undefined) gc()
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * Back-pressure from per-message completions: `add()` per message sent, `done()` per completion
 * (pass `done` itself as the library's callback); `backlogged` above `high` outstanding,
 * `wait()` resolves at `high / 2`, or rejects once `fail()` was called.
 */
export class InflightGate {
  private outstanding = 0
  private waiters: { resolve: () => void; reject: (err: Error) => void }[] = []
  private failure: Error | undefined

  constructor(private readonly high = 4096) {}

  add(): void {
    this.outstanding++
  }

  readonly done = (): void => {
    this.outstanding--
    if (this.waiters.length > 0 && this.outstanding <= this.high / 2) {
      const waiters = this.waiters
      this.waiters = []
      for (const w of waiters) w.resolve()
    }
  }

  get backlogged(): boolean {
    return this.outstanding > this.high
  }

  wait(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.outstanding <= this.high / 2) return Promise.resolve()
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }))
  }

  fail(err: Error): void {
    this.failure ??= err
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w.reject(err)
  }
}

/**
 * Correlates echo replies by a u32 id: one Map entry and one promise per request. `settle`
 * resolves the request whose reply carried `got` bytes, or rejects it when `expected` differs.
 */
export class Pending {
  private next = 1
  private readonly map = new Map<
    number,
    { resolve: () => void; reject: (e: Error) => void; expected: number }
  >()

  open(expected: number): { id: number; promise: Promise<void> } {
    const id = this.next
    this.next = (this.next + 1) >>> 0 || 1
    const promise = new Promise<void>((resolve, reject) => this.map.set(id, { resolve, reject, expected }))
    return { id, promise }
  }

  /** False when no request has this id. */
  settle(id: number, got: number): boolean {
    const entry = this.map.get(id)
    if (entry === undefined) return false
    this.map.delete(id)
    if (got === entry.expected) entry.resolve()
    else entry.reject(new Error(`echo of ${got} bytes, sent ${entry.expected}`))
    return true
  }

  failAll(err: Error): void {
    const entries = [...this.map.values()]
    this.map.clear()
    for (const e of entries) e.reject(err)
  }
}

/** One reply awaited at a time (barriers, big messages, streams). */
export class Deferred<T> {
  private entry: { resolve: (v: T) => void; reject: (e: Error) => void } | undefined

  expect(): Promise<T> {
    if (this.entry !== undefined) return Promise.reject(new Error('a reply is already awaited'))
    return new Promise<T>((resolve, reject) => (this.entry = { resolve, reject }))
  }

  /** False when no reply was awaited. */
  resolve(value: T): boolean {
    const e = this.entry
    if (e === undefined) return false
    this.entry = undefined
    e.resolve(value)
    return true
  }

  reject(err: Error): void {
    const e = this.entry
    this.entry = undefined
    e?.reject(err)
  }
}

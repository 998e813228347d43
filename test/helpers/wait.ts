/**
 * Waiting in tests without fixed sleeps. Every wait has a timeout and a description, so a test
 * that would hang fails instead, saying what it was waiting for.
 *
 *   await waitFor(server, 'connection', { what: 'the server to accept' })
 *   await waitFor(() => peers.size === 3, { what: '3 peers listed', describe: () => `${peers.size}` })
 *   const res = await withTimeout(client.call('x'), 2000, 'the call to x')
 *
 * Prefer waiting for an event. Polling a predicate (setImmediate first, then short intervals)
 * is for conditions that have no event.
 */
import type { EventEmitter } from 'node:events'
import { budget } from '../budget.ts'

/** Thrown when a wait runs out of time. */
export class WaitTimeoutError extends Error {
  readonly what: string
  readonly timeoutMs: number

  constructor(what: string, timeoutMs: number, detail?: string) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? ` (${detail})` : ''}`)
    this.name = 'WaitTimeoutError'
    this.what = what
    this.timeoutMs = timeoutMs
  }
}

export interface WaitOptions {
  /** What is awaited, for the failure message ("the server to accept a connection"). */
  what: string
  /** Give up after this long; default budget.waitTimeoutMs. */
  timeoutMs?: number
}

export interface PollOptions extends WaitOptions {
  /** Poll interval once the first few setImmediate turns did not satisfy the predicate; default 5 ms. */
  intervalMs?: number
  /** Describes the current state for the failure message ("2 of 3 peers"). */
  describe?: () => string
}

export interface EventWaitOptions<A extends unknown[]> extends WaitOptions {
  /** Only an event whose arguments pass this resolves the wait; others are ignored. */
  filter?: (...args: A) => boolean
  /** Reject when the emitter emits 'error' first (as events.once does); default true. */
  rejectOnError?: boolean
}

/** Rejects with a WaitTimeoutError if `promise` does not settle within `ms`. The timer is cleared either way. */
export function withTimeout<T>(promise: PromiseLike<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new WaitTimeoutError(what, ms)), ms)
    Promise.resolve(promise).then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (err: unknown) => {
        clearTimeout(timer)
        reject(err)
      },
    )
  })
}

/** Polls `predicate` until it returns true; rejects with the last state when time runs out. */
export function waitFor(predicate: () => boolean | Promise<boolean>, options: PollOptions): Promise<void>
/** Resolves with the arguments of the next `event` (passing `filter`) emitted by `emitter`. */
export function waitFor<A extends unknown[] = unknown[]>(
  emitter: EventEmitter,
  event: string | symbol,
  options: EventWaitOptions<A>,
): Promise<A>
export function waitFor(
  target: (() => boolean | Promise<boolean>) | EventEmitter,
  eventOrOptions: string | symbol | PollOptions,
  maybeOptions?: EventWaitOptions<unknown[]>,
): Promise<unknown> {
  if (typeof target === 'function') return waitUntil(target, eventOrOptions as PollOptions)
  if (maybeOptions === undefined)
    throw new TypeError('waitFor(emitter, event, options): options are required')
  return waitForEvent(target, eventOrOptions as string | symbol, maybeOptions)
}

/** Polls `predicate`: a few setImmediate turns first (cheap, catches "next tick" conditions), then every intervalMs. */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  options: PollOptions,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? budget.waitTimeoutMs
  const intervalMs = options.intervalMs ?? 5
  const start = performance.now()
  for (let turn = 0; ; turn++) {
    if (await predicate()) return
    if (performance.now() - start >= timeoutMs) {
      let detail: string | undefined
      try {
        detail = options.describe ? `last state: ${options.describe()}` : undefined
      } catch (err) {
        detail = `describe() threw: ${String(err)}`
      }
      throw new WaitTimeoutError(options.what, timeoutMs, detail)
    }
    await new Promise<void>((resolve) => {
      if (turn < 10) setImmediate(resolve)
      else setTimeout(resolve, intervalMs)
    })
  }
}

/** Resolves with the arguments of the next matching `event`; listeners are removed on every outcome. */
export function waitForEvent<A extends unknown[] = unknown[]>(
  emitter: EventEmitter,
  event: string | symbol,
  options: EventWaitOptions<A>,
): Promise<A> {
  const timeoutMs = options.timeoutMs ?? budget.waitTimeoutMs
  const rejectOnError = (options.rejectOnError ?? true) && event !== 'error'
  return new Promise<A>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer)
      emitter.removeListener(event, onEvent)
      if (rejectOnError) emitter.removeListener('error', onError)
    }
    const onEvent = (...args: unknown[]): void => {
      const typed = args as A
      if (options.filter && !options.filter(...typed)) return
      cleanup()
      resolve(typed)
    }
    const onError = (err: unknown): void => {
      cleanup()
      const wrapped = new Error(`'error' emitted while waiting for ${options.what}: ${String(err)}`, {
        cause: err,
      })
      reject(wrapped)
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(new WaitTimeoutError(options.what, timeoutMs, `no '${String(event)}' event`))
    }, timeoutMs)
    emitter.on(event, onEvent)
    if (rejectOnError) emitter.on('error', onError)
  })
}

/** Collects the arguments of `count` matching `event`s, in order; the timeout covers all of them. */
export function collectEvents<A extends unknown[] = unknown[]>(
  emitter: EventEmitter,
  event: string | symbol,
  count: number,
  options: EventWaitOptions<A>,
): Promise<A[]> {
  const timeoutMs = options.timeoutMs ?? budget.waitTimeoutMs
  const seen: A[] = []
  if (count <= 0) return Promise.resolve(seen)
  return new Promise<A[]>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer)
      emitter.removeListener(event, onEvent)
    }
    const onEvent = (...args: unknown[]): void => {
      const typed = args as A
      if (options.filter && !options.filter(...typed)) return
      seen.push(typed)
      if (seen.length >= count) {
        cleanup()
        resolve(seen)
      }
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(
        new WaitTimeoutError(options.what, timeoutMs, `got ${seen.length} of ${count} '${String(event)}'`),
      )
    }, timeoutMs)
    emitter.on(event, onEvent)
  })
}

/**
 * One message a caller gave a link (request, send or publish), from submission until it settles
 * exactly once. It keeps its message id across resends, so a receiver can dedupe idempotent
 * repeats, and its deadline across reconnects.
 */
import { performance } from 'node:perf_hooks'
import type { SwitchboardError } from '../errors.ts'
import type { Expirable } from '../internal/deadline-sweep.ts'

export type DeliveryKind = 'request' | 'send' | 'publish'

export interface DeliveryFlags {
  idempotent: boolean
  oneShot: boolean
  ordered: boolean
}

const noop = (): void => {}

export class Delivery implements Expirable {
  state: 'queued' | 'inflight' | 'settled' = 'queued'
  /** Monotonic ms; Infinity without a deadline. */
  readonly deadlineAt: number
  attempts = 0
  /** A streamed body can be read once: once started it cannot be resent. */
  readonly resendable: boolean
  private onAbort: (() => void) | undefined

  constructor(
    readonly kind: DeliveryKind,
    readonly name: string,
    readonly data: unknown,
    readonly bytes: number,
    readonly messageId: number,
    readonly flags: DeliveryFlags,
    readonly timeoutMs: number | undefined,
    readonly signal: AbortSignal | undefined,
    readonly trace: Uint8Array | undefined,
    private readonly resolveFn: (v: unknown) => void,
    private readonly rejectFn: (e: SwitchboardError) => void,
    streamed: boolean,
  ) {
    this.deadlineAt = timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs
    this.resendable = !streamed
  }

  /** Ms left before the deadline (undefined: none). */
  remainingMs(): number | undefined {
    if (this.timeoutMs === undefined) return undefined
    return this.deadlineAt - performance.now()
  }

  /** While queued, an abort drops it (the link's handler); in flight the connection's call handles it. */
  watchAbort(handler: () => void): void {
    this.unwatchAbort()
    if (this.signal === undefined) return
    this.onAbort = handler
    this.signal.addEventListener('abort', handler, { once: true })
  }

  unwatchAbort(): void {
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort)
    this.onAbort = undefined
  }

  /** Set by the link: what happens when the deadline passes while queued. */
  expire: () => void = noop

  resolve(value: unknown): void {
    if (this.state === 'settled') return
    this.state = 'settled'
    this.unwatchAbort()
    this.resolveFn(value)
  }

  reject(err: SwitchboardError): void {
    if (this.state === 'settled') return
    this.state = 'settled'
    this.unwatchAbort()
    this.rejectFn(err)
  }
}

/** True for a streamed body (async iterable or web ReadableStream), which can be read once. */
export function isStream(data: unknown): boolean {
  return (
    typeof data === 'object' &&
    data !== null &&
    !(data instanceof Uint8Array) &&
    (Symbol.asyncIterator in data ||
      (typeof ReadableStream !== 'undefined' && data instanceof ReadableStream))
  )
}

/** Bytes a queued body counts against maxQueuedBytes. */
export function sizeOf(data: unknown): number {
  if (data instanceof Uint8Array) return data.length
  return 64 // values are measured when encoded; a queued value counts as a small message
}

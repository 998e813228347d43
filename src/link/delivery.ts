/**
 * One message a caller gave a link (request, send or publish), from submission until it settles
 * exactly once. It keeps its message id across resends, so a receiver can dedupe idempotent
 * repeats, and its deadline across reconnects.
 */
import { performance } from 'node:perf_hooks'
import type { SwitchboardError } from '../errors.ts'
import type { Expirable } from '../internal/deadline-sweep.ts'
import { isByteSource } from '../rpc/body.ts'
import type { Codec } from '../rpc/codec.ts'
import type { CallSink, OneWayKind, SendSink } from '../rpc/sinks.ts'
import type { AttemptOptions } from '../rpc/types.ts'

/** What a delivery reports its attempts to (the link), so an attempt costs no closures. */
export interface DeliveryOwner {
  attemptSucceeded(d: Delivery, value: unknown): void
  attemptFailed(d: Delivery, err: SwitchboardError): void
  /** A one-way message was written, then refused unprocessed or cut off (see SendSink.undone). */
  attemptUndone(d: Delivery, err: SwitchboardError): void
  /** The message failed for good (reported once). */
  finalFailure(kind: DeliveryKind, name: string, err: SwitchboardError): void
}

const noop = (): void => {}

/** A request, or a one-way message (send, publish). */
export type DeliveryKind = 'request' | OneWayKind

export interface DeliveryFlags {
  idempotent: boolean
  oneShot: boolean
  ordered: boolean
}

export class Delivery implements Expirable, CallSink, SendSink, AttemptOptions {
  state: 'queued' | 'inflight' | 'settled' = 'queued'
  /** The caller's promise, marked handled only when it rejects (no catch per message). */
  promise: Promise<unknown> | undefined
  /** The caller set the timeout (a streamed response then keeps it; the default does not). */
  explicitTimeout = false
  /** Its promise already resolved (a one-way message resent after that reports failure by event). */
  resolvedOnce = false
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
    /** Bytes it counts against maxQueuedBytes while queued (measured when first queued). */
    public bytes: number,
    readonly messageId: number,
    readonly flags: DeliveryFlags,
    readonly timeoutMs: number | undefined,
    readonly signal: AbortSignal | undefined,
    readonly trace: Uint8Array | undefined,
    streamed: boolean,
    private readonly owner: DeliveryOwner,
  ) {
    this.deadlineAt = timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs
    this.resendable = !streamed
  }

  /** AttemptOptions: the receiver may dedupe a repeat. */
  get idempotent(): boolean {
    return this.flags.idempotent
  }

  private resolveFn: (v: unknown) => void = noop
  private rejectFn: (e: SwitchboardError) => void = noop

  /** The functions that settle the caller's promise. */
  settleWith(resolve: (v: unknown) => void, reject: (e: SwitchboardError) => void): void {
    this.resolveFn = resolve
    this.rejectFn = reject
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

  // ---- sinks: the connection reports the current attempt here -------------------------------

  resolved(value: unknown): void {
    this.owner.attemptSucceeded(this, value)
  }

  written(): void {
    this.owner.attemptSucceeded(this, undefined)
  }

  rejected(err: SwitchboardError): void {
    // A microtask later, as a promise would: the connection is failing its calls while it goes
    // down, and a resend must not pick that connection before the pool has seen it close.
    queueMicrotask(() => this.owner.attemptFailed(this, err))
  }

  failed(err: SwitchboardError): void {
    this.rejected(err)
  }

  undone(err: SwitchboardError): void {
    queueMicrotask(() => this.owner.attemptUndone(this, err))
  }

  resolve(value: unknown): void {
    if (this.state === 'settled') return
    this.state = 'settled'
    this.resolvedOnce = true
    this.unwatchAbort()
    this.resolveFn(value)
    // A written one-way message stays with its connection until the peer counts it; the
    // caller's promise and its functions need not: let them die young.
    this.resolveFn = noop
    this.rejectFn = noop
    this.promise = undefined
  }

  reject(err: SwitchboardError): void {
    if (this.state === 'settled') return
    this.state = 'settled'
    this.unwatchAbort()
    // Observed here, so ignoring the promise never raises unhandledRejection; awaiting it still
    // sees the rejection.
    this.promise?.catch(noop)
    this.owner.finalFailure(this.kind, this.name, err)
    // A one-way message resent after its promise resolved: the event above is its report.
    this.rejectFn(err)
  }
}

/** Bytes a body counts against maxQueuedBytes: its length, or its encoding by `codec`. */
export function sizeOf(data: unknown, codec: Codec): number {
  if (data instanceof Uint8Array) return data.length
  if (data === undefined || isByteSource(data)) return 0
  return codec.encode(data).length
}

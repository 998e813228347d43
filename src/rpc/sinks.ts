/**
 * Callback sinks: how the layer above learns what became of a message, without a promise or a
 * closure per message (undici's handlers below its promise API). A link passes its own
 * per-message record as the sink; the connection's promise API wraps one sink per call.
 */
import type { SwitchboardError } from '../errors.ts'
import { KIND_MASK, MessageKind } from '../wire/constants.ts'

/** A one-way message is a plain message (send) or an event on a topic (publish). */
export type OneWayKind = 'send' | 'publish'

/** The caller's end of a request. Exactly one of the two is called, once. */
export interface CallSink {
  resolved(value: unknown): void
  rejected(err: SwitchboardError): void
}

/** What a one-way message was, so its sink can send it again elsewhere. */
export interface SentMessage {
  /** Its wire kind: MessageKind.NOTIFY or EVENT with body flags (read it with oneWayKindOf). */
  readonly kind: number
  readonly name: string
  /** The caller's data as given (a value, or bytes). */
  readonly value: unknown
  readonly messageId: number
}

/** Whether `msg` was sent with send() or publish(), for a sink that sends it again. */
export function oneWayKindOf(msg: SentMessage): OneWayKind {
  return (msg.kind & KIND_MASK) === MessageKind.EVENT ? 'publish' : 'send'
}

/** The caller's end of a one-way message (send, publish). */
export interface SendSink {
  /** Handed to the transport: send() resolves here. */
  written(): void
  /** Failed before it was written (a LostMessageError when its connection ended). */
  failed(err: SwitchboardError, msg: SentMessage): void
  /**
   * After written(): the peer refused it unprocessed (its GOAWAY), or the connection ended before
   * the peer counted it (`lossOf(err).written` true: it may have run). A link sends it again
   * where the delivery rules allow; a bare connection reports it as sendFailed.
   */
  undone(err: SwitchboardError, msg: SentMessage): void
}

/** A CallSink over one promise (the connection's own request()). */
export class PromiseCallSink implements CallSink {
  resolved: (value: unknown) => void
  rejected: (err: SwitchboardError) => void
  readonly promise: Promise<unknown>

  constructor() {
    let resolve!: (value: unknown) => void
    let reject!: (err: SwitchboardError) => void
    this.promise = new Promise((res, rej) => {
      resolve = res
      reject = rej
    })
    this.resolved = resolve
    this.rejected = reject
  }
}

/** A SendSink over one promise; `undone` goes to `onUndone` (the connection's sendFailed). */
export class PromiseSendSink implements SendSink {
  written: () => void
  failed: (err: SwitchboardError) => void
  readonly promise: Promise<void>

  constructor(private readonly onUndone: (err: SwitchboardError) => void) {
    let resolve!: () => void
    let reject!: (err: SwitchboardError) => void
    this.promise = new Promise((res, rej) => {
      resolve = res
      reject = rej
    })
    this.written = resolve
    this.failed = reject
  }

  undone(err: SwitchboardError): void {
    this.onUndone(err)
  }
}

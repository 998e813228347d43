/**
 * The one-way messages a link sends in one event-loop turn that cannot fail on their own (no
 * flags, no signal, sent at once on a connection that is up) share one promise: it resolves when
 * every one of them has been written (protocol v2's "one promise per flush"), so a burst of
 * `send()` costs one frame object per message and no promise of its own.
 *
 * Such a message can only fail with its connection or its link: a lost one is sent again under
 * the delivery rules (as its own delivery, reporting back here); only the link closing fails the
 * batch, and then it fails every message in it alike.
 */
import type { SwitchboardError } from '../errors.ts'
import type { SendSink, SentMessage } from '../rpc/sinks.ts'

/** What a batch reports to its link. */
export interface BatchOwner {
  /** One member was written (the link's in-flight count). */
  batchMemberWritten(): void
  /** One member failed before it was written. */
  batchMemberFailed(batch: SendBatch, err: SwitchboardError, msg: SentMessage): void
  /** One member was written, then refused unprocessed or cut off (SendSink.undone). */
  batchMemberUndone(err: SwitchboardError, msg: SentMessage): void
}

const noop = (): void => {}

export class SendBatch implements SendSink {
  readonly promise: Promise<void>
  /** Messages in the batch, and how many of them were written. */
  members = 0
  private done = 0
  /** Set once a member was written: the turn is over, new messages start a new batch. */
  sealed = false
  private settled = false
  private resolveFn: () => void = noop
  private rejectFn: (err: SwitchboardError) => void = noop

  constructor(private readonly owner: BatchOwner) {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolveFn = resolve
      this.rejectFn = reject
    })
  }

  written(): void {
    this.sealed = true
    this.owner.batchMemberWritten()
    this.memberDone()
  }

  failed(err: SwitchboardError, msg: SentMessage): void {
    this.owner.batchMemberFailed(this, err, msg)
  }

  undone(err: SwitchboardError, msg: SentMessage): void {
    this.owner.batchMemberUndone(err, msg)
  }

  /** A member is done (written, on its first attempt or a later one). */
  memberDone(): void {
    if (++this.done === this.members && !this.settled) {
      this.settled = true
      this.resolveFn()
    }
  }

  /** A member left the batch before it started (its send() reported its own failure). */
  leave(): void {
    this.members--
    if (this.done === this.members && this.sealed && !this.settled) {
      this.settled = true
      this.resolveFn()
    }
  }

  /** The link failed a member for good: the shared promise rejects (observed, never unhandled). */
  fail(err: SwitchboardError): void {
    if (this.settled) return
    this.settled = true
    this.promise.catch(noop)
    this.rejectFn(err)
  }
}

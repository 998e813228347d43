/**
 * The link's queue of messages not yet started (DESIGN.md §3 invariant 1: bounded, one owner).
 * Kept in send order (message id), so a message put back after a lost connection goes before
 * everything sent after it. A queued message's deadline and abort signal drop it from here.
 */
import { type SwitchboardError, sbError } from '../errors.ts'
import { DeadlineSweep } from '../internal/deadline-sweep.ts'
import type { Delivery } from './delivery.ts'

/** What take() does with one queued message: start it on this value, leave it, or stop looking. */
export type Decision<C> = C | 'keep' | 'stop'

export class Outbox {
  private items: Delivery[] = []
  /** Bytes of the queued messages (their bodies as measured at submit). */
  bytes = 0
  private readonly sweep = new DeadlineSweep()

  /** `drop` settles a message its deadline or signal removed (the link's fail()). */
  constructor(private readonly drop: (d: Delivery, err: SwitchboardError) => void) {}

  get size(): number {
    return this.items.length
  }

  /** True when a message of `bytes` must be refused: the queue is not empty and would pass `max`. */
  full(bytes: number, max: number): boolean {
    return this.items.length > 0 && this.bytes + bytes > max
  }

  add(d: Delivery): void {
    d.state = 'queued'
    let i = this.items.length
    while (i > 0 && this.items[i - 1]!.messageId > d.messageId) i--
    if (i === this.items.length) this.items.push(d)
    else this.items.splice(i, 0, d)
    this.bytes += d.bytes
    d.expire = () => {
      if (this.remove(d)) this.drop(d, sbError('DEADLINE', `'${d.name}' passed its deadline while queued`))
    }
    if (d.deadlineAt !== Number.POSITIVE_INFINITY) this.sweep.add(d)
    d.watchAbort(() => {
      if (this.remove(d)) this.drop(d, sbError('CANCELLED', `'${d.name}' was cancelled while queued`))
    })
  }

  /** Removes `d` if it is queued; false when it was not. */
  remove(d: Delivery): boolean {
    const i = this.items.indexOf(d)
    if (i < 0) return false
    this.items.splice(i, 1)
    this.forget(d)
    return true
  }

  private forget(d: Delivery): void {
    this.bytes -= d.bytes
    this.sweep.delete(d)
    d.unwatchAbort()
  }

  /**
   * One pass in send order: `decide` says, for each message, where to start it (it is then
   * removed and returned with that value), to leave it queued, or to stop. O(queue length).
   */
  take<C>(decide: (d: Delivery) => Decision<C>): [Delivery, C][] {
    const taken: [Delivery, C][] = []
    let kept: Delivery[] | undefined
    let i = 0
    for (; i < this.items.length; i++) {
      const d = this.items[i]!
      const decision = decide(d)
      if (decision === 'stop') break
      if (decision === 'keep') {
        ;(kept ??= []).push(d)
        continue
      }
      this.forget(d)
      taken.push([d, decision as C])
    }
    if (taken.length > 0) this.items = [...(kept ?? []), ...this.items.slice(i)]
    return taken
  }

  /** Removes and returns every queued message that passes `pred`, in send order. */
  removeWhere(pred: (d: Delivery) => boolean): Delivery[] {
    const out = this.items.filter(pred)
    if (out.length === 0) return out
    this.items = this.items.filter((d) => !pred(d))
    for (const d of out) this.forget(d)
    return out
  }

  stop(): void {
    this.sweep.stop()
  }
}

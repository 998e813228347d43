/**
 * A joined peer's subscription to a topic: one link subscription per peer that publishes it,
 * merged into one iterator (or callback). Each source keeps its own sequence numbers, credit and
 * resume, so every publisher's events arrive once and in that publisher's order; events of
 * different publishers interleave as they arrive.
 *
 * Credit still reflects the reader: an event waiting in the merged queue counts as pending in
 * the source it came from, and the source's credit goes back when the reader takes it.
 */
import type { SwitchboardError } from '../errors.ts'
import { Fifo } from '../internal/fifo.ts'
import { Subscription } from '../rpc/subscription.ts'
import type { SubscribeOptions } from '../rpc/types.ts'

interface Source {
  readonly sub: Subscription
  droppedSeen: number
}

export class MergedSubscription<T = unknown> extends Subscription<T> {
  /** Sources by publisher instance. */
  private readonly sources = new Map<string, Source>()
  /** The source of each event in the queue, in queue order. */
  private readonly holders = new Fifo<Source>()
  private readonly waitingAck = new Set<string>()
  private started = false

  constructor(topic: string, options: SubscribeOptions | ((value: T) => void), onClose: () => void) {
    super(topic, options, onClose)
    // The reader took a queued event: its source may return that credit.
    this.onTaken = () => {
      const src = this.holders.shift()
      if (src === undefined) return
      src.sub.held--
      src.sub.onTaken?.()
    }
  }

  /** The options a source subscription is made with (its window and policy are ours). */
  get sourceOptions(): SubscribeOptions {
    return { maxQueued: this.window, policy: this.policy }
  }

  has(instance: string): boolean {
    return this.sources.has(instance)
  }

  /**
   * Adds the subscription to one publisher; `subscribe` makes it in callback form with the
   * callback given. Before start() the merged subscription is ready only once this one is.
   */
  add(instance: string, subscribe: (onEvent: (value: unknown) => void) => Subscription): void {
    if (this.sources.has(instance)) return
    let src: Source | undefined
    const sub = subscribe((value) => {
      if (src !== undefined) this.push(src, value)
    })
    src = { sub, droppedSeen: 0 }
    this.sources.set(instance, src)
    sub.onFailed = (err) => this.sourceFailed(instance, err)
    if (!this.started) this.waitingAck.add(instance)
    sub.ready.then(
      () => this.acknowledged(instance),
      () => {},
    )
  }

  /** The publisher left: its subscription goes (events already queued stay). */
  remove(instance: string): void {
    const src = this.sources.get(instance)
    if (src === undefined) return
    this.sources.delete(instance)
    src.sub.onFailed = undefined
    src.sub.close()
    this.acknowledged(instance)
  }

  /** Every publisher known when it subscribed has been added: ready once each acknowledged. */
  start(): void {
    this.started = true
    if (this.waitingAck.size === 0) this.acknowledge()
  }

  override close(): void {
    super.close()
    for (const instance of [...this.sources.keys()]) this.remove(instance)
  }

  private push(src: Source, value: unknown): void {
    const skipped = src.sub.dropped - src.droppedSeen
    src.droppedSeen = src.sub.dropped
    const before = this.pending
    this.deliver(value, skipped)
    if (this.pending > before) {
      src.sub.held++
      this.holders.push(src)
    }
  }

  private acknowledged(instance: string): void {
    if (!this.waitingAck.delete(instance)) return
    if (this.started && this.waitingAck.size === 0) this.acknowledge()
  }

  /**
   * A source ended. Its publisher failed it under our policy (PUBLISH_TIMEOUT, SLOW_CONSUMER):
   * the whole subscription fails with that code. Otherwise its link went (the publisher left or
   * cannot be reached): only that source goes; the peer adds it again if the publisher returns.
   */
  private sourceFailed(instance: string, err: SwitchboardError): void {
    if (!this.sources.has(instance)) return
    if (err.code !== 'PUBLISH_TIMEOUT' && err.code !== 'SLOW_CONSUMER') return this.remove(instance)
    this.sources.delete(instance)
    this.fail(err)
    for (const other of [...this.sources.keys()]) this.remove(other)
  }
}

/**
 * One publish to every subscriber of a topic, and its report. The value is encoded once per
 * codec in use (usually one), not once per subscriber; one tally and one promise serve every
 * copy, and it resolves once each copy is delivered (written, or taken into that subscriber's
 * queue), dropped by the subscriber's policy, or failed.
 */
import { type ErrorCode, type SwitchboardError, sbError } from '../errors.ts'
import { BodyFlag, MessageKind } from '../wire/constants.ts'
import { type Codec, msgpackCodec } from './codec.ts'
import type { SubscriberRegistry } from './subscriber-registry.ts'
import type { CopyOutcome } from './subscriber-stream.ts'

/** What became of one publish. "No receivers" is `delivered: 0`, a result, not an error. */
export interface PublishReport {
  /** Copies written or queued for their subscriber (the publisher delivers queued ones, resending across reconnects). */
  delivered: number
  /** Copies a subscriber's policy ('drop-newest') dropped. */
  dropped: number
  /** Subscribers this event did not reach, with why (PUBLISH_TIMEOUT, SLOW_CONSUMER, MESSAGE_TOO_LARGE, …). */
  failed: { peer: string; code: ErrorCode }[]
}

const EMPTY = new Uint8Array(0)

class PublishTally implements CopyOutcome {
  expected = 0
  private settledCount = 0
  private readonly report: PublishReport = { delivered: 0, dropped: 0, failed: [] }
  private resolveFn: ((r: PublishReport) => void) | undefined

  delivered(): void {
    this.report.delivered++
    this.settle()
  }

  dropped(): void {
    this.report.dropped++
    this.settle()
  }

  failed(peer: string, code: ErrorCode): void {
    this.report.failed.push({ peer, code })
    this.settle()
  }

  private settle(): void {
    if (++this.settledCount === this.expected) this.resolveFn?.(this.report)
  }

  result(): Promise<PublishReport> {
    if (this.settledCount >= this.expected) return Promise.resolve(this.report)
    return new Promise((resolve) => {
      this.resolveFn = resolve
    })
  }
}

/**
 * Offers `data` to every subscriber of `topic` in `registry`. Rejects only for the publisher's
 * own mistakes (a value the codec cannot encode, an aborted signal); every subscriber's fate is
 * in the report.
 */
export function publishToAll(
  registry: SubscriberRegistry,
  topic: string,
  data: unknown,
  signal?: AbortSignal,
): Promise<PublishReport> {
  if (signal?.aborted) return Promise.reject(sbError('CANCELLED', `publish on '${topic}' was cancelled`))
  const tally = new PublishTally()
  const streams = registry.subscribersOf(topic)
  if (streams === undefined) return tally.result()
  const raw = data instanceof Uint8Array
  const kind = MessageKind.EVENT | (raw ? BodyFlag.RAW : 0)
  const targets = [...streams]
  // Encoded before any copy is offered, so a value the codec refuses reaches nobody.
  const bodies = new Map<Codec, Uint8Array>()
  if (!raw) {
    try {
      for (const stream of targets) {
        const codec = stream.codec ?? msgpackCodec
        if (!bodies.has(codec)) bodies.set(codec, data === undefined ? EMPTY : codec.encode(data))
      }
    } catch (err) {
      return Promise.reject(err as SwitchboardError)
    }
  }
  tally.expected = targets.length
  for (const stream of targets) {
    stream.offer(kind, raw ? data : bodies.get(stream.codec ?? msgpackCodec)!, tally)
  }
  return tally.result()
}

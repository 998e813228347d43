/**
 * Every delivery default of a link in one object (STYLE.md practice 3 and 12); docs/delivery.md
 * and docs/limits.md describe each. Pass any of them to connect()/pair() to override.
 */
import { sbError } from '../errors.ts'
import { type DedupeWindow, defaultDedupeWindow } from '../rpc/dedupe.ts'

export interface LinkTuning {
  /** Reconnect after a lost connection or a failed dial. Default true. */
  reconnect: boolean
  /** Consecutive failed dials before the link closes with the last error. Default Infinity. */
  maxRetries: number
  /** First reconnect delay, ms; doubled after each failed dial. Default 100. */
  backoffInitialMs: number
  /** Largest reconnect delay, ms. Default 30,000. */
  backoffMaxMs: number
  /** Each delay is drawn uniformly from [delay × (1 − jitter), delay]. Default 0.5. */
  backoffJitter: number
  /** Bytes of messages not yet started that may wait; beyond it calls fail with QUEUE_FULL. Default 8 MiB. */
  maxQueuedBytes: number
  /** Most connections of one link (a pool). Default 4. */
  poolMax: number
  /** A connection is added when more than this many messages wait per connection. Default 64. */
  poolGrowThreshold: number
  /** Most dials in progress at once. Default 2. */
  maxPendingConnects: number
  /** A connection beyond the first that carried nothing for this long is closed, ms. Default 30,000. */
  poolIdleMs: number
  /** Memory of idempotent calls the peer makes on this link (see rpc/dedupe.ts). */
  dedupeWindow: DedupeWindow
}

export const defaultLinkOptions: Readonly<LinkTuning> = Object.freeze({
  reconnect: true,
  maxRetries: Number.POSITIVE_INFINITY,
  backoffInitialMs: 100,
  backoffMaxMs: 30_000,
  backoffJitter: 0.5,
  maxQueuedBytes: 8 * 1024 * 1024,
  poolMax: 4,
  poolGrowThreshold: 64,
  maxPendingConnects: 2,
  poolIdleMs: 30_000,
  dedupeWindow: defaultDedupeWindow,
})

/** Checks a full tuning at construction (STYLE.md practice 12): a bad value fails here, coded. */
export function validateTuning(t: LinkTuning): void {
  const positive = [
    'backoffInitialMs',
    'backoffMaxMs',
    'maxQueuedBytes',
    'poolMax',
    'maxPendingConnects',
    'poolIdleMs',
  ] as const
  for (const k of positive) {
    if (!(t[k] > 0)) throw sbError('INVALID_ARGUMENT', `${k} must be a positive number`)
  }
  if (!(t.maxRetries >= 0)) throw sbError('INVALID_ARGUMENT', 'maxRetries must be ≥ 0')
  if (!(t.backoffJitter >= 0 && t.backoffJitter <= 1))
    throw sbError('INVALID_ARGUMENT', 'backoffJitter must be in [0, 1]')
  if (!(t.poolGrowThreshold >= 1)) throw sbError('INVALID_ARGUMENT', 'poolGrowThreshold must be ≥ 1')
}

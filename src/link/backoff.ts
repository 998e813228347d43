/**
 * Reconnect delays: exponential (initial × 2^attempt, capped) with jitter, so many clients of a
 * restarted server do not dial in lockstep.
 */

/** Delay before dial number `attempt` (0-based) after a failure, ms. `random` is in [0, 1). */
export function backoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  jitter: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30))
  return base * (1 - jitter * random())
}

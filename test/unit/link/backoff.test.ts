/** Reconnect delays: exponential from the initial delay, capped, jittered downwards only. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { backoffDelay } from '../../../src/link/backoff.ts'
import { defaultLinkOptions } from '../../../src/link/defaults.ts'

test('defaults: 100 ms doubling to 30 s, jitter takes at most half', () => {
  const { backoffInitialMs: a, backoffMaxMs: m, backoffJitter: j } = defaultLinkOptions
  const top = (n: number): number => backoffDelay(n, a, m, j, () => 0)
  assert.deepEqual([0, 1, 2, 3].map(top), [100, 200, 400, 800])
  assert.equal(top(9), 30_000)
  assert.equal(top(1000), 30_000)
  assert.equal(
    backoffDelay(0, a, m, j, () => 0.999999),
    100 * (1 - 0.5 * 0.999999),
  )
  assert.equal(defaultLinkOptions.maxRetries, Number.POSITIVE_INFINITY)
  assert.equal(defaultLinkOptions.reconnect, true)
})

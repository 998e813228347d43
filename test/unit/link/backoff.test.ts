/**
 * Reconnect delays (src/link/backoff.ts): exponential growth from the initial delay, a cap that
 * holds for any attempt number, jitter that only shortens a delay and covers its whole range
 * (drawn with a seeded generator, so a failure repeats), and, in the pool that uses them, a
 * delay that starts over after a connection succeeded (timers mocked: exact, no waiting).
 */
import assert from 'node:assert/strict'
import { mock, test } from 'node:test'
import { backoffDelay } from '../../../src/link/backoff.ts'
import { defaultLinkOptions } from '../../../src/link/defaults.ts'
import { harness, settle } from './pool-harness.ts'

/** mulberry32: a small seeded generator of floats in [0, 1). */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

test('grows by doubling from the initial delay until the cap, then stays there', () => {
  const top = (n: number): number => backoffDelay(n, 100, 30_000, 0.5, () => 0)
  const delays = Array.from({ length: 12 }, (_, n) => top(n))
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000, 30_000])
  for (let n = 1; n < delays.length; n++) {
    const grew = delays[n]! / delays[n - 1]!
    assert.ok(grew === 2 || delays[n] === 30_000, `attempt ${n} grew ×${grew}`)
  }
})

test('the cap holds for any attempt number (no overflow to Infinity or NaN)', () => {
  for (const attempt of [30, 31, 64, 1024, 1e6, Number.MAX_SAFE_INTEGER]) {
    const d = backoffDelay(attempt, 100, 30_000, 0, Math.random)
    assert.equal(d, 30_000, `attempt ${attempt}`)
  }
  // A cap larger than 2^30 × initial is never reached: the exponent stops growing there.
  assert.equal(backoffDelay(1e6, 1, Number.MAX_SAFE_INTEGER, 0), 2 ** 30)
})

test('jitter only shortens: over 10,000 seeded draws every delay is in [base × (1 − jitter), base] and the range is covered', () => {
  const random = seeded(0x5eed)
  for (const jitter of [0.5, 0.2, 1]) {
    for (const attempt of [0, 3, 20]) {
      const base = Math.min(30_000, 100 * 2 ** attempt)
      const low = base * (1 - jitter)
      let min = Number.POSITIVE_INFINITY
      let max = 0
      let sum = 0
      const n = 10_000
      for (let i = 0; i < n; i++) {
        const d = backoffDelay(attempt, 100, 30_000, jitter, random)
        assert.ok(
          d >= low && d <= base,
          `jitter ${jitter}, attempt ${attempt}: ${d} outside [${low}, ${base}]`,
        )
        min = Math.min(min, d)
        max = Math.max(max, d)
        sum += d
      }
      const span = base - low
      assert.ok(min - low < span * 0.01, `draws reach the low end (${min} vs ${low})`)
      assert.ok(base - max < span * 0.01, `draws reach the high end (${max} vs ${base})`)
      // Uniform over the range: the mean sits in the middle.
      const mean = sum / n
      assert.ok(Math.abs(mean - (low + base) / 2) < span * 0.02, `mean ${mean} of [${low}, ${base}]`)
    }
  }
})

test('no jitter gives the exact delay; the default draws use Math.random within bounds', () => {
  assert.equal(
    backoffDelay(2, 100, 30_000, 0, () => 0.9),
    400,
  )
  const { backoffInitialMs: a, backoffMaxMs: m, backoffJitter: j } = defaultLinkOptions
  for (let i = 0; i < 1000; i++) {
    const d = backoffDelay(4, a, m, j)
    assert.ok(d > 1600 * (1 - j) - 1e-9 && d <= 1600, String(d))
  }
})

test('the pool waits each backoff delay before redialing, and starts over from the initial delay after a success', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] })
  t.after(() => mock.timers.reset())
  const h = harness({ backoffInitialMs: 100, backoffMaxMs: 350, backoffJitter: 0 })
  h.setWork(true)
  h.pool.ensure()

  /** Fails the latest dial and returns how long the pool waited before dialing again. */
  const failAndMeasure = async (): Promise<number> => {
    const before = h.dials.length
    h.dials.at(-1)!.fail('CONNECT_FAILED')
    await settle()
    let waited = 0
    while (h.dials.length === before) {
      assert.ok(waited < 10_000, 'the pool never redialed')
      mock.timers.tick(1)
      waited++
    }
    return waited
  }

  const first = [
    await failAndMeasure(),
    await failAndMeasure(),
    await failAndMeasure(),
    await failAndMeasure(),
  ]
  assert.deepEqual(first, [100, 200, 350, 350], 'doubling, capped at backoffMaxMs')

  const conn = h.dials.at(-1)!.succeed()
  await settle()
  assert.equal(h.pool.size, 1)
  conn.die(undefined)
  h.pool.ensure() // the link asks for a replacement at once
  const after = [await failAndMeasure(), await failAndMeasure()]
  assert.deepEqual(after, [100, 200], 'a success resets the backoff')
  h.pool.stop()
})

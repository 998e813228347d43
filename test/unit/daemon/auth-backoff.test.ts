/**
 * Login back-off per source, on an injected clock and sleep: the delays double from 250 ms to
 * the 30 s cap after the first failure, a success resets, attempts from one source run one at a
 * time (parallel guesses pay every wait), a queue too long is refused at once, other sources are
 * unaffected, and a quiet source is forgotten.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LoginBackoff } from '../../../src/daemon/auth/backoff.ts'

function fake() {
  const slept: number[] = []
  let now = 0
  const backoff = new LoginBackoff({
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms)
      now += ms
    },
  })
  return { backoff, slept, advance: (ms: number) => (now += ms) }
}

const fail = async () => false
const pass = async () => true

test('the delays: 0 for the first failure, then 250, 500, 1000 … capped at 30 s', async () => {
  const { backoff, slept } = fake()
  for (let i = 0; i < 10; i++) assert.equal(await backoff.attempt('10.0.0.1', fail), false)
  assert.deepEqual(slept, [0, 250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000])
  assert.equal(backoff.failures('10.0.0.1'), 10)
  assert.equal(backoff.delayFor(100), 30000)
})

test('a success resets the source; other sources are not slowed by it', async () => {
  const { backoff, slept } = fake()
  await backoff.attempt('a', fail)
  await backoff.attempt('a', fail)
  await backoff.attempt('b', fail)
  assert.equal(await backoff.attempt('a', pass), true)
  assert.equal(backoff.failures('a'), 0)
  await backoff.attempt('a', fail)
  assert.deepEqual(slept, [0, 250, 0, 0], "b's first failure and a's first after the reset cost nothing")
})

test('parallel attempts from one source run one at a time and each pays its wait', async () => {
  const { backoff, slept } = fake()
  let running = 0
  let most = 0
  const check = async () => {
    running++
    most = Math.max(most, running)
    await new Promise((resolve) => setImmediate(resolve))
    running--
    return false
  }
  const results = await Promise.all(Array.from({ length: 5 }, () => backoff.attempt('x', check)))
  assert.deepEqual(results, [false, false, false, false, false])
  assert.equal(most, 1, 'never two checks of one source at once')
  assert.deepEqual(slept, [0, 250, 500, 1000, 2000])
})

test('more than maxWaitingPerSource attempts in line: AUTH_FAILED at once, without a check', async () => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  const backoff = new LoginBackoff({ maxWaitingPerSource: 2, sleep: async () => {} })
  let checks = 0
  const slow = async () => {
    checks++
    await gate
    return false
  }
  const first = backoff.attempt('s', slow)
  const second = backoff.attempt('s', slow)
  await assert.rejects(backoff.attempt('s', slow), { code: 'AUTH_FAILED' })
  release()
  assert.deepEqual(await Promise.all([first, second]), [false, false])
  assert.equal(checks, 2)
})

test('a source with no failure for forgetAfterMs starts over', async () => {
  const { backoff, slept, advance } = fake()
  await backoff.attempt('q', fail)
  await backoff.attempt('q', fail)
  advance(15 * 60_000)
  assert.equal(backoff.failures('q'), 0)
  await backoff.attempt('q', fail)
  assert.deepEqual(slept, [0, 250, 0])
})

test('a check that throws is passed on and the source keeps its turn order', async () => {
  const { backoff } = fake()
  await assert.rejects(
    backoff.attempt('t', async () => {
      throw new Error('boom')
    }),
    /boom/,
  )
  assert.equal(await backoff.attempt('t', pass), true)
})

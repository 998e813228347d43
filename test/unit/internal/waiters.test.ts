/** Waiters: every caller waiting when wake() or fail() comes is settled, once; later callers wait anew. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Waiters } from '../../../src/internal/waiters.ts'

/** 'pending' while `p` has not settled after the microtasks queued so far. */
async function stateOf<T>(p: Promise<T>): Promise<string> {
  const pending = Symbol('pending')
  const r = await Promise.race([
    p.then(
      (v) => `resolved:${String(v)}`,
      (e: Error) => `rejected:${e.message}`,
    ),
    Promise.resolve(pending),
  ])
  return r === pending ? 'pending' : (r as string)
}

test('wake() resolves every waiter with the value; a wait after it waits for the next wake()', async () => {
  const w = new Waiters<number>()
  const a = w.wait()
  const b = w.wait()
  assert.equal(w.size, 2)
  assert.equal(await stateOf(a), 'pending')
  w.wake(7)
  assert.equal(w.size, 0)
  assert.equal(await a, 7)
  assert.equal(await b, 7)
  const c = w.wait()
  assert.equal(await stateOf(c), 'pending')
  w.wake(8)
  assert.equal(await c, 8)
})

test('fail() rejects every waiter with the error; wake() with nobody waiting is a no-op', async () => {
  const w = new Waiters()
  w.wake()
  const a = w.wait()
  const b = w.wait()
  w.fail(new Error('closed'))
  await assert.rejects(a, /closed/)
  await assert.rejects(b, /closed/)
  assert.equal(w.size, 0)
  // Settled once: a later wake() does not touch them (nor throws).
  w.wake()
})

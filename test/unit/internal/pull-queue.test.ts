/** PullQueue: a push goes straight to a waiting reader, else waits in order; settle() ends a waiting reader. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PullQueue } from '../../../src/internal/pull-queue.ts'

test('items pushed with no reader wait in order, undefined included', () => {
  const q = new PullQueue<number | undefined>()
  assert.equal(q.push(1), false)
  assert.equal(q.push(undefined), false)
  assert.equal(q.push(3), false)
  assert.equal(q.length, 3)
  assert.deepEqual([q.shift(), q.shift(), q.shift()], [1, undefined, 3])
  assert.equal(q.length, 0)
})

test('a waiting reader gets the next push directly, and it is not queued', async () => {
  const q = new PullQueue<string>()
  const next = q.wait()
  assert.equal(q.push('a'), true)
  assert.equal(q.length, 0)
  assert.deepEqual(await next, { done: false, value: 'a' })
  // The reader was used up: the next push is queued.
  assert.equal(q.push('b'), false)
  assert.equal(q.length, 1)
})

test('settle() ends a waiting reader with done, or rejects it with the error; without a reader it does nothing', async () => {
  const q = new PullQueue<string>()
  q.settle(new Error('ignored: nobody waits'))
  const first = q.wait()
  q.settle()
  assert.deepEqual(await first, { done: true, value: undefined })
  const second = q.wait()
  q.settle(new Error('reset'))
  await assert.rejects(second, /reset/)
  // Neither settle() left a reader behind: a push now is queued.
  assert.equal(q.push('x'), false)
})

test('clear() forgets the queued items', () => {
  const q = new PullQueue<number>()
  q.push(1)
  q.push(2)
  q.clear()
  assert.equal(q.length, 0)
})

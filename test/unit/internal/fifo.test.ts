/** The ring-buffer FIFO under the mux's and the subscriptions' queues: order kept across wrap-around and growth. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Fifo } from '../../../src/internal/fifo.ts'

test('first in, first out across wrap-around and growth, against an array model', () => {
  const q = new Fifo<number>()
  const model: number[] = []
  let next = 0
  let seed = 7
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0
    return seed / 2 ** 32
  }
  for (let step = 0; step < 20_000; step++) {
    // Bursts of pushes and shifts, so the ring wraps many times and grows several times.
    if (rand() < 0.55) {
      q.push(next)
      model.push(next++)
    } else {
      assert.equal(q.shift(), model.shift())
    }
    assert.equal(q.length, model.length)
    assert.equal(q.peek(), model[0])
  }
  while (model.length > 0) assert.equal(q.shift(), model.shift())
  assert.equal(q.shift(), undefined)
  assert.equal(q.peek(), undefined)
  assert.equal(q.length, 0)
})

test('clear empties the queue; it works again afterwards', () => {
  const q = new Fifo<string>()
  for (let i = 0; i < 100; i++) q.push(`x${i}`)
  q.clear()
  assert.equal(q.length, 0)
  assert.equal(q.shift(), undefined)
  q.push('a')
  q.push('b')
  assert.deepEqual([q.shift(), q.shift(), q.shift()], ['a', 'b', undefined])
})

/**
 * The receiver's dedupe window: a repeat gets the stored outcome, a repeat during the run waits
 * for it, large responses are not stored, and the window is bounded by count and bytes.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DedupeTable, type Outcome } from '../../../src/rpc/dedupe.ts'

const response = (n: number): Outcome => ({ kind: 'response', raw: false, bytes: new Uint8Array(n) })

test('a repeat gets the stored outcome; a repeat during the run waits for it', () => {
  const table = new DedupeTable()
  const waited: (Outcome | undefined)[] = []
  assert.equal(
    table.begin('a', () => assert.fail('first run does not wait')),
    'run',
  )
  assert.equal(
    table.begin('a', (o) => waited.push(o)),
    'wait',
  )
  table.finish('a', response(3))
  assert.equal(waited.length, 1)
  assert.deepEqual(waited[0], response(3))
  assert.deepEqual(
    table.begin('a', () => {}),
    response(3),
  )
  assert.deepEqual(table.getStats(), { ids: 1, bytes: 3 })
})

test('a response above maxResponseBytes is not stored: waiters and later repeats run again', () => {
  const table = new DedupeTable({ maxResponseBytes: 10 })
  const waited: (Outcome | undefined)[] = []
  table.begin('big', () => {})
  table.begin('big', (o) => waited.push(o))
  table.finish('big', response(11))
  assert.deepEqual(waited, [undefined])
  assert.equal(
    table.begin('big', () => {}),
    'run',
  )
})

test('the window is bounded by ids and by stored bytes, oldest first', () => {
  const table = new DedupeTable({ maxIds: 3, maxBytes: 100 })
  for (const k of ['1', '2', '3', '4']) {
    table.begin(k, () => {})
    table.finish(k, response(10))
  }
  assert.equal(table.getStats().ids, 3)
  assert.equal(
    table.begin('1', () => {}),
    'run',
    'the oldest was forgotten',
  )
  const bytes = new DedupeTable({ maxIds: 100, maxBytes: 25 })
  for (const k of ['a', 'b', 'c']) {
    bytes.begin(k, () => {})
    bytes.finish(k, response(10))
  }
  assert.ok(bytes.getStats().bytes <= 25)
  assert.equal(
    bytes.begin('a', () => {}),
    'run',
  )
  assert.notEqual(
    bytes.begin('c', () => {}),
    'run',
  )
})

/**
 * The name tables (docs/protocol.md §14): ids from 1 in first-use order with one NAME each;
 * hello-bound names (since 2.1) take ids 1..N without NAME, and a 2.0 peer's NAME may rebind
 * each of them once.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isSwitchboardError } from '../../../src/errors.ts'
import { helloNames, IncomingNames, OutgoingNames } from '../../../src/rpc/names.ts'

const offers = [
  { name: 'a', version: 65536, methods: ['m1', 'm2'], events: ['e'] },
  { name: 'b', version: 1, methods: ['m1'], events: [] },
]

test('helloNames: protocol by protocol, methods then events, as protocol/name', () => {
  assert.deepEqual(helloNames(offers), ['a/m1', 'a/m2', 'a/e', 'b/m1'])
  assert.deepEqual(helloNames([]), [])
})

test('outgoing: hello-bound names need no NAME; others are announced from N + 1', () => {
  const announced: [number, string][] = []
  const out = new OutgoingNames((id, name) => announced.push([id, name]))
  out.preload(helloNames(offers))
  assert.equal(out.idOf('a/e'), 3)
  assert.equal(out.idOf('b/m1'), 4)
  assert.deepEqual(announced, [])
  assert.equal(out.idOf('echo'), 5)
  assert.equal(out.idOf('echo'), 5)
  assert.deepEqual(announced, [[5, 'echo']])
})

test('outgoing without a hello list: ids from 1, each announced once', () => {
  const announced: [number, string][] = []
  const out = new OutgoingNames((id, name) => announced.push([id, name]))
  out.preload([])
  assert.equal(out.idOf('x'), 1)
  assert.equal(out.idOf('y'), 2)
  assert.deepEqual(announced, [
    [1, 'x'],
    [2, 'y'],
  ])
})

test('incoming: hello-bound ids resolve; a NAME rebinds one once; twice is PROTOCOL_ERROR', () => {
  const inc = new IncomingNames()
  inc.preload(helloNames(offers))
  assert.equal(inc.nameOf(1), 'a/m1')
  assert.equal(inc.nameOf(4), 'b/m1')
  assert.equal(inc.nameOf(5), undefined)
  inc.define(1, 'echo') // a 2.0 peer binding its own first name
  assert.equal(inc.nameOf(1), 'echo')
  assert.throws(
    () => inc.define(1, 'other'),
    (e) => isSwitchboardError(e, 'PROTOCOL_ERROR'),
  )
  inc.define(5, 'next')
  assert.throws(
    () => inc.define(5, 'next'),
    (e) => isSwitchboardError(e, 'PROTOCOL_ERROR'),
  )
})

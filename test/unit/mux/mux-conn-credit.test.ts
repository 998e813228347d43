/**
 * Regression: a channel that writes while the connection window is exhausted must be sent once
 * connection credit returns (it used to be dropped from the scheduler and hang forever).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { defaultMuxLimits } from '../../../src/mux/limits.ts'
import { Mux } from '../../../src/mux/mux.ts'

test('a write made while the connection window is empty goes out after a connection CREDIT', () => {
  const remote = { ...defaultMuxLimits, connectionWindow: 1024 }
  const mux = new Mux(
    { role: 'dialer', local: defaultMuxLimits, remote, now: 0 },
    { onChannel() {}, onName() {}, onGoaway() {}, onFlush() {}, onFatal() {} },
  )
  const second = mux.open({ kind: 0, method: 1, messageId: 1 })
  second.write(new Uint8Array(10))
  const first = mux.open({ kind: 0, method: 1, messageId: 2 })
  first.write(new Uint8Array(1014), true)
  const sent1 = mux.drain(0, 1 << 20)
  assert.equal(sent1.length, 2, 'both OPENs went out and used the whole connection window')
  second.write(new Uint8Array(100), true)
  assert.equal(mux.drain(0, 1 << 20).length, 0, 'nothing can be sent without connection credit')
  mux.receive({ type: 'credit', channel: 0, increment: 1024 }, 0)
  const sent3 = mux.drain(0, 1 << 20)
  const data = sent3.find((f) => f.type === 'data')
  assert.ok(data !== undefined && data.type === 'data' && data.data.length === 100 && data.fin)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isSwitchboardError } from '../../../src/errors.ts'
import { Session } from '../../../src/session/session.ts'
import { memoryPair } from '../../../src/testing/memory-pair.ts'
import { MessageKind } from '../../../src/wire/constants.ts'
import { withTimeout } from '../../helpers/wait.ts'

test('a frame that cannot be encoded fails its session with INTERNAL, not the process', async () => {
  const [a, b] = memoryPair()
  const [dialer, listener] = await Promise.all([
    Session.establish(a, 'dialer', {}, { onChannel: () => {} }),
    Session.establish(b, 'listener', {}, { onChannel: (ch) => ch.reset(0) }),
  ])
  const resets: number[] = []
  // A fractional deadline is not a varint: encoding the OPEN throws inside the flush.
  const ch = dialer.open({ kind: MessageKind.REQUEST, method: 1, messageId: 1, deadlineMs: 1.5 })
  ch.bind({ onData() {}, onEnd() {}, onReset: (code) => resets.push(code), onWritable() {} })
  ch.write(Uint8Array.of(1), true)
  await withTimeout(dialer.closed, 2_000, 'the dialer session to close')
  assert.equal(dialer.state, 'closed')
  assert.ok(isSwitchboardError(dialer.error, 'INTERNAL'), `closed with ${dialer.error?.code}`)
  assert.equal(resets.length, 1, 'the channel was failed exactly once')
  await withTimeout(listener.closed, 2_000, 'the listener to see the connection go')
})

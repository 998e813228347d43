/** One promise for the plain one-way messages of a turn (src/link/send-batch.ts), with a fake link. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type SwitchboardError, sbError } from '../../../src/errors.ts'
import { type BatchOwner, SendBatch } from '../../../src/link/send-batch.ts'
import type { SentMessage } from '../../../src/rpc/sinks.ts'

function owner(): BatchOwner & { written: number; failed: SwitchboardError[]; undone: SentMessage[] } {
  return {
    written: 0,
    failed: [],
    undone: [],
    batchMemberWritten() {
      this.written++
    },
    batchMemberFailed(_batch, err) {
      this.failed.push(err)
    },
    batchMemberUndone(_err, msg) {
      this.undone.push(msg)
    },
  }
}

const msg: SentMessage = { kind: 1, name: 'm', value: 1, messageId: 1 }

test('resolves once every member was written, not before; the first write seals it', async () => {
  const o = owner()
  const b = new SendBatch(o)
  b.members = 3
  let resolved = false
  void b.promise.then(() => {
    resolved = true
  })
  b.written()
  assert.equal(b.sealed, true, 'a written member ends the turn: later sends start a new batch')
  b.written()
  await Promise.resolve()
  assert.equal(resolved, false, 'two of three written')
  b.written()
  await b.promise
  assert.equal(o.written, 3)
})

test('a member resent after a loss counts when its own delivery is written', async () => {
  const b = new SendBatch(owner())
  b.members = 2
  b.written()
  b.failed(sbError('CONNECTION_LOST'), msg) // the owner sends it again...
  b.memberDone() // ...and its delivery reports back
  await b.promise
})

test('a member refused at once leaves the batch; the others still resolve it', async () => {
  const b = new SendBatch(owner())
  b.members = 2
  b.written()
  b.leave()
  await b.promise
})

test('fail() rejects the shared promise once; it is observed (no unhandledRejection) and later settles do nothing', async () => {
  const b = new SendBatch(owner())
  b.members = 2
  b.fail(sbError('SESSION_CLOSED'))
  b.written()
  b.written()
  await assert.rejects(b.promise, { code: 'SESSION_CLOSED' })
})

test('undone and failed go to the owner with the message', () => {
  const o = owner()
  const b = new SendBatch(o)
  b.undone(sbError('GOING_AWAY'), msg)
  b.failed(sbError('CONNECTION_LOST'), msg)
  assert.deepEqual(o.undone, [msg])
  assert.equal(o.failed[0]?.code, 'CONNECTION_LOST')
})

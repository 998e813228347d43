/**
 * The link's queue of messages not yet started (src/link/outbox.ts), with real deliveries and a
 * recording owner: send order by message id, the byte cap, deadlines and cancellation while
 * queued, and take()'s keep/stop pass. The last test drives QUEUE_FULL through a link whose dial
 * never connects, so every message must wait in this queue.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isSwitchboardError, type SwitchboardError } from '../../../src/errors.ts'
import { connect } from '../../../src/index.ts'
import { Delivery, type DeliveryOwner } from '../../../src/link/delivery.ts'
import { Outbox } from '../../../src/link/outbox.ts'
import { waitFor, withTimeout } from '../../helpers/wait.ts'

const owner: DeliveryOwner = {
  attemptSucceeded() {},
  attemptFailed() {},
  attemptUndone() {},
  finalFailure() {},
}

const NO_FLAGS = { idempotent: false, oneShot: false, ordered: false }

function delivery(
  messageId: number,
  bytes = 10,
  extra: { timeoutMs?: number; signal?: AbortSignal } = {},
): Delivery {
  return new Delivery(
    'send',
    `m${messageId}`,
    undefined,
    bytes,
    messageId,
    NO_FLAGS,
    extra.timeoutMs,
    extra.signal,
    undefined,
    false,
    owner,
  )
}

/** An outbox whose drops are recorded; `dropped` resolves at each drop. */
function outbox(): { box: Outbox; drops: [Delivery, SwitchboardError][]; nextDrop: () => Promise<void> } {
  const drops: [Delivery, SwitchboardError][] = []
  let wake: (() => void) | undefined
  const box = new Outbox((d, err) => {
    drops.push([d, err])
    wake?.()
  })
  const nextDrop = (): Promise<void> =>
    new Promise((resolve) => {
      wake = resolve
    })
  return { box, drops, nextDrop }
}

const order = (box: Outbox): number[] => box.removeWhere(() => true).map((d) => d.messageId)

test('keeps send order by message id: a message put back goes before everything sent after it', () => {
  const { box } = outbox()
  for (const id of [1, 2, 3]) box.add(delivery(id))
  const taken = box.take((d) => (d.messageId === 1 ? 'start' : 'stop'))
  assert.equal(taken.length, 1)
  const first = taken[0]![0]
  assert.equal(first.messageId, 1)
  box.add(delivery(4))
  box.add(delivery(5))
  box.add(first) // lost with its connection: queued again
  assert.equal(first.state, 'queued')
  assert.deepEqual(
    box.take(() => 'keep'),
    [],
    'take() with only keep decisions takes nothing',
  )
  assert.deepEqual(order(box), [1, 2, 3, 4, 5])
  box.stop()
})

test('counts bytes; full() refuses past the cap but admits one message of any size into an empty queue', () => {
  const { box } = outbox()
  assert.equal(box.full(10_000, 100), false, 'an empty queue admits a message larger than the cap')
  const big = delivery(1, 10_000)
  box.add(big)
  assert.equal(box.bytes, 10_000)
  assert.equal(box.full(1, 100), true, 'nothing more fits behind it')
  box.remove(big)
  assert.equal(box.bytes, 0)
  box.add(delivery(2, 60))
  assert.equal(box.full(40, 100), false, 'up to exactly the cap is admitted')
  assert.equal(box.full(41, 100), true)
  box.add(delivery(3, 40))
  assert.equal(box.bytes, 100)
  assert.equal(box.size, 2)
  box.take(() => 'now')
  assert.equal(box.bytes, 0, 'taken messages no longer count')
  assert.equal(box.size, 0)
  box.stop()
})

test('take(): starts in send order, leaves the kept ones first in line, stops at stop', () => {
  const { box } = outbox()
  for (let id = 1; id <= 6; id++) box.add(delivery(id, id))
  const taken = box.take<string>((d) => {
    if (d.messageId === 2) return 'keep'
    if (d.messageId === 5) return 'stop'
    return `conn${d.messageId % 2}`
  })
  assert.deepEqual(
    taken.map(([d, c]) => [d.messageId, c]),
    [
      [1, 'conn1'],
      [3, 'conn1'],
      [4, 'conn0'],
    ],
  )
  assert.equal(box.bytes, 2 + 5 + 6)
  assert.deepEqual(order(box), [2, 5, 6])
  box.stop()
})

test('a deadline passing while queued drops the message with DEADLINE, once, and frees its bytes', async () => {
  const { box, drops, nextDrop } = outbox()
  const late = delivery(1, 50, { timeoutMs: 30 })
  box.add(late)
  box.add(delivery(2, 7))
  await withTimeout(nextDrop(), 2000, 'the queued deadline to pass')
  assert.equal(drops.length, 1)
  assert.equal(drops[0]![0], late)
  assert.ok(isSwitchboardError(drops[0]![1], 'DEADLINE'), String(drops[0]![1]))
  assert.equal(box.bytes, 7)
  assert.deepEqual(order(box), [2])
  box.stop()
})

test('a message taken before its deadline is not dropped by it later', async () => {
  const { box, drops } = outbox()
  const d = delivery(1, 5, { timeoutMs: 20 })
  box.add(d)
  box.take(() => 'start')
  // A second queued message with a later deadline keeps the sweep running past the first's.
  const later = delivery(2, 5, { timeoutMs: 60 })
  box.add(later)
  await waitFor(() => drops.length > 0, { what: 'the second deadline', timeoutMs: 2000 })
  assert.deepEqual(
    drops.map(([x]) => x.messageId),
    [2],
  )
  box.stop()
})

test('an abort while queued drops it with CANCELLED; after it left the queue an abort does nothing', () => {
  const { box, drops } = outbox()
  const a = new AbortController()
  const b = new AbortController()
  const first = delivery(1, 3, { signal: a.signal })
  const second = delivery(2, 4, { signal: b.signal })
  box.add(first)
  box.add(second)
  a.abort()
  assert.equal(drops.length, 1)
  assert.equal(drops[0]![0], first)
  assert.ok(isSwitchboardError(drops[0]![1], 'CANCELLED'))
  assert.equal(box.bytes, 4)
  assert.equal(box.remove(second), true)
  assert.equal(box.remove(second), false, 'removing twice is a no-op')
  b.abort()
  assert.equal(drops.length, 1, 'a message no longer queued is not dropped by its signal')
  box.stop()
})

test('the link refuses a message with QUEUE_FULL while maxQueuedBytes wait; close settles the queued ones', async () => {
  // A dial that never connects until the link gives up on it: every message waits in the outbox.
  const link = await connect('never-up', {
    maxQueuedBytes: 1000,
    dial: (_address, signal) =>
      new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
  })
  const failures: string[] = []
  link.on('sendFailed', (err: SwitchboardError) => failures.push(err.code))
  const first = link.send('a', new Uint8Array(600))
  const second = link.send('b', new Uint8Array(400)) // exactly at the cap: admitted
  const refused = link.send('c', new Uint8Array(1))
  await assert.rejects(refused, (err: unknown) => isSwitchboardError(err, 'QUEUE_FULL'))
  assert.equal(link.getStats().queuedCalls, 2)
  assert.equal(link.getStats().queuedBytes, 1000)
  const big = link.request('r', new Uint8Array(5000))
  await assert.rejects(big, (err: unknown) => isSwitchboardError(err, 'QUEUE_FULL'))
  await link.close()
  await assert.rejects(first, (err: unknown) => isSwitchboardError(err, 'SESSION_CLOSED'))
  await assert.rejects(second, (err: unknown) => isSwitchboardError(err, 'SESSION_CLOSED'))
  assert.deepEqual(failures, ['QUEUE_FULL', 'SESSION_CLOSED', 'SESSION_CLOSED'])
})

test('a single message larger than maxQueuedBytes waits when the queue is empty', async () => {
  const link = await connect('never-up', {
    maxQueuedBytes: 100,
    dial: (_address, signal) =>
      new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
  })
  const huge = link.send('a', new Uint8Array(10_000))
  assert.equal(link.getStats().queuedBytes, 10_000)
  await assert.rejects(link.send('b', new Uint8Array(1)), (err: unknown) =>
    isSwitchboardError(err, 'QUEUE_FULL'),
  )
  link.abort()
  await assert.rejects(huge, (err: unknown) => isSwitchboardError(err, 'SESSION_CLOSED'))
})

/**
 * The connections of one link (src/link/pool.ts) with fake connections and a scripted acquire:
 * one dial at a time to start, least-loaded picks that spread a pass over the members, growth
 * bounded by poolMax and maxPendingConnects, a dead or draining member replaced, retries with
 * backoff until maxRetries, final refusals, idle shrinking, and stop().
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isSwitchboardError, sbError } from '../../../src/errors.ts'
import type { RpcConnection } from '../../../src/rpc/connection.ts'
import { waitFor } from '../../helpers/wait.ts'
import { FakeConn, fake, harness, settle } from './pool-harness.ts'

test('ensure() dials once; a second ensure() while it is on its way does not dial again', async () => {
  const h = harness()
  h.pool.ensure()
  h.pool.ensure()
  assert.equal(h.dials.length, 1)
  assert.equal(h.pool.pendingDials, 1)
  assert.equal(h.pool.pick(), undefined, 'nothing usable yet')
  h.dials[0]!.succeed()
  await settle()
  assert.deepEqual(h.log, ['up addr-a'])
  assert.equal(h.pool.size, 1)
  assert.equal(h.pool.pendingDials, 0)
  h.pool.ensure()
  assert.equal(h.dials.length, 1, 'a usable connection: nothing to dial')
  h.pool.stop()
})

test('pick(): the least loaded usable member; ties go to the first; `assigned` spreads one pass round the members', async () => {
  const h = harness({ poolMax: 3, poolGrowThreshold: 1, maxPendingConnects: 3 })
  h.pool.ensure()
  const first = h.dials[0]!.succeed()
  await settle()
  h.pool.grow(10)
  h.pool.grow(10)
  assert.equal(h.dials.length, 3, 'grew to poolMax with room for all dials at once')
  const second = h.dials[1]!.succeed()
  const third = h.dials[2]!.succeed()
  await settle()
  assert.equal(h.pool.size, 3)

  // One-way traffic leaves no pending count: it stays on the first member, in order.
  assert.equal(fake(h.pool.pick()), first)
  assert.equal(fake(h.pool.pick()), first)
  first.pendingCount = 2
  second.pendingCount = 1
  third.pendingCount = 1
  assert.equal(fake(h.pool.pick()), second, 'fewest waiting calls; the earlier of a tie')
  third.pendingCount = 0
  assert.equal(fake(h.pool.pick()), third)

  // A pass that starts several queued messages counts what it assigned: they take turns.
  first.pendingCount = second.pendingCount = third.pendingCount = 0
  const assigned = new Map<RpcConnection, number>()
  const picks: FakeConn[] = []
  for (let i = 0; i < 7; i++) {
    const c = h.pool.pick(assigned)!
    assigned.set(c, (assigned.get(c) ?? 0) + 1)
    picks.push(fake(c)!)
  }
  assert.deepEqual(
    picks.map((c) => [first, second, third].indexOf(c)),
    [0, 1, 2, 0, 1, 2, 0],
  )

  second.goaway('GOING_AWAY')
  assert.ok(
    !h.pool.usable().includes(second as unknown as RpcConnection),
    'a draining member takes nothing new',
  )
  assert.equal(h.pool.usable().length, 2)
  h.pool.stop()
})

test('grow(): only past the threshold per connection, never above poolMax or maxPendingConnects at once', async () => {
  const h = harness({ poolMax: 4, poolGrowThreshold: 10, maxPendingConnects: 2 })
  h.pool.grow(1000)
  assert.equal(h.dials.length, 0, 'no growth before the first connection is up')
  h.pool.ensure()
  h.dials[0]!.succeed()
  await settle()
  h.pool.grow(10)
  assert.equal(h.dials.length, 1, 'at the threshold: no growth')
  h.pool.grow(11)
  assert.equal(h.dials.length, 2)
  h.pool.grow(1000)
  h.pool.grow(1000)
  assert.equal(h.dials.length, 3, 'two dials in progress: no third')
  assert.equal(h.pool.maxDialingSeen, 2)
  h.dials[1]!.succeed()
  h.dials[2]!.succeed()
  await settle()
  h.pool.grow(1000)
  assert.equal(h.dials.length, 4)
  h.pool.grow(1000)
  assert.equal(h.dials.length, 4, '3 up + 1 dialing = poolMax')
  h.dials[3]!.succeed()
  await settle()
  h.pool.grow(1_000_000)
  assert.equal(h.dials.length, 4)
  assert.equal(h.pool.size, 4)
  assert.ok(h.pool.maxDialingSeen <= 2)
  h.pool.stop()
})

test('a member that dies is dropped and reported; the link’s ensure() dials its replacement', async () => {
  const h = harness()
  h.pool.ensure()
  const first = h.dials[0]!.succeed()
  await settle()
  first.die(sbError('CONNECTION_LOST', 'gone'))
  assert.deepEqual(h.log, ['up addr-a', 'down CONNECTION_LOST'])
  assert.equal(h.pool.size, 0)
  assert.equal(h.pool.pick(), undefined, 'a dead member is never picked')
  h.pool.ensure()
  assert.equal(h.dials.length, 2)
  const replacement = h.dials[1]!.succeed()
  await settle()
  assert.equal(fake(h.pool.pick()), replacement)
  h.pool.stop()
})

test('the last usable member draining (GOAWAY) makes the pool dial a replacement beside it', async () => {
  const h = harness()
  h.pool.ensure()
  const first = h.dials[0]!.succeed()
  await settle()
  first.goaway('GOING_AWAY')
  assert.equal(h.dials.length, 2, 'a replacement is on its way while the old one finishes')
  assert.equal(h.pool.size, 1, 'the draining member stays until it closes')
  const next = h.dials[1]!.succeed()
  await settle()
  assert.equal(fake(h.pool.pick()), next)
  first.die(undefined)
  assert.equal(h.pool.size, 1)
  assert.equal(fake(h.pool.pick()), next)
  h.pool.stop()
})

test('failed dials are retried with backoff, then the pool gives up after maxRetries', async () => {
  const h = harness({ maxRetries: 2, backoffInitialMs: 5, backoffMaxMs: 20 })
  h.setWork(true)
  h.pool.ensure()
  h.dials[0]!.fail('CONNECT_FAILED')
  await waitFor(() => h.dials.length === 2, { what: 'the first retry' })
  h.dials[1]!.fail('CONNECT_FAILED')
  await waitFor(() => h.dials.length === 3, { what: 'the second retry' })
  assert.equal(h.gaveUp.length, 0)
  h.dials[2]!.fail('CONNECT_FAILED')
  await waitFor(() => h.gaveUp.length === 1, { what: 'the pool to give up' })
  assert.ok(isSwitchboardError(h.gaveUp[0], 'CONNECT_FAILED'))
  assert.equal(h.dials.length, 3, 'no dial after giving up')
  h.pool.stop()
})

test('a success resets the failure count', async () => {
  const h = harness({ maxRetries: 1, backoffInitialMs: 5 })
  h.setWork(true)
  h.pool.ensure()
  h.dials[0]!.fail('CONNECT_FAILED')
  await waitFor(() => h.dials.length === 2, { what: 'a retry' })
  const conn = h.dials[1]!.succeed()
  await settle()
  conn.die(sbError('CONNECTION_LOST', 'gone'))
  h.pool.ensure()
  h.dials[2]!.fail('CONNECT_FAILED')
  await waitFor(() => h.dials.length === 4, { what: 'a retry after the success' })
  assert.equal(h.gaveUp.length, 0, 'one failure after a success is within maxRetries 1')
  h.pool.stop()
})

test('a final refusal is not retried: a failed dial, an early-ended connection, a GOAWAY refusal', async () => {
  const refused = harness({ backoffInitialMs: 1 })
  refused.pool.ensure()
  refused.dials[0]!.fail('AUTH_FAILED')
  await waitFor(() => refused.gaveUp.length === 1, { what: 'give up on AUTH_FAILED' })
  assert.ok(isSwitchboardError(refused.gaveUp[0], 'AUTH_FAILED'))
  assert.equal(refused.dials.length, 1)
  refused.pool.stop()

  // Refused during the hello: the connection arrives already ended, with the peer's GOAWAY code.
  const early = harness({ backoffInitialMs: 1 })
  early.pool.ensure()
  const ended = new FakeConn('addr-a')
  ended.goawayCode = 'PAIR_FULL'
  ended.sessionEnded = true
  early.dials[0]!.succeed(ended)
  await waitFor(() => early.gaveUp.length === 1, { what: 'give up on PAIR_FULL' })
  assert.ok(isSwitchboardError(early.gaveUp[0], 'PAIR_FULL'))
  assert.equal(early.pool.size, 0)
  early.pool.stop()

  // Up, then refused for good: the pool reports it instead of a plain loss.
  const later = harness()
  later.pool.ensure()
  const conn = later.dials[0]!.succeed()
  await settle()
  conn.goaway('REFUSED')
  assert.equal(later.dials.length, 1, 'no replacement for a refusal')
  conn.die(undefined)
  assert.ok(isSwitchboardError(later.gaveUp[0], 'REFUSED'))
  assert.deepEqual(later.log, ['up addr-a'], 'not reported as an ordinary loss')
  later.pool.stop()
})

test('an extra connection that fails to dial is not retried while others carry the load', async () => {
  const h = harness({ poolGrowThreshold: 1, backoffInitialMs: 1 })
  h.pool.ensure()
  const first = h.dials[0]!.succeed()
  await settle()
  h.pool.grow(5)
  assert.equal(h.dials.length, 2)
  h.dials[1]!.fail('CONNECT_FAILED')
  await settle()
  assert.equal(h.gaveUp.length, 0)
  assert.equal(h.pool.size, 1)
  // No retry timer was armed: once the member is lost, ensure() dials at once (a pending retry
  // would make it wait for the timer).
  first.die(sbError('CONNECTION_LOST', 'gone'))
  h.pool.ensure()
  assert.equal(h.dials.length, 3)
  h.pool.stop()
})

test('dials go to the least used of several addresses', async () => {
  const h = harness({ poolMax: 4, poolGrowThreshold: 1, maxPendingConnects: 4 }, ['x', 'y'])
  h.pool.ensure()
  h.dials[0]!.succeed()
  await settle()
  for (let i = 0; i < 3; i++) h.pool.grow(100)
  assert.deepEqual(
    h.dials.map((d) => d.address),
    ['x', 'y', 'x', 'y'],
  )
  h.pool.stop()
})

test('idle members are closed after poolIdleMs, never the last usable one; a busy or subscribed one is kept', async () => {
  const h = harness({ poolMax: 4, poolGrowThreshold: 1, maxPendingConnects: 4, poolIdleMs: 40 })
  h.pool.ensure()
  const first = h.dials[0]!.succeed()
  await settle()
  h.pool.grow(100)
  h.pool.grow(100)
  h.pool.grow(100)
  const busy = h.dials[1]!.succeed()
  const subscribed = h.dials[2]!.succeed()
  const idle = h.dials[3]!.succeed()
  await settle()
  busy.pendingCount = 1
  subscribed.hasSubscriptions = true
  await waitFor(() => idle.closeCalls === 1 && first.closeCalls === 1, {
    what: 'the idle members to be closed',
  })
  assert.equal(busy.closeCalls, 0, 'a member with calls waiting stays')
  assert.equal(subscribed.closeCalls, 0, 'a member carrying subscriptions stays')
  assert.equal(h.pool.size, 2)
  busy.pendingCount = 0
  await waitFor(() => busy.closeCalls === 1, { what: 'the member that went idle to be closed' })
  assert.equal(h.pool.size, 1)
  assert.equal(fake(h.pool.pick()), subscribed)
  h.pool.stop()
})

test('of two idle members one is closed and the other kept', async () => {
  const h = harness({ poolGrowThreshold: 1, poolIdleMs: 20 })
  h.pool.ensure()
  const a = h.dials[0]!.succeed()
  await settle()
  h.pool.grow(100)
  const b = h.dials[1]!.succeed()
  await settle()
  await waitFor(() => a.closeCalls + b.closeCalls > 0, { what: 'an idle member to be closed' })
  assert.equal(a.closeCalls + b.closeCalls, 1)
  assert.equal(h.pool.usable().length, 1)
  h.pool.stop()
})

test('stop(): the pending dial is aborted, and a connection that arrives anyway is closed', async () => {
  const h = harness()
  h.pool.ensure()
  const members = h.pool.stop()
  assert.deepEqual(members, [])
  assert.ok(h.dials[0]!.signal.aborted, 'the dial’s signal is aborted')
  const late = h.dials[0]!.succeed()
  await settle()
  assert.ok(isSwitchboardError(late.abortedWith, 'SESSION_CLOSED'))
  assert.deepEqual(h.log, [], 'a connection after stop() is never reported up')
  h.pool.ensure()
  assert.equal(h.dials.length, 1, 'a stopped pool dials no more')
})

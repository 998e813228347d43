/**
 * The daemon's lease table with a fake clock: expiry, renewal, ownership between connections,
 * limits, and the changes it reports.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Principal } from '../../../src/daemon/auth.ts'
import { type LeaseOwner, LeaseTable } from '../../../src/daemon/leases.ts'
import { resolveLimits } from '../../../src/daemon/limits.ts'
import type { DirectoryChange, PeerEntry } from '../../../src/discovery/types.ts'

const ann: Principal = { kind: 'os-user', name: 'ann', uid: 1000 }
const bob: Principal = { kind: 'os-user', name: 'bob', uid: 1001 }

function entry(instance: string, topics: string[] = []): PeerEntry {
  return {
    name: 'n',
    instance,
    address: 'unix:/x.sock',
    pid: 1,
    user: 'ann',
    protocols: [],
    topics,
    publishes: [],
    joinedAt: 1,
  }
}

function fixture(limits = {}) {
  let now = 0
  const changes: DirectoryChange[] = []
  const table = new LeaseTable(
    resolveLimits({ minLeaseMs: 10, maxLeaseMs: 1000, ...limits }),
    () => now,
    (c) => changes.push(c),
  )
  const owner = (principal: Principal | undefined = ann): LeaseOwner => ({ principal, instances: new Set() })
  return {
    table,
    changes,
    owner,
    advance(ms: number) {
      now += ms
      table.sweep()
    },
    types: () => changes.map((c) => `${c.type}:${c.entry.instance}`),
  }
}

test('a lease ends when its time is up; a heartbeat renews it', () => {
  const f = fixture()
  const o = f.owner()
  assert.equal(f.table.register(o, ann, entry('a'), 100), 100)
  f.advance(90)
  f.table.heartbeat(o, 'a')
  f.advance(90)
  assert.equal(f.table.size, 1)
  f.advance(10)
  assert.equal(f.table.size, 0)
  assert.deepEqual(f.types(), ['join:a', 'leave:a'])
  assert.throws(() => f.table.heartbeat(o, 'a'), { code: 'LEASE_UNKNOWN' })
  assert.equal(o.instances.size, 0)
})

test('asked leases are clamped; re-registering the same entry is silent, another is a change', () => {
  const f = fixture()
  const o = f.owner()
  assert.equal(f.table.register(o, ann, entry('a'), 1), 10)
  assert.equal(f.table.register(o, ann, entry('a'), 1e9), 1000)
  assert.equal(
    f.table.register(o, ann, entry('a', ['t']), undefined),
    resolveLimits({ minLeaseMs: 10, maxLeaseMs: 1000 }).defaultLeaseMs,
  )
  assert.deepEqual(f.types(), ['join:a', 'change:a'])
  const change = f.changes[1]!
  assert.equal(change.type === 'change' && change.before.topics.length, 0)
})

test('another connection of the same principal takes an instance over; another principal may not', () => {
  const f = fixture()
  const first = f.owner()
  const second = f.owner()
  f.table.register(first, ann, entry('a'), 100)
  assert.throws(() => f.table.register(f.owner(bob), bob, entry('a'), 100), { code: 'NOT_PERMITTED' })
  f.table.register(second, ann, entry('a'), 100)
  assert.equal(first.instances.size, 0)
  assert.throws(() => f.table.heartbeat(first, 'a'), { code: 'LEASE_UNKNOWN' })
  f.table.heartbeat(second, 'a')
  // The old connection's clean close no longer touches it.
  f.table.endOwner(first)
  f.table.withdraw(first, 'a')
  assert.equal(f.table.size, 1)
  f.table.endOwner(second)
  assert.equal(f.table.size, 0)
  assert.deepEqual(f.types(), ['join:a', 'leave:a'])
})

test('limits per connection, in total and per entry are DAEMON_LIMIT', () => {
  const f = fixture({ maxEntriesPerConnection: 2, maxEntries: 3, maxEntryBytes: 400 })
  const o = f.owner()
  f.table.register(o, ann, entry('a'), 100)
  f.table.register(o, ann, entry('b'), 100)
  assert.throws(() => f.table.register(o, ann, entry('c'), 100), { code: 'DAEMON_LIMIT' })
  const o2 = f.owner()
  f.table.register(o2, ann, entry('c'), 100)
  assert.throws(() => f.table.register(o2, ann, entry('d'), 100), { code: 'DAEMON_LIMIT' })
  assert.throws(() => f.table.register(f.owner(), ann, entry('e', ['x'.repeat(400)]), 100), {
    code: 'DAEMON_LIMIT',
  })
  assert.deepEqual(
    f.table.list().map((e) => e.instance),
    ['a', 'b', 'c'],
  )
  assert.throws(() => f.table.register(o, ann, entry('a'), Number.NaN), { code: 'INVALID_ARGUMENT' })
})

test('all entries together are bounded too', () => {
  const f = fixture({ maxTotalEntryBytes: 300 })
  const o = f.owner()
  f.table.register(o, ann, entry('a'), 100)
  f.table.register(o, ann, entry('b'), 100)
  assert.throws(() => f.table.register(o, ann, entry('c'), 100), { code: 'DAEMON_LIMIT' })
  // Growing an entry counts only the difference; withdrawing frees its bytes.
  assert.throws(() => f.table.register(o, ann, entry('a', ['x'.repeat(300)]), 100), { code: 'DAEMON_LIMIT' })
  f.table.withdraw(o, 'b')
  f.table.register(o, ann, entry('c'), 100)
  f.table.register(o, ann, entry('a', ['x'.repeat(20)]), 100)
})

test('resolveLimits refuses what is not a positive integer, and min above max', () => {
  assert.throws(() => resolveLimits({ maxEntries: 0 }), { code: 'INVALID_ARGUMENT' })
  assert.throws(() => resolveLimits({ maxEntries: 1.5 }), { code: 'INVALID_ARGUMENT' })
  assert.throws(() => resolveLimits({ minLeaseMs: 10, maxLeaseMs: 5 }), { code: 'INVALID_ARGUMENT' })
})

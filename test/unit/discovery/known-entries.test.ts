/**
 * KnownEntries: a change heard twice is reported once; a join with other content is a change.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KnownEntries } from '../../../src/discovery/known-entries.ts'
import type { PeerEntry } from '../../../src/discovery/types.ts'

const e = (instance: string, joinedAt: number, topics: string[] = []): PeerEntry => ({
  name: 'n',
  instance,
  address: 'unix:/x.sock',
  pid: 1,
  user: 'u',
  protocols: [],
  topics,
  publishes: [],
  joinedAt,
})

test('joins, repeats, changes and leaves are reported once each', () => {
  const k = new KnownEntries()
  k.seed([e('s', 1)])
  assert.equal(k.apply('join', e('s', 1)), undefined)
  assert.deepEqual(k.apply('join', e('a', 2)), { type: 'join', entry: e('a', 2) })
  assert.equal(k.apply('join', e('a', 2)), undefined)
  assert.deepEqual(k.apply('join', e('a', 2, ['t'])), {
    type: 'change',
    entry: e('a', 2, ['t']),
    before: e('a', 2),
  })
  assert.deepEqual(k.apply('leave', e('a', 2)), { type: 'leave', entry: e('a', 2, ['t']) })
  assert.equal(k.apply('leave', e('a', 2)), undefined)
  k.apply('join', e('b', 0))
  assert.deepEqual(
    k.list().map((x) => x.instance),
    ['b', 's'],
  )
  assert.deepEqual(k.instances().sort(), ['b', 's'])
})

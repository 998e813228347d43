/** The entry check: every field's type and size, on read and before write. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  canonicalJson,
  checkEntry,
  encodeEntry,
  entryLimits,
  isValidInstance,
  parseEntry,
} from '../../../src/discovery/entry.ts'
import type { PeerEntry } from '../../../src/discovery/types.ts'
import { isSwitchboardError } from '../../../src/errors.ts'
import { makeEntry } from './helpers.ts'

function entryOf(value: unknown): PeerEntry {
  const checked = checkEntry(value)
  if (checked.problem !== undefined) throw new Error(checked.problem)
  return checked.entry
}

test('a full entry passes, unknown fields are dropped and the field order is fixed', () => {
  const entry = makeEntry({ topics: ['prices'], publicKey: 'abc' })
  const checked = entryOf({ future: 1, ...entry })
  assert.deepEqual(checked, entry)
  assert.equal('future' in checked, false)
  const shuffled = Object.fromEntries(Object.entries(entry).reverse())
  assert.equal(canonicalJson(entryOf(shuffled)), canonicalJson(entryOf(entry)))
})

test('every field out of type or size is refused', () => {
  const long = (n: number): string => 'x'.repeat(n)
  const bad: Record<string, unknown>[] = [
    { name: '' },
    { name: long(entryLimits.maxNameChars + 1) },
    { name: 7 },
    { instance: '../etc' },
    { instance: '.hidden' },
    { instance: long(entryLimits.maxInstanceChars + 1) },
    { address: '' },
    { address: long(entryLimits.maxAddressChars + 1) },
    { pid: 0 },
    { pid: -1 },
    { pid: 1.5 },
    { pid: 2 ** 31 },
    { pid: '12' },
    { user: null },
    { user: long(entryLimits.maxUserChars + 1) },
    { topics: 'prices' },
    { topics: [1] },
    { topics: Array.from({ length: entryLimits.maxListEntries + 1 }, () => 't') },
    { publishes: [long(entryLimits.maxListItemChars + 1)] },
    { protocols: [null] },
    { publicKey: '' },
    { publicKey: 12 },
    { publicKey: null },
    { joinedAt: -1 },
    { joinedAt: Number.NaN },
    { joinedAt: '2026' },
  ]
  for (const patch of bad) {
    const checked = checkEntry({ ...makeEntry(), ...patch })
    assert.notEqual(checked.problem, undefined, `accepted ${JSON.stringify(patch).slice(0, 80)}`)
  }
  for (const missing of ['name', 'instance', 'address', 'pid', 'user', 'topics', 'joinedAt']) {
    const value: Record<string, unknown> = { ...makeEntry() }
    delete value[missing]
    assert.notEqual(checkEntry(value).problem, undefined, `accepted an entry without ${missing}`)
  }
  for (const value of [null, [], 'entry', 42]) assert.notEqual(checkEntry(value).problem, undefined)
})

test('lists at their limits pass', () => {
  const item = 'y'.repeat(entryLimits.maxListItemChars)
  const entry = makeEntry({
    name: 'n'.repeat(entryLimits.maxNameChars),
    topics: Array.from({ length: entryLimits.maxListEntries }, () => item),
  })
  assert.equal(checkEntry(entry).problem, undefined)
  assert.ok(Buffer.byteLength(encodeEntry(entry)) < entryLimits.maxFileBytes)
})

test('parseEntry: malformed JSON, a non-object, or content naming another instance give undefined', () => {
  const entry = makeEntry()
  const text = JSON.stringify(entry)
  assert.deepEqual(parseEntry(text, entry.instance), entry)
  assert.equal(parseEntry(text.slice(0, -5), entry.instance), undefined)
  assert.equal(parseEntry('', entry.instance), undefined)
  assert.equal(parseEntry('[1,2]', entry.instance), undefined)
  assert.equal(parseEntry(text, 'someoneelse'), undefined)
})

test('encodeEntry refuses an invalid entry with INVALID_ARGUMENT', () => {
  assert.throws(
    () => encodeEntry(makeEntry({ instance: 'a/b' })),
    (err) => isSwitchboardError(err, 'INVALID_ARGUMENT'),
  )
  assert.equal(isValidInstance('0123abcdEF_-'), true)
  assert.equal(isValidInstance(''), false)
})

/**
 * The local directory through its Directory face, with real files in a temp folder: events from
 * another directory object, list() and pruning, suspect() with probes that refuse or accept,
 * the folder removed under a watch, and close().
 */
import assert from 'node:assert/strict'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { entryPath } from '../../../src/discovery/entry-file.ts'
import { type LocalDirectoryOptions, openLocalDirectory } from '../../../src/discovery/local-directory.ts'
import type { Directory } from '../../../src/discovery/types.ts'
import { isSwitchboardError, type SwitchboardError } from '../../../src/errors.ts'
import { makeRuntimeDir } from '../../helpers/tmp.ts'
import { waitUntil } from '../../helpers/wait.ts'
import { ChangeLog, deadPid, makeEntry } from './helpers.ts'

const root = await makeRuntimeDir('sb-ld-')
after(() => root.cleanup())
let serial = 0
const opened: Directory[] = []
after(() => {
  for (const d of opened) d.close()
})

async function freshDir(): Promise<string> {
  const dir = join(root.path, `d${++serial}`)
  await mkdir(dir, { mode: 0o700 })
  return dir
}

function open(dir: string, options: Partial<LocalDirectoryOptions> = {}): Directory {
  const directory = openLocalDirectory({ dir, probe: async () => true, ...options })
  opened.push(directory)
  return directory
}

async function exists(dir: string, instance: string): Promise<boolean> {
  return (await readdir(dir)).includes(`${instance}.json`)
}

test("join, change and leave from another directory object's publish and withdraw", async (t) => {
  const dir = await freshDir()
  const watching = open(dir)
  const writing = open(dir)
  const log = new ChangeLog()
  const stop = watching.watch(log.push)
  const entry = makeEntry()
  let started = performance.now()
  await writing.publish(entry)
  await log.waitFor('join', entry.instance)
  t.diagnostic(`join seen after ${(performance.now() - started).toFixed(1)} ms`)
  started = performance.now()
  await writing.publish({ ...entry, topics: ['prices'] })
  await log.waitFor('change', entry.instance)
  t.diagnostic(`change seen after ${(performance.now() - started).toFixed(1)} ms`)
  const change = log.seen.find((c) => c.type === 'change')!
  assert.deepEqual(change.type === 'change' && change.before.topics, [])
  assert.deepEqual(change.entry.topics, ['prices'])
  await writing.publish({ ...entry, topics: ['prices'] }) // same content: no change
  started = performance.now()
  await writing.withdraw(entry.instance)
  await log.waitFor('leave', entry.instance)
  t.diagnostic(`leave seen after ${(performance.now() - started).toFixed(1)} ms`)
  await writing.withdraw(entry.instance) // idempotent
  assert.deepEqual(
    log.seen.map((c) => c.type),
    ['join', 'change', 'leave'],
  )
  stop()
})

test('a watch starts from the entries present at the call: those are not reported, later ones are', async () => {
  const dir = await freshDir()
  const directory = open(dir)
  const before = makeEntry()
  await directory.publish(before)
  const log = new ChangeLog()
  directory.watch(log.push)
  const later = makeEntry()
  await directory.publish(later)
  await log.waitFor('join', later.instance)
  assert.equal(log.count('join', before.instance), 0)
  await directory.withdraw(before.instance)
  await log.waitFor('leave', before.instance)
})

test('a burst of rewrites is read once it settles: the last content wins', async (t) => {
  const dir = await freshDir()
  const directory = open(dir)
  const log = new ChangeLog()
  directory.watch(log.push)
  const entry = makeEntry()
  const rewrites = 50
  for (let i = 0; i < rewrites; i++) await directory.publish({ ...entry, topics: [`t${i}`] })
  await waitUntil(() => log.seen.at(-1)?.entry.topics[0] === `t${rewrites - 1}`, { what: 'the last version' })
  t.diagnostic(`${rewrites} rewrites gave ${log.seen.length} events (${log.count('change')} changes)`)
  assert.equal(log.count('join'), 1)
  assert.ok(log.seen.length < rewrites, `${log.seen.length} events for ${rewrites} rewrites`)
})

test('list() returns live entries in join order, drops a dead pid and removes its file', async () => {
  const dir = await freshDir()
  const directory = open(dir)
  const first = makeEntry({ joinedAt: 1000 })
  const second = makeEntry({ joinedAt: 2000 })
  const dead = makeEntry({ pid: await deadPid() })
  await directory.publish(second)
  await directory.publish(dead)
  await directory.publish(first)
  await writeFile(join(dir, 'broken.json'), '{')
  await writeFile(join(dir, `.${first.instance}.x.tmp`), '{')
  const listed = await directory.list()
  assert.deepEqual(
    listed.map((e) => e.instance),
    [first.instance, second.instance],
  )
  await waitUntil(async () => !(await exists(dir, dead.instance)), { what: "the dead entry's file pruned" })
  assert.ok(await exists(dir, first.instance))
})

test('list() of a missing folder is empty', async () => {
  const directory = open(join(await freshDir(), 'never-made'))
  assert.deepEqual(await directory.list(), [])
})

test('suspect(): a probe that refuses makes it a leave, prunes the file and list() drops it', async () => {
  const dir = await freshDir()
  const probed: string[] = []
  const directory = open(dir, {
    probe: async (address) => {
      probed.push(address)
      return false
    },
  })
  const writer = open(dir)
  const log = new ChangeLog()
  directory.watch(log.push)
  // Another live process's entry: the pid of our parent (alive, not us), so only the probe can kill it.
  const entry = makeEntry({ pid: process.ppid, address: 'unix:/tmp/sb-test/gone.sock' })
  await writer.publish(entry)
  await log.waitFor('join', entry.instance)
  assert.equal((await directory.list()).length, 1, 'list() does not probe')
  assert.deepEqual(probed, [])
  directory.suspect(entry.instance)
  assert.deepEqual(await directory.list(), [], 'list() waits for the suspicion in flight')
  await log.waitFor('leave', entry.instance)
  assert.deepEqual(probed, ['unix:/tmp/sb-test/gone.sock'])
  assert.equal(await exists(dir, entry.instance), false)
  assert.equal(log.count('join', entry.instance), 1, 'no join again from a read that raced the prune')
})

test('suspect(): a probe that accepts keeps it, and a second suspect within a second does not probe', async () => {
  const dir = await freshDir()
  let now = 0
  let probes = 0
  const directory = open(dir, {
    clock: () => now,
    probe: async () => {
      probes++
      return true
    },
  })
  const log = new ChangeLog()
  directory.watch(log.push)
  const entry = makeEntry({ pid: process.ppid })
  await directory.publish(entry)
  directory.suspect(entry.instance)
  assert.equal((await directory.list()).length, 1)
  assert.equal(probes, 1)
  now = 500
  directory.suspect(entry.instance)
  await directory.list()
  assert.equal(probes, 1)
  now = 1000
  directory.suspect(entry.instance)
  await directory.list()
  assert.equal(probes, 2)
  assert.equal(log.count('leave'), 0)
  assert.ok(await exists(dir, entry.instance))
})

test("suspect() never probes our own process's entry; a dead pid is pruned without a probe", async () => {
  const dir = await freshDir()
  let probes = 0
  const directory = open(dir, {
    probe: async () => {
      probes++
      return false
    },
  })
  const ours = makeEntry()
  await directory.publish(ours)
  directory.suspect(ours.instance)
  assert.equal((await directory.list()).length, 1)
  const dead = makeEntry({ pid: await deadPid() })
  await writeFile(entryPath(dir, dead.instance), JSON.stringify(dead))
  directory.suspect(dead.instance)
  await waitUntil(async () => !(await exists(dir, dead.instance)), { what: 'the dead entry pruned' })
  assert.equal(probes, 0)
})

test('an entry rewritten to name a dead pid is a leave, and its file is pruned', async (t) => {
  const dir = await freshDir()
  const directory = open(dir, { livenessIntervalMs: 100 })
  const log = new ChangeLog()
  const entry = makeEntry({ pid: process.ppid })
  await directory.publish(entry)
  directory.watch(log.push)
  const dead = { ...entry, pid: await deadPid() }
  const started = performance.now()
  await writeFile(entryPath(dir, entry.instance), JSON.stringify(dead))
  await log.waitFor('leave', entry.instance)
  t.diagnostic(`leave after ${(performance.now() - started).toFixed(0)} ms`)
  await waitUntil(async () => !(await exists(dir, entry.instance)), { what: 'the file pruned' })
})

test('the folder removed under a watch: reported once, every entry leaves, and it recovers when recreated', async () => {
  const dir = await freshDir()
  const errors: SwitchboardError[] = []
  const directory = open(dir, { livenessIntervalMs: 100, onError: (err) => errors.push(err) })
  const entry = makeEntry()
  await directory.publish(entry)
  const log = new ChangeLog()
  directory.watch(log.push)
  await rm(dir, { recursive: true })
  await log.waitFor('leave', entry.instance)
  await waitUntil(() => errors.length > 0, { what: 'the watch failure reported' })
  assert.ok(isSwitchboardError(errors[0], 'TRANSPORT_ERROR'))
  const again = makeEntry()
  await directory.publish(again) // recreates the folder
  await log.waitFor('join', again.instance)
  const third = makeEntry()
  await directory.publish(third)
  await log.waitFor('join', third.instance)
  assert.equal(errors.length, 1, errors.map((e) => e.message).join('; '))
})

test('publish and withdraw refuse invalid input with INVALID_ARGUMENT; so does a relative dir', async () => {
  const directory = open(await freshDir())
  await assert.rejects(directory.publish(makeEntry({ name: '' })), (err) =>
    isSwitchboardError(err, 'INVALID_ARGUMENT'),
  )
  await assert.rejects(directory.withdraw('../x'), (err) => isSwitchboardError(err, 'INVALID_ARGUMENT'))
  assert.throws(
    () => openLocalDirectory({ dir: 'peers', probe: async () => true }),
    (err) => isSwitchboardError(err, 'INVALID_ARGUMENT'),
  )
})

test('close() stops every watch, is idempotent, and watch() after it throws SESSION_CLOSED', async () => {
  const dir = await freshDir()
  const directory = open(dir)
  const log = new ChangeLog()
  directory.watch(log.push)
  directory.close()
  directory.close()
  const other = open(dir)
  const witness = new ChangeLog()
  other.watch(witness.push)
  const entry = makeEntry()
  await other.publish(entry)
  await witness.waitFor('join', entry.instance)
  assert.equal(log.seen.length, 0)
  assert.throws(
    () => directory.watch(() => {}),
    (err) => isSwitchboardError(err, 'SESSION_CLOSED'),
  )
  directory.suspect(entry.instance) // a no-op, no throw
  assert.equal((await directory.list()).length, 1, 'list() still reads after close()')
})

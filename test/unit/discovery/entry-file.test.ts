/** Entries on disk: atomic writes, and readers that skip whatever is not a valid entry. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { entryLimits } from '../../../src/discovery/entry.ts'
import {
  entryPath,
  readAllEntries,
  readAllEntriesSync,
  readEntry,
  removeEntry,
  sweepStaleTemps,
  writeEntry,
} from '../../../src/discovery/entry-file.ts'
import { makeRuntimeDir } from '../../helpers/tmp.ts'
import { makeEntry } from './helpers.ts'

const root = await makeRuntimeDir('sb-ef-')
after(() => root.cleanup())
let serial = 0
async function freshDir(): Promise<string> {
  const dir = join(root.path, `d${++serial}`)
  await mkdir(dir, { mode: 0o700 })
  return dir
}

test('writeEntry writes <instance>.json with mode 0600 and leaves no temp file', async () => {
  const dir = await freshDir()
  const entry = makeEntry({ topics: ['prices'] })
  await writeEntry(dir, entry)
  assert.deepEqual(await readdir(dir), [`${entry.instance}.json`])
  assert.equal((await stat(entryPath(dir, entry.instance))).mode & 0o777, 0o600)
  assert.deepEqual(JSON.parse(await readFile(entryPath(dir, entry.instance), 'utf8')), entry)
  assert.deepEqual(await readEntry(dir, entry.instance), entry)
  await removeEntry(dir, entry.instance)
  await removeEntry(dir, entry.instance) // already gone: fine
  assert.deepEqual(await readdir(dir), [])
})

test('writeEntry creates a missing directory with mode 0700', async () => {
  const dir = join(await freshDir(), 'peers')
  await writeEntry(dir, makeEntry())
  assert.equal((await stat(dir)).mode & 0o777, 0o700)
})

test('a reader never sees a partial entry while another loop rewrites it', async (t) => {
  const dir = await freshDir()
  const base = makeEntry()
  // Each version is about 100 KiB, so a non-atomic write would be seen half-done.
  const version = (v: number) => ({
    ...base,
    topics: Array.from({ length: 100 + (v % 7) * 10 }, (_, i) => `v${v}-${i}-${'t'.repeat(900)}`),
  })
  await writeEntry(dir, version(0))
  const rewrites = 300
  let writing = true
  let reads = 0
  const writer = (async () => {
    for (let v = 1; v <= rewrites; v++) await writeEntry(dir, version(v))
    writing = false
  })()
  const reader = (async () => {
    while (writing) {
      const raw = await readFile(entryPath(dir, base.instance), 'utf8')
      const parsed = JSON.parse(raw) as { topics: string[] } // throws on a partial file
      const tag = parsed.topics[0]!.split('-')[0]
      assert.ok(
        parsed.topics.every((t) => t.startsWith(`${tag}-`)),
        'topics of two versions mixed',
      )
      const entry = await readEntry(dir, base.instance)
      assert.notEqual(entry, undefined, 'readEntry missed the entry during a rewrite')
      reads++
    }
  })()
  await Promise.all([writer, reader])
  t.diagnostic(
    `${rewrites} rewrites of a ${Math.round(JSON.stringify(version(0)).length / 1024)} KiB entry, ${reads} reads, none partial`,
  )
  assert.ok(reads > 10, `only ${reads} reads overlapped the rewrites`)
  assert.deepEqual(await readdir(dir), [`${base.instance}.json`])
})

test('readers skip temp files, malformed, foreign, oversized and non-regular files', async () => {
  const dir = await freshDir()
  const good = makeEntry()
  await writeEntry(dir, good)
  const other = makeEntry()
  await writeFile(join(dir, `.${other.instance}.abc.tmp`), JSON.stringify(other))
  await writeFile(join(dir, 'broken.json'), '{"name": "half')
  await writeFile(join(dir, 'empty.json'), '')
  await writeFile(join(dir, 'array.json'), '[]')
  await writeFile(join(dir, 'foreign.json'), JSON.stringify(makeEntry())) // names another instance
  await writeFile(
    join(dir, 'bad-topics.json'),
    JSON.stringify(makeEntry({ instance: 'bad-topics', topics: [1] as unknown as string[] })),
  )
  const huge = makeEntry({ instance: 'huge' })
  await writeFile(join(dir, 'huge.json'), JSON.stringify(huge).padEnd(entryLimits.maxFileBytes + 1, ' '))
  await writeFile(join(dir, 'notes.txt'), 'hello')
  await mkdir(join(dir, 'adir.json'))
  execFileSync('mkfifo', [join(dir, 'fifo.json')]) // a reader that opened it blocking would hang
  await writeEntry(join(dir, 'elsewhere'), makeEntry({ instance: 'linked' }))
  await symlink(join(dir, 'elsewhere', 'linked.json'), join(dir, 'linked.json'))
  const all = await readAllEntries(dir)
  assert.deepEqual([...all!.keys()], [good.instance])
  assert.deepEqual([...readAllEntriesSync(dir).keys()], [good.instance])
  assert.equal(await readEntry(dir, 'fifo'), undefined)
  assert.equal(await readAllEntries(join(dir, 'missing')), undefined)
  assert.equal(readAllEntriesSync(join(dir, 'missing')).size, 0)
})

test('sweepStaleTemps removes temp files older than a minute, nothing else', async () => {
  const dir = await freshDir()
  const old = join(dir, '.aaaa.1.tmp')
  const fresh = join(dir, '.bbbb.2.tmp')
  await writeFile(old, '{')
  await writeFile(fresh, '{')
  await writeFile(join(dir, 'old.json'), '{')
  const twoMinutesAgo = (Date.now() - 120_000) / 1000
  await utimes(old, twoMinutesAgo, twoMinutesAgo)
  await utimes(join(dir, 'old.json'), twoMinutesAgo, twoMinutesAgo)
  await sweepStaleTemps(dir, await readdir(dir), Date.now())
  assert.deepEqual((await readdir(dir)).sort(), ['.bbbb.2.tmp', 'old.json'])
})

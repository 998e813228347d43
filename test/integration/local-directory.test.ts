/**
 * The local directory across processes: an entry's owner killed with SIGKILL (its file left
 * behind) leaves within about a second, and 50 entries from other processes: how long a watch
 * takes to see them all, and how long list() takes over them. The times are printed, not
 * asserted beyond generous bounds (benchmarks assert nothing; these bounds catch a hang).
 */
import assert from 'node:assert/strict'
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { openLocalDirectory } from '../../src/discovery/local-directory.ts'
import type { Directory } from '../../src/discovery/types.ts'
import { type Child, startProgram } from '../helpers/child.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'
import { waitUntil } from '../helpers/wait.ts'
import { ChangeLog, makeEntry } from '../unit/discovery/helpers.ts'

const publisher = fileURLToPath(new URL('../unit/discovery/fixtures/entry-publisher.ts', import.meta.url))
const root = await makeRuntimeDir('sb-lde-')
const children: Child[] = []
const opened: Directory[] = []
after(async () => {
  for (const d of opened) d.close()
  await Promise.all(children.map((c) => c.kill()))
  await root.cleanup()
})

let serial = 0
async function freshDir(): Promise<string> {
  const dir = join(root.path, `d${++serial}`)
  await mkdir(dir, { mode: 0o700 })
  return dir
}

function open(dir: string): Directory {
  const directory = openLocalDirectory({ dir, probe: async () => true })
  opened.push(directory)
  return directory
}

async function start(dir: string, count: number, name: string): Promise<Child> {
  const child = await startProgram(publisher, [dir, String(count), name])
  children.push(child)
  return child
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

test('a process killed with SIGKILL is reported as leave within about a second, its file pruned', async (t) => {
  const dir = await freshDir()
  const directory = open(dir)
  const log = new ChangeLog()
  directory.watch(log.push)
  const child = await start(dir, 1, 'victim')
  child.proc.stdin!.write('go\n')
  await log.waitFor('join', undefined)
  const joined = log.seen[0]!.entry
  assert.equal(joined.pid, child.proc.pid)
  await child.kill()
  const killed = performance.now()
  assert.deepEqual(await readdir(dir), [`${joined.instance}.json`], 'SIGKILL left the file behind')
  await log.waitFor('leave', joined.instance, 3000)
  const leaveMs = performance.now() - killed
  await waitUntil(async () => (await readdir(dir)).length === 0, { what: 'the file pruned', timeoutMs: 2000 })
  t.diagnostic(`leave reported ${leaveMs.toFixed(0)} ms after the SIGKILLed process exited`)
  assert.deepEqual(await directory.list(), [])
})

test('50 entries from 5 processes (10 directory objects each): watch and list() times', async (t) => {
  const dir = await freshDir()
  const directory = open(dir)
  const log = new ChangeLog()
  directory.watch(log.push)
  const procs = await Promise.all([0, 1, 2, 3, 4].map((i) => start(dir, 10, `svc${i}`)))
  const started = performance.now()
  for (const child of procs) child.proc.stdin!.write('go\n')
  await log.waitFor('join', undefined, 10_000, 50)
  const watchMs = performance.now() - started
  const times: number[] = []
  for (let i = 0; i < 20; i++) {
    const before = performance.now()
    const listed = await directory.list()
    times.push(performance.now() - before)
    assert.equal(listed.length, 50)
  }
  t.diagnostic(
    `a watch saw all 50 joins ${watchMs.toFixed(0)} ms after the 5 processes were told to publish; ` +
      `list() of 50: median ${median(times).toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms (20 runs)`,
  )
  assert.equal(log.count('join'), 50)
  assert.equal(new Set(log.seen.map((c) => c.entry.instance)).size, 50)
})

test('50 entries from 50 directory objects in this process: watch and list() times', async (t) => {
  const dir = await freshDir()
  const watching = open(dir)
  const log = new ChangeLog()
  watching.watch(log.push)
  const writers = Array.from({ length: 50 }, () => open(dir))
  const started = performance.now()
  await Promise.all(writers.map((w, i) => w.publish(makeEntry({ name: `svc${i % 5}`, topics: [`t${i}`] }))))
  const publishMs = performance.now() - started
  await log.waitFor('join', undefined, 10_000, 50)
  const watchMs = performance.now() - started
  const times: number[] = []
  for (let i = 0; i < 20; i++) {
    const before = performance.now()
    assert.equal((await watching.list()).length, 50)
    times.push(performance.now() - before)
  }
  t.diagnostic(
    `50 publishes took ${publishMs.toFixed(0)} ms; a watch saw all 50 joins after ${watchMs.toFixed(0)} ms; ` +
      `list() of 50: median ${median(times).toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms (20 runs)`,
  )
})

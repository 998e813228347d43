/** Shared by the discovery tests: entries, a dead pid, and a recorder of watch changes. */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import type { DirectoryChange, PeerEntry } from '../../../src/discovery/types.ts'
import { waitUntil } from '../../helpers/wait.ts'

/** A valid entry of this process, with a fresh instance id unless given. */
export function makeEntry(overrides: Partial<PeerEntry> = {}): PeerEntry {
  return {
    name: 'billing',
    instance: randomBytes(8).toString('hex'),
    address: 'unix:/tmp/sb-test/billing.sock',
    pid: process.pid,
    user: 'tester',
    protocols: [],
    topics: [],
    publishes: [],
    joinedAt: Date.now(),
    ...overrides,
  }
}

/** The pid of a child that has exited (so, barring reuse within the test, no process has it). */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await once(child, 'exit')
  return child.pid!
}

/** Records a watch's changes; waits poll the record, so a change that came first is not missed. */
export class ChangeLog {
  readonly seen: DirectoryChange[] = []
  readonly push = (change: DirectoryChange): void => {
    this.seen.push(change)
  }

  count(type: DirectoryChange['type'], instance?: string): number {
    return this.seen.filter(
      (c) => c.type === type && (instance === undefined || c.entry.instance === instance),
    ).length
  }

  /** Waits until `type` was seen for `instance` (or `n` times for any instance). */
  async waitFor(type: DirectoryChange['type'], instance: string | undefined, timeoutMs = 5000, n = 1) {
    await waitUntil(() => this.count(type, instance) >= n, {
      what: `${n} ${type}${instance === undefined ? '' : ` of ${instance}`}`,
      timeoutMs,
      describe: () => this.seen.map((c) => `${c.type} ${c.entry.instance}`).join(', ') || 'nothing',
    })
  }
}

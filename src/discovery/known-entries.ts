/**
 * What a directory's watches have been told, by instance. Applying a join or a leave returns
 * the change to report, or nothing when the watches already know it: a join of an entry known
 * as it is, or a leave of an unknown instance, is nothing; a join of a known instance with other
 * content is a change. So a change heard twice (on the daemon's topic, and in a list after a
 * reconnect) is reported once.
 */
import { canonicalJson } from './entry.ts'
import type { DirectoryChange, PeerEntry } from './types.ts'

export class KnownEntries {
  private readonly entries = new Map<string, PeerEntry>()

  /** Takes `entries` as known without reporting them (what is there when a watch starts). */
  seed(entries: readonly PeerEntry[]): void {
    for (const e of entries) this.entries.set(e.instance, e)
  }

  get(instance: string): PeerEntry | undefined {
    return this.entries.get(instance)
  }

  instances(): string[] {
    return [...this.entries.keys()]
  }

  /** Every known entry, oldest join first (ties by instance), as the daemon lists them. */
  list(): PeerEntry[] {
    return [...this.entries.values()].sort(
      (a, b) => a.joinedAt - b.joinedAt || (a.instance < b.instance ? -1 : 1),
    )
  }

  apply(type: 'join' | 'leave', e: PeerEntry): DirectoryChange | undefined {
    const old = this.entries.get(e.instance)
    if (type === 'leave') {
      if (old === undefined) return undefined
      this.entries.delete(e.instance)
      return { type: 'leave', entry: old }
    }
    this.entries.set(e.instance, e)
    if (old === undefined) return { type: 'join', entry: e }
    return canonicalJson(old) === canonicalJson(e) ? undefined : { type: 'change', entry: e, before: old }
  }
}

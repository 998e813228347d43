/**
 * The local directory (DESIGN.md §6): one file per joined peer in an owner-only folder, no
 * daemon. publish/withdraw write and remove our own file; list() reads every file and drops the
 * dead; watch() reports joins, leaves and changes; suspect() probes an entry whose connection
 * failed. How to probe an address is passed in: discovery/ opens no connection itself.
 *
 *   const directory = openLocalDirectory({ dir: join(runtimeDir, 'peers'), probe })
 *   await directory.publish(entry)
 *   const stop = directory.watch((change) => …)
 */
import { isAbsolute } from 'node:path'
import { type SwitchboardError, sbError } from '../errors.ts'
import { isValidInstance } from './entry.ts'
import {
  listFileNames,
  readEntries,
  readEntry,
  removeEntry,
  sweepStaleTemps,
  writeEntry,
} from './entry-file.ts'
import { ProbeGate, pidAlive, Tombstones } from './liveness.ts'
import type { AddressProbe, Directory, DirectoryChange, PeerEntry } from './types.ts'
import { DirectoryWatcher, type WatcherContext } from './watcher.ts'

export interface LocalDirectoryOptions {
  /**
   * Absolute path of the folder holding the entries (peer/ passes `<runtimeDir>/peers`, which it
   * made owner-only). Created with mode 0700 when missing.
   */
  readonly dir: string
  /** Whether an address accepts connections; asked only by suspect(). */
  readonly probe: AddressProbe
  /** Monotonic milliseconds for the once-a-second limits; default `performance.now()`. */
  readonly clock?: () => number
  /**
   * Problems no call awaits: a watch that failed (it then rescans every second), a dead entry's
   * file that could not be removed. Without it they are dropped; watching goes on either way.
   */
  readonly onError?: (err: SwitchboardError) => void
  /** Period of a watch's pid check, and of its rescan while fs.watch is down (ms); default 1000. */
  readonly livenessIntervalMs?: number
  /** How long a watch lets a burst of file events settle before reading (ms); default 25. */
  readonly settleMs?: number
}

/**
 * At most one probe per entry per this interval (ms): suspect() comes with every failed
 * connection to an entry, and each probe is a connect attempt of its own, so a burst of failed
 * calls to one peer costs one probe a second, not one per call.
 */
const PROBE_INTERVAL_MS = 1000
/** How long an entry found dead stays dead to reads that started before its file went (ms). */
const TOMBSTONE_MS = 10_000

export function openLocalDirectory(options: LocalDirectoryOptions): Directory {
  return new LocalDirectory(options)
}

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0)
    throw sbError('INVALID_ARGUMENT', `${what} must be a positive number`)
  return value
}

/** Oldest join first (ties by instance), so every reader lists the same order. */
function joinOrder(a: PeerEntry, b: PeerEntry): number {
  return a.joinedAt - b.joinedAt || (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0)
}

class LocalDirectory implements Directory {
  private readonly dir: string
  private readonly probe: AddressProbe
  private readonly onError: ((err: SwitchboardError) => void) | undefined
  private readonly gate: ProbeGate
  private readonly tombstones: Tombstones
  private readonly watcherContext: WatcherContext
  private readonly watchers = new Set<DirectoryWatcher>()
  private closed = false

  constructor(options: LocalDirectoryOptions) {
    if (typeof options?.dir !== 'string' || !isAbsolute(options.dir))
      throw sbError('INVALID_ARGUMENT', 'the local directory needs an absolute dir')
    if (typeof options.probe !== 'function')
      throw sbError('INVALID_ARGUMENT', 'the local directory needs a probe')
    this.dir = options.dir
    this.probe = options.probe
    this.onError = options.onError
    const clock = options.clock ?? (() => performance.now())
    this.gate = new ProbeGate(clock, PROBE_INTERVAL_MS)
    this.tombstones = new Tombstones(clock, TOMBSTONE_MS)
    this.watcherContext = {
      dir: this.dir,
      settleMs: positive(options.settleMs, 25, 'settleMs'),
      tickMs: positive(options.livenessIntervalMs, 1000, 'livenessIntervalMs'),
      isDead: (entry) => this.tombstones.has(entry.instance) || !pidAlive(entry.pid),
      prune: (entry) => this.prune(entry),
      report: (err) => this.report(err),
    }
  }

  async publish(entry: PeerEntry): Promise<void> {
    await writeEntry(this.dir, entry)
    this.tombstones.delete(entry.instance)
  }

  async withdraw(instance: string): Promise<void> {
    if (!isValidInstance(instance))
      throw sbError('INVALID_ARGUMENT', `not an instance id: ${String(instance)}`)
    await removeEntry(this.dir, instance)
  }

  /**
   * Reads every entry and checks its pid (no probe: list() is on the path of every name
   * lookup). An entry whose liveness check is in flight (suspect()) waits for its verdict.
   */
  async list(): Promise<PeerEntry[]> {
    const names = await listFileNames(this.dir)
    if (names === undefined) return []
    void sweepStaleTemps(this.dir, names, Date.now())
    const live: PeerEntry[] = []
    for (const entry of (await readEntries(this.dir, names)).values()) {
      if (this.tombstones.has(entry.instance)) continue
      if (pidAlive(entry.pid)) live.push(entry)
      else this.declareDead(entry)
    }
    const verdicts = await Promise.all(live.map((e) => this.gate.pending(e.instance) ?? true))
    return live.filter((e, i) => verdicts[i] && !this.tombstones.has(e.instance)).sort(joinOrder)
  }

  /** Throws SESSION_CLOSED after close(). */
  watch(onChange: (change: DirectoryChange) => void): () => void {
    if (this.closed) throw sbError('SESSION_CLOSED', 'this directory is closed')
    const watcher = new DirectoryWatcher(this.watcherContext, onChange)
    this.watchers.add(watcher)
    return () => {
      watcher.close()
      this.watchers.delete(watcher)
    }
  }

  /**
   * Checks `instance` now unless it was checked within the last second: its pid, then its
   * address. Dead: its file is removed and every watch of this directory reports a leave.
   * Our own process's entries are alive by definition. A no-op after close().
   */
  suspect(instance: string): void {
    if (this.closed || !isValidInstance(instance)) return
    void this.gate.run(instance, async () => {
      const entry = await readEntry(this.dir, instance)
      if (entry === undefined) return false // already gone: the watches see its removal
      if (entry.pid === process.pid) return true
      const alive = pidAlive(entry.pid) && (await this.probe(entry.address)) !== false
      if (!alive) this.declareDead(entry)
      return alive
    })
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const watcher of this.watchers) watcher.close()
    this.watchers.clear()
  }

  /** Found dead here (not by a watch): prune it and tell every watch. */
  private declareDead(entry: PeerEntry): void {
    this.prune(entry)
    for (const watcher of this.watchers) watcher.forget(entry.instance)
  }

  private prune(entry: PeerEntry): void {
    this.tombstones.add(entry.instance)
    removeEntry(this.dir, entry.instance).catch((err: SwitchboardError) => this.report(err))
  }

  private report(err: SwitchboardError): void {
    this.onError?.(err)
  }
}

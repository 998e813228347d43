/**
 * One watch() of the local directory: fs.watch on the folder (no polling while it works), a
 * short settle timer that gathers a burst of file events into one read of just the files they
 * named, a diff against the entries known so far (join, leave, change), and a once-a-second
 * tick that checks the known entries' pids, so a process killed with SIGKILL (its file left
 * behind, no file event) leaves within about a second.
 *
 * When fs.watch fails (the folder removed, EMFILE, no inotify watches left) the error is
 * reported and the tick takes over: it rescans the whole folder every second and tries to
 * watch it again.
 */
import { type FSWatcher, mkdirSync, watch } from 'node:fs'
import { basename } from 'node:path'
import { isSwitchboardError, type SwitchboardError, sbError } from '../errors.ts'
import { errnoCode } from '../internal/errno.ts'
import { canonicalJson } from './entry.ts'
import { instanceOfFile, readAllEntries, readAllEntriesSync, readEntry } from './entry-file.ts'
import type { DirectoryChange, PeerEntry } from './types.ts'

/** What a watcher needs from its directory. */
export interface WatcherContext {
  readonly dir: string
  /** How long a burst of file events settles before the files are read (ms). */
  readonly settleMs: number
  /** Period of the pid check (and of the rescan when fs.watch is down) (ms). */
  readonly tickMs: number
  /** True when the entry must not be listed: its pid is gone or it was found dead lately. */
  isDead(entry: PeerEntry): boolean
  /** Forgets a dead entry for good: remembers it died and removes its file. */
  prune(entry: PeerEntry): void
  report(err: SwitchboardError): void
}

interface Known {
  readonly entry: PeerEntry
  /** Its canonical JSON: a re-read with other content is a `change`. */
  readonly json: string
}

export class DirectoryWatcher {
  private readonly known = new Map<string, Known>()
  private fsWatcher: FSWatcher | undefined
  /** Instances whose files had events since the last read. */
  private readonly dirty = new Set<string>()
  /** The next read covers the whole folder (an event without a file name, the folder itself). */
  private rescanAll = false
  private settleTimer: NodeJS.Timeout | undefined
  private scanning = false
  /** Set once the starting point is read; the pid check, and the fallback rescan. */
  private ticker: NodeJS.Timeout | undefined
  private closed = false

  /**
   * Starts watching, then reads the starting point synchronously: "from now on" means from
   * this call, so a list() made after watch() returns sees every entry this watch will not
   * report as a join, even a list() through another directory object (as `ls --watch` does).
   * The folder holds one small file per peer, so this read is short.
   */
  constructor(
    private readonly ctx: WatcherContext,
    private readonly onChange: (change: DirectoryChange) => void,
  ) {
    try {
      mkdirSync(ctx.dir, { recursive: true, mode: 0o700 })
    } catch {
      // fs.watch below fails too and reports why
    }
    this.startFsWatch(true)
    try {
      for (const entry of readAllEntriesSync(ctx.dir).values()) {
        if (ctx.isDead(entry)) ctx.prune(entry)
        else this.known.set(entry.instance, { entry, json: canonicalJson(entry) })
      }
    } catch (err) {
      this.fsWatcher?.close()
      throw err
    }
    this.ticker = setInterval(() => this.tick(), ctx.tickMs)
    // The tick alone never keeps a process alive; it does while it stands in for fs.watch.
    if (this.fsWatcher !== undefined) this.ticker.unref()
  }

  /** The directory found `instance` dead (a failed probe, a list()): a leave, if we knew it. */
  forget(instance: string): void {
    const before = this.known.get(instance)
    if (before === undefined || this.closed) return
    this.known.delete(instance)
    this.deliver([{ type: 'leave', entry: before.entry }])
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    clearInterval(this.ticker)
    clearTimeout(this.settleTimer)
    this.fsWatcher?.close()
    this.fsWatcher = undefined
  }

  // ---- file events -----------------------------------------------------------------------------

  /** Watches the folder; on failure reports it (when `report`) and leaves the tick polling. */
  private startFsWatch(report: boolean): boolean {
    try {
      const w = watch(this.ctx.dir, (_type, name) => this.onFsEvent(name))
      w.on('error', (err) => this.onFsError(err))
      this.fsWatcher = w
      this.ticker?.unref()
      return true
    } catch (err) {
      if (report) this.reportWatchFailure(err)
      return false
    }
  }

  private onFsError(err: unknown): void {
    this.fsWatcher?.close()
    this.fsWatcher = undefined
    this.ticker?.ref()
    this.reportWatchFailure(err)
    this.rescanAll = true
    this.schedule()
  }

  private reportWatchFailure(err: unknown): void {
    this.ctx.report(
      sbError(
        'TRANSPORT_ERROR',
        `cannot watch the peer directory ${this.ctx.dir} (${errnoCode(err)}); rescanning it every ${this.ctx.tickMs} ms`,
        { cause: err },
      ),
    )
  }

  private onFsEvent(name: string | null): void {
    if (this.closed) return
    if (name === null) {
      this.rescanAll = true
    } else if (name === basename(this.ctx.dir)) {
      // An event about the folder itself: removed or moved. The inotify watch on it is gone,
      // so watch again (which fails and falls back to the tick while it is missing).
      this.fsWatcher?.close()
      this.fsWatcher = undefined
      if (!this.startFsWatch(true)) this.ticker?.ref()
      this.rescanAll = true
    } else {
      const instance = instanceOfFile(name)
      if (instance === undefined) return // a temp file or a stranger: its rename names the entry
      this.dirty.add(instance)
    }
    this.schedule()
  }

  /** One settle timer for a burst; never two reads at once (changes stay in file order). */
  private schedule(): void {
    if (this.closed || this.settleTimer !== undefined || this.scanning) return
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined
      void this.scan()
    }, this.ctx.settleMs)
    this.settleTimer.unref()
  }

  private async scan(): Promise<void> {
    this.scanning = true
    try {
      const all = this.rescanAll
      const dirty = [...this.dirty]
      this.rescanAll = false
      this.dirty.clear()
      const found = new Map<string, PeerEntry | undefined>()
      if (all) {
        for (const [instance, entry] of (await readAllEntries(this.ctx.dir)) ?? []) found.set(instance, entry)
        for (const instance of this.known.keys()) if (!found.has(instance)) found.set(instance, undefined)
      } else {
        const entries = await Promise.all(dirty.map((instance) => readEntry(this.ctx.dir, instance)))
        for (const [i, instance] of dirty.entries()) found.set(instance, entries[i])
      }
      if (!this.closed) this.apply(found)
    } catch (err) {
      this.ctx.report(
        isSwitchboardError(err)
          ? err
          : sbError('TRANSPORT_ERROR', 'reading the peer directory failed', { cause: err }),
      )
    } finally {
      this.scanning = false
      if (this.rescanAll || this.dirty.size > 0) this.schedule()
    }
  }

  // ---- the diff --------------------------------------------------------------------------------

  /** Compares what was read (undefined: no valid file) with what we knew, and tells the changes. */
  private apply(found: Map<string, PeerEntry | undefined>): void {
    const changes: DirectoryChange[] = []
    for (const [instance, read] of found) {
      let entry = read
      if (entry !== undefined && this.ctx.isDead(entry)) {
        this.ctx.prune(entry)
        entry = undefined
      }
      const before = this.known.get(instance)
      if (entry === undefined) {
        if (before === undefined) continue
        this.known.delete(instance)
        changes.push({ type: 'leave', entry: before.entry })
        continue
      }
      const json = canonicalJson(entry)
      this.known.set(instance, { entry, json })
      if (before === undefined) changes.push({ type: 'join', entry })
      else if (before.json !== json) changes.push({ type: 'change', entry, before: before.entry })
    }
    this.deliver(changes)
  }

  /** Pids of the known entries (a syscall each, no I/O); the fallback rescan while not watching. */
  private tick(): void {
    if (this.closed) return
    if (this.fsWatcher === undefined) {
      this.startFsWatch(false)
      this.rescanAll = true
      this.schedule()
    }
    const changes: DirectoryChange[] = []
    for (const [instance, { entry }] of [...this.known]) {
      if (!this.ctx.isDead(entry)) continue
      this.ctx.prune(entry)
      this.known.delete(instance)
      changes.push({ type: 'leave', entry })
    }
    this.deliver(changes)
  }

  /**
   * Calls onChange for each change. One that throws does not cost the others theirs: the first
   * error is rethrown afterwards, as an uncaught exception, as from an EventEmitter listener.
   */
  private deliver(changes: readonly DirectoryChange[]): void {
    let failure: { err: unknown } | undefined
    for (const change of changes) {
      if (this.closed) return
      try {
        this.onChange(change)
      } catch (err) {
        failure ??= { err }
      }
    }
    if (failure !== undefined) {
      const { err } = failure
      process.nextTick(() => {
        throw err
      })
    }
  }
}

/**
 * The daemon directory (DESIGN.md §6): the Directory face over one link to `switchboard daemon`.
 *
 * - publish registers the entry with a lease; one timer heartbeats every entry at a third of
 *   the lease; withdraw ends it. list asks the daemon. watch follows the daemon's changes topic.
 * - Each new connection (the first, a reconnect, a restarted daemon) first logs in (a daemon with
 *   auth refuses register, list and watching its changes before that), then registers every
 *   entry again, subscribes to the changes again, then lists and reports the joins missed
 *   meanwhile; an entry
 *   the list lacks is reported as a leave only if it is still missing one lease later (after a
 *   restart the others register again one by one: they are not gone).
 *   A heartbeat the daemon does not know (LEASE_UNKNOWN) or a registration refused for want of
 *   a login on this connection starts the same resync.
 * - suspect is a no-op: the daemon's lease decides whether a peer is alive, and a dead one
 *   leaves when its lease ends (without a heartbeat, within one lease).
 *
 * The link reconnects forever (a daemon restart is normal): calls made while it is down wait,
 * under their deadlines.
 */
import { isSwitchboardError, type SwitchboardError, sbError } from '../errors.ts'
import { openLink } from '../link/api.ts'
import type { Link } from '../link/link.ts'
import type { ConnectOptions } from '../link/options.ts'
import type { Subscription } from '../rpc/subscription.ts'
import type { DaemonLogin } from './daemon-login.ts'
import { DAEMON_CHANGES_TOPIC } from './daemon-names.ts'
import { checkEntry, isValidInstance } from './entry.ts'
import { KnownEntries } from './known-entries.ts'
import type { Directory, DirectoryChange, PeerEntry } from './types.ts'

export interface DaemonDirectoryOptions {
  /** The daemon's address to dial (`unix:/…/daemon.sock`, `tcp://host:4455`). */
  readonly address: string
  /** The link's options: its security (keys and the daemon's key as serverKey), timings. */
  readonly connect: ConnectOptions
  /** The lease asked for each entry, ms; default 15,000. Heartbeats go at a third of it. */
  readonly leaseMs?: number
  /** Run on each new connection before registering (the cookie challenge, a password). */
  readonly login?: DaemonLogin
  /** Deadline of each call to the daemon, ms; default 10,000. */
  readonly callTimeoutMs?: number
  /** Problems no call awaits (a failed heartbeat or resync); they are retried either way. */
  readonly onError?: (err: SwitchboardError) => void
}

export function openDaemonDirectory(options: DaemonDirectoryOptions): DaemonDirectory {
  return new DaemonDirectory(options)
}

/** How many times a resync lists again because changes arrived while it listed. */
const RELIST_TRIES = 3

/** How long expectedBack waits for news before it lets its caller try again, ms. */
const EXPECTED_BACK_PAUSE_MS = 250

export class DaemonDirectory implements Directory {
  readonly link: Link
  private readonly leaseMs: number
  private readonly timeout: number
  private readonly login: DaemonLogin | undefined
  private readonly onError: ((err: SwitchboardError) => void) | undefined
  /** Our own entries, by instance: registered again after every reconnect. */
  private readonly entries = new Map<string, PeerEntry>()
  /** What the watches have been told: a resync reports the difference. */
  private readonly view = new KnownEntries()
  private readonly watchers = new Set<(change: DirectoryChange) => void>()
  private subscription: Subscription<DirectoryChange> | undefined
  /** Someone watches: each connection subscribes to the daemon's changes once it has logged in. */
  private watching = false
  /** The login on the current connection, once started. */
  private loggedIn: Promise<void> | undefined
  private resyncing: Promise<void> | undefined
  private resyncAgain = false
  /** Changes heard so far: a list taken while this moved may be stale. */
  private changesHeard = 0
  private viewSeeded: Promise<void> | undefined
  private heartbeatTimer: NodeJS.Timeout | undefined
  /** Checks, a lease after a resync, of entries its list did not have. */
  private readonly leaveChecks = new Set<NodeJS.Timeout>()
  /** Instances a resync found missing whose leave is not confirmed yet (they may register again). */
  private readonly awaited = new Set<string>()
  /** Told of each change heard and each resync ended (expectedBack's callers wait on it). */
  private readonly newsWaiters = new Set<() => void>()
  /** The shortest lease the daemon granted (ms): heartbeats go at a third of it. */
  private grantedMs: number
  private everReady = false
  private closed = false
  private closing: Promise<void> = Promise.resolve()

  constructor(options: DaemonDirectoryOptions) {
    this.leaseMs = options.leaseMs ?? 15_000
    if (!Number.isFinite(this.leaseMs) || this.leaseMs <= 0)
      throw sbError('INVALID_ARGUMENT', 'leaseMs must be a positive number')
    this.grantedMs = this.leaseMs
    this.timeout = options.callTimeoutMs ?? 10_000
    this.login = options.login
    this.onError = options.onError
    // One connection, so what it proved (its login) covers every call; reconnect forever.
    this.link = openLink(options.address, {
      ...options.connect,
      poolMax: 1,
      maxRetries: Number.POSITIVE_INFINITY,
      backoffMaxMs: options.connect.backoffMaxMs ?? 1000,
    })
    this.link.on('state', (from, to) => {
      // A login proves one connection: the next one (whose calls queue from now) logs in again.
      if (from === 'ready') this.loggedIn = undefined
      if (to !== 'ready') return
      // The first connection needs no resync: nothing was registered or seen before it.
      if (this.everReady) {
        // Not carried over to the new connection, where it would come before the login (and
        // be refused): the resync subscribes again once logged in.
        this.subscription?.close()
        this.subscription = undefined
        this.startResync()
      }
      this.everReady = true
    })
    this.link.on('error', (err) => this.report(err))
  }

  async publish(entry: PeerEntry): Promise<void> {
    this.assertOpen()
    const checked = checkEntry(entry)
    if (checked.problem !== undefined) throw sbError('INVALID_ARGUMENT', `entry ${checked.problem}`)
    this.entries.set(entry.instance, checked.entry)
    // Down after having been up: the entry is registered by the resync when the daemon is back,
    // rather than holding up the caller (a subscribe, a first publish) until then.
    if (this.everReady && this.link.state !== 'ready') {
      if (this.heartbeatTimer === undefined) this.startHeartbeats()
      return
    }
    await this.register(checked.entry)
    if (this.heartbeatTimer === undefined && !this.closed) this.startHeartbeats()
  }

  /**
   * Ends our entry's lease now when the daemon is reachable; never waits for it to come back
   * (a peer leaving while the daemon is down must not hang): without heartbeats the lease ends
   * by itself, and a clean close() ends it at once.
   */
  async withdraw(instance: string): Promise<void> {
    if (!isValidInstance(instance))
      throw sbError('INVALID_ARGUMENT', `not an instance id: ${String(instance)}`)
    if (!this.entries.delete(instance) || this.closed || this.link.state !== 'ready') return
    await this.call('daemon.withdraw', { instance }).catch((err: SwitchboardError) => this.report(err))
  }

  /**
   * The daemon's entries. While the daemon is unreachable, a directory that watches answers
   * from what its watches know (the last word from the daemon) instead of waiting: peers talk
   * to each other directly, so a daemon restart must not stall their lookups.
   */
  async list(): Promise<PeerEntry[]> {
    this.assertOpen()
    if (this.watching && this.link.state !== 'ready') {
      return this.view.list()
    }
    return this.fetchList()
  }

  watch(onChange: (change: DirectoryChange) => void): () => void {
    this.assertOpen()
    this.watchers.add(onChange)
    if (!this.watching) {
      this.watching = true
      // What the watches know starts as the daemon's list now (reported: nothing, it is "now").
      this.viewSeeded = (async () => {
        await this.ensureLogin()
        this.subscribe()
        await this.seedView()
      })().catch((err: SwitchboardError) => this.report(err))
    }
    return () => {
      this.watchers.delete(onChange)
    }
  }

  /** A connection to `instance` failed: the daemon's lease decides, so there is nothing to do. */
  suspect(_instance: string): void {}

  close(): void {
    void this.closeAndWait()
  }

  /** close(), resolving once the link has closed (the daemon has then ended our leases). */
  closeAndWait(): Promise<void> {
    if (!this.closed) {
      this.closed = true
      clearInterval(this.heartbeatTimer)
      for (const t of this.leaveChecks) clearTimeout(t)
      this.leaveChecks.clear()
      this.watchers.clear()
      this.subscription?.close()
      // A clean close: the daemon ends this connection's leases now.
      this.closing = this.link.close().catch(() => {})
    }
    return this.closing
  }

  /** Resolves once this connection to the daemon has logged in (the relay asks as this principal). */
  whenLoggedIn(): Promise<void> {
    this.assertOpen()
    return this.ensureLogin()
  }

  /**
   * The daemon said it does not know `instance`: true when it is expected back (after a daemon
   * restart the others register again one by one), once something changed or after a short
   * pause, so the caller asks again; false when it is not (our watches dropped it, or the resync
   * confirmed its leave one lease later), so the caller stops asking.
   */
  async expectedBack(instance: string, signal: AbortSignal): Promise<boolean> {
    const expected = (): boolean =>
      !this.closed &&
      !signal.aborted &&
      this.view.get(instance) !== undefined &&
      (this.resyncing !== undefined || this.awaited.has(instance))
    if (!expected()) return false
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.newsWaiters.delete(done)
        signal.removeEventListener('abort', done)
        resolve()
      }
      // The pause covers news that came before our subscription did (a join the daemon sent
      // before this connection watched its changes).
      const timer = setTimeout(done, EXPECTED_BACK_PAUSE_MS)
      this.newsWaiters.add(done)
      signal.addEventListener('abort', done, { once: true })
    })
    return !signal.aborted && !this.closed && this.view.get(instance) !== undefined
  }

  /** Resolves once the first view of the directory is loaded (tests, and a resync, wait for it). */
  async settled(): Promise<void> {
    await this.viewSeeded
    await this.resyncing
  }

  // ---- the link ------------------------------------------------------------------------------

  private call<T>(method: string, data: unknown): Promise<T> {
    return this.link.request<T>(method, data, { timeout: this.timeout, idempotent: true })
  }

  /** Subscribes to the daemon's changes on the current connection (after its login). */
  private subscribe(): void {
    if (this.closed || this.subscription !== undefined) return
    this.subscription = this.link.subscribe<DirectoryChange>(DAEMON_CHANGES_TOPIC, {
      onEvent: (change: DirectoryChange) => this.heard(change),
    })
    this.subscription.ready.catch((err: SwitchboardError) => this.report(err))
  }

  private ensureLogin(): Promise<void> {
    if (this.login === undefined) return Promise.resolve()
    const login = this.login
    if (this.loggedIn === undefined) {
      const p = login((method, data) => this.call(method, data))
      this.loggedIn = p
      p.catch(() => {
        if (this.loggedIn === p) this.loggedIn = undefined
      })
    }
    return this.loggedIn
  }

  private async register(entry: PeerEntry): Promise<void> {
    await this.ensureLogin()
    let granted: { leaseMs?: unknown }
    try {
      granted = await this.call('daemon.register', { entry, leaseMs: this.leaseMs })
    } catch (err) {
      // A reconnect since our login: log in on this connection and try once more.
      if (!isSwitchboardError(err) || err.code !== 'NOT_PERMITTED' || this.login === undefined) throw err
      this.loggedIn = undefined
      await this.ensureLogin()
      granted = await this.call('daemon.register', { entry, leaseMs: this.leaseMs })
    }
    // The daemon may grant a shorter lease than asked: heartbeats follow the shortest granted.
    const leaseMs =
      typeof granted?.leaseMs === 'number' && granted.leaseMs > 0 ? granted.leaseMs : this.leaseMs
    if (leaseMs < this.grantedMs) {
      this.grantedMs = leaseMs
      if (this.heartbeatTimer !== undefined) this.startHeartbeats()
    }
  }

  private startHeartbeats(): void {
    clearInterval(this.heartbeatTimer)
    this.heartbeatTimer = setInterval(() => this.heartbeat(), Math.max(10, Math.floor(this.grantedMs / 3)))
    this.heartbeatTimer.unref()
  }

  private heartbeat(): void {
    // Down: nothing to renew until the resync after the reconnect registers everything again.
    if (this.closed || this.resyncing !== undefined || this.link.state !== 'ready') return
    for (const instance of this.entries.keys()) {
      this.call('daemon.heartbeat', { instance }).catch((err: unknown) => {
        if (isSwitchboardError(err) && err.code === 'LEASE_UNKNOWN') this.startResync()
        else this.report(err as SwitchboardError)
      })
    }
  }

  // ---- resync after a reconnect --------------------------------------------------------------

  private startResync(): void {
    if (this.closed) return
    if (this.resyncing !== undefined) {
      this.resyncAgain = true
      return
    }
    this.resyncing = (async () => {
      do {
        this.resyncAgain = false
        try {
          await this.resync()
        } catch (err) {
          if (this.closed) return
          this.report(err as SwitchboardError)
          this.resyncAgain = true
          await new Promise((r) => setTimeout(r, Math.min(1000, this.leaseMs / 3)).unref())
        }
      } while (this.resyncAgain && !this.closed)
    })().finally(() => {
      this.resyncing = undefined
      this.tellNews()
    })
  }

  private async resync(): Promise<void> {
    await this.ensureLogin()
    for (const entry of [...this.entries.values()]) {
      if (this.entries.get(entry.instance) === entry) await this.register(entry)
    }
    if (!this.watching) return
    await this.viewSeeded
    this.subscribe()
    let entries: PeerEntry[] = []
    for (let i = 0; i < RELIST_TRIES; i++) {
      const before = this.changesHeard
      entries = await this.fetchList()
      if (this.changesHeard === before) break
    }
    const now = new Map(entries.map((e) => [e.instance, e]))
    for (const e of entries) this.apply('join', e)
    // Missing now is not gone yet: after a daemon restart the others register again one by one.
    // Those still missing one lease later have left (they would have registered by then).
    const missing = this.view.instances().filter((instance) => !now.has(instance))
    // This list is the word now: what an earlier resync awaited is either in it or missing again.
    this.awaited.clear()
    if (missing.length > 0) this.confirmLeavesLater(missing)
  }

  private confirmLeavesLater(instances: string[]): void {
    for (const instance of instances) this.awaited.add(instance)
    const timer = setTimeout(() => {
      this.leaveChecks.delete(timer)
      if (this.closed || this.link.state !== 'ready') return // the next resync looks again
      this.fetchList().then(
        (entries) => {
          const live = new Set(entries.map((e) => e.instance))
          for (const instance of instances) {
            this.awaited.delete(instance)
            const old = this.view.get(instance)
            if (old !== undefined && !live.has(instance)) this.apply('leave', old)
          }
          this.tellNews()
        },
        (err: SwitchboardError) => this.report(err),
      )
    }, this.leaseMs)
    timer.unref()
    this.leaveChecks.add(timer)
  }

  private async seedView(): Promise<void> {
    this.view.seed(await this.fetchList())
  }

  private async fetchList(): Promise<PeerEntry[]> {
    await this.ensureLogin()
    const raw = await this.call<unknown>('daemon.list', {})
    if (!Array.isArray(raw)) throw sbError('PROTOCOL_ERROR', 'daemon.list did not answer a list')
    const out: PeerEntry[] = []
    for (const item of raw) {
      const checked = checkEntry(item)
      if (checked.problem === undefined) out.push(checked.entry)
    }
    return out
  }

  // ---- changes -------------------------------------------------------------------------------

  private heard(change: DirectoryChange): void {
    this.changesHeard++
    if (typeof change !== 'object' || change === null) return
    const checked = checkEntry(change.entry)
    if (checked.problem !== undefined) return
    if (change.type === 'join' || change.type === 'change' || change.type === 'leave') {
      this.awaited.delete(checked.entry.instance)
      this.apply(change.type === 'leave' ? 'leave' : 'join', checked.entry)
      this.tellNews()
    }
  }

  private tellNews(): void {
    for (const waiter of [...this.newsWaiters]) waiter()
  }

  /** Applies a join or leave to what the watches know, and tells them if anything changed. */
  private apply(type: 'join' | 'leave', entry: PeerEntry): void {
    const out = this.view.apply(type, entry)
    if (out !== undefined) for (const w of this.watchers) w(out)
  }

  private assertOpen(): void {
    if (this.closed) throw sbError('SESSION_CLOSED', 'this directory is closed')
  }

  private report(err: SwitchboardError): void {
    if (this.onError !== undefined && isSwitchboardError(err)) this.onError(err)
  }
}

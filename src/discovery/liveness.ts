/**
 * Is a peer alive? Two checks of different cost. Its pid (one syscall, no I/O) is checked
 * freely. Its socket is probed only when a connection to it failed (`suspect`), and at most
 * once a second per entry: a pid can outlive a hung server or be reused by another process,
 * and a refused connection settles it, but probing every entry on every read would cost a
 * connection per peer per reader.
 */
import { errnoCode } from '../internal/errno.ts'

/** False only when no process has this pid (ESRCH); EPERM means it exists under another user. */
export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return errnoCode(err) !== 'ESRCH'
  }
}

/**
 * At most one liveness check per entry per interval, and the check in flight findable, so a
 * list() running meanwhile waits for its verdict instead of returning a suspect.
 */
export class ProbeGate {
  private readonly lastStart = new Map<string, number>()
  private readonly inFlight = new Map<string, Promise<boolean>>()

  constructor(
    private readonly now: () => number,
    private readonly minIntervalMs: number,
  ) {}

  /**
   * Runs `check` (resolving true when alive) unless one for `instance` started within the
   * interval; returns its verdict, or undefined when skipped. A check that throws counts as
   * alive: only a refusal proves a peer dead.
   */
  run(instance: string, check: () => Promise<boolean>): Promise<boolean> | undefined {
    const now = this.now()
    const last = this.lastStart.get(instance)
    if (last !== undefined && now - last < this.minIntervalMs) return undefined
    this.sweep(now)
    this.lastStart.set(instance, now)
    const verdict = check().then(
      (alive) => alive,
      () => true,
    )
    this.inFlight.set(instance, verdict)
    void verdict.then(() => {
      if (this.inFlight.get(instance) === verdict) this.inFlight.delete(instance)
    })
    return verdict
  }

  /** The check of `instance` in flight, if any. */
  pending(instance: string): Promise<boolean> | undefined {
    return this.inFlight.get(instance)
  }

  /** Drops start times past the interval, so the map holds only the last interval's checks. */
  private sweep(now: number): void {
    for (const [instance, at] of this.lastStart) {
      if (now - at >= this.minIntervalMs) this.lastStart.delete(instance)
    }
  }
}

/**
 * Instances found dead lately. A read that started before the verdict may still return the
 * entry; a tombstone keeps it from coming back (as a join) until its file is surely gone.
 */
export class Tombstones {
  private readonly at = new Map<string, number>()

  constructor(
    private readonly now: () => number,
    private readonly keepMs: number,
  ) {}

  add(instance: string): void {
    const now = this.now()
    for (const [i, t] of this.at) if (now - t >= this.keepMs) this.at.delete(i)
    this.at.set(instance, now)
  }

  has(instance: string): boolean {
    const t = this.at.get(instance)
    return t !== undefined && this.now() - t < this.keepMs
  }

  /** A publish under this instance brings it back to life (our own entry, rewritten). */
  delete(instance: string): void {
    this.at.delete(instance)
  }
}

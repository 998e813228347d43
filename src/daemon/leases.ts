/**
 * The daemon's directory: one lease per registered instance, owned by the connection that
 * registered it. A heartbeat renews a lease; a lease not renewed in time ends and its entry
 * leaves. Every join, change and leave goes to `onChange` (the daemon publishes them).
 *
 * Work per peer is constant: register, heartbeat and withdraw touch one map slot; expiry is one
 * coarse sweep for all leases (no timer per lease).
 */

import { canonicalJson } from '../discovery/entry.ts'
import type { DirectoryChange, PeerEntry } from '../discovery/types.ts'
import { sbError } from '../errors.ts'
import type { Principal } from './auth.ts'
import type { DaemonLimits } from './limits.ts'

/** One connection's side of the table: what it proved and what it holds. */
export interface LeaseOwner {
  principal: Principal | undefined
  readonly instances: Set<string>
}

interface Lease {
  entry: PeerEntry
  /** The canonical JSON of the entry: compares two versions, and measures its size. */
  json: string
  owner: LeaseOwner
  principal: Principal
  leaseMs: number
  expiresAt: number
}

function samePrincipal(a: Principal, b: Principal): boolean {
  return a.kind === b.kind && a.name === b.name && a.uid === b.uid
}

export class LeaseTable {
  private readonly leases = new Map<string, Lease>()
  /** Bytes of every entry's canonical JSON together. */
  private bytes = 0
  private readonly limits: DaemonLimits
  private readonly clock: () => number
  private readonly onChange: (change: DirectoryChange) => void

  constructor(limits: DaemonLimits, clock: () => number, onChange: (change: DirectoryChange) => void) {
    this.limits = limits
    this.clock = clock
    this.onChange = onChange
  }

  get size(): number {
    return this.leases.size
  }

  /**
   * Registers (or re-registers) `entry` for `owner`, who proved `principal`; returns the lease
   * granted (ms). An instance held by another connection passes to this one only when both
   * proved the same principal (a client back after a lost connection); else NOT_PERMITTED.
   */
  register(owner: LeaseOwner, principal: Principal, entry: PeerEntry, askedMs: number | undefined): number {
    const json = canonicalJson(entry)
    const size = Buffer.byteLength(json)
    if (size > this.limits.maxEntryBytes)
      throw sbError('DAEMON_LIMIT', `an entry may be at most ${this.limits.maxEntryBytes} bytes`)
    const leaseMs = this.grant(askedMs)
    const old = this.leases.get(entry.instance)
    const oldSize = old === undefined ? 0 : Buffer.byteLength(old.json)
    if (this.bytes - oldSize + size > this.limits.maxTotalEntryBytes)
      throw sbError(
        'DAEMON_LIMIT',
        `the daemon holds at most ${this.limits.maxTotalEntryBytes} bytes of entries`,
      )
    if (old === undefined) {
      if (this.leases.size >= this.limits.maxEntries)
        throw sbError('DAEMON_LIMIT', `the daemon holds at most ${this.limits.maxEntries} entries`)
      this.checkOwnerRoom(owner)
      const lease = { entry, json, owner, principal, leaseMs, expiresAt: this.clock() + leaseMs }
      this.leases.set(entry.instance, lease)
      this.bytes += size
      owner.instances.add(entry.instance)
      this.onChange({ type: 'join', entry })
      return leaseMs
    }
    if (!samePrincipal(old.principal, principal))
      throw sbError('NOT_PERMITTED', `instance ${entry.instance} is registered by someone else`)
    if (old.owner !== owner) {
      this.checkOwnerRoom(owner)
      old.owner.instances.delete(entry.instance)
      owner.instances.add(entry.instance)
      old.owner = owner
    }
    old.leaseMs = leaseMs
    old.expiresAt = this.clock() + leaseMs
    if (old.json !== json) {
      const before = old.entry
      old.entry = entry
      old.json = json
      this.bytes += size - oldSize
      this.onChange({ type: 'change', entry, before })
    }
    return leaseMs
  }

  /** Renews `owner`'s lease on `instance`; LEASE_UNKNOWN when it holds none (expired, or a restart). */
  heartbeat(owner: LeaseOwner, instance: string): void {
    const lease = this.leases.get(instance)
    if (lease === undefined || lease.owner !== owner)
      throw sbError('LEASE_UNKNOWN', `no lease on instance ${instance} for this connection`)
    lease.expiresAt = this.clock() + lease.leaseMs
  }

  /** Ends `owner`'s lease on `instance` now; idempotent (a lease it does not hold is left alone). */
  withdraw(owner: LeaseOwner, instance: string): void {
    const lease = this.leases.get(instance)
    if (lease === undefined || lease.owner !== owner) return
    this.end(instance, lease)
  }

  /** Ends every lease `owner` holds (its connection closed cleanly). */
  endOwner(owner: LeaseOwner): void {
    for (const instance of [...owner.instances]) this.withdraw(owner, instance)
  }

  /** Every live entry, oldest join first. */
  list(): PeerEntry[] {
    const out: PeerEntry[] = []
    for (const lease of this.leases.values()) out.push(lease.entry)
    return out.sort((a, b) => a.joinedAt - b.joinedAt || (a.instance < b.instance ? -1 : 1))
  }

  /** Ends every lease whose time is up. */
  sweep(): void {
    const now = this.clock()
    for (const [instance, lease] of this.leases) if (lease.expiresAt <= now) this.end(instance, lease)
  }

  /** The principal that registered `instance`, for the relay's policy checks. */
  principalOf(instance: string): Principal | undefined {
    return this.leases.get(instance)?.principal
  }

  /** The entry registered as `instance` (the relay's policy check needs its name). */
  entryOf(instance: string): PeerEntry | undefined {
    return this.leases.get(instance)?.entry
  }

  /** The connection's side that holds `instance`'s lease now (the relay reaches the peer through it). */
  ownerOf(instance: string): LeaseOwner | undefined {
    return this.leases.get(instance)?.owner
  }

  private end(instance: string, lease: Lease): void {
    this.leases.delete(instance)
    this.bytes -= Buffer.byteLength(lease.json)
    lease.owner.instances.delete(instance)
    this.onChange({ type: 'leave', entry: lease.entry })
  }

  private grant(askedMs: number | undefined): number {
    if (askedMs === undefined) return this.limits.defaultLeaseMs
    if (typeof askedMs !== 'number' || !Number.isFinite(askedMs))
      throw sbError('INVALID_ARGUMENT', 'leaseMs must be a number')
    return Math.min(this.limits.maxLeaseMs, Math.max(this.limits.minLeaseMs, Math.round(askedMs)))
  }

  private checkOwnerRoom(owner: LeaseOwner): void {
    if (owner.instances.size >= this.limits.maxEntriesPerConnection)
      throw sbError(
        'DAEMON_LIMIT',
        `one connection may register at most ${this.limits.maxEntriesPerConnection} entries`,
      )
  }
}

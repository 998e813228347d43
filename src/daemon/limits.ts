/**
 * The daemon's limits and lease times, with their defaults (docs/daemon.md lists them).
 */
import { sbError } from '../errors.ts'

export interface DaemonLimits {
  /** Entries one connection may hold registered at once. */
  maxEntriesPerConnection: number
  /** Entries the daemon holds in total. */
  maxEntries: number
  /** Largest entry accepted, as its canonical JSON, in bytes. */
  maxEntryBytes: number
  /** All entries together, as canonical JSON, in bytes: bounds the daemon's memory and one daemon.list answer. */
  maxTotalEntryBytes: number
  /** Shortest lease granted (a shorter ask is raised to it), ms. */
  minLeaseMs: number
  /** Longest lease granted (a longer ask is lowered to it), ms. */
  maxLeaseMs: number
  /** The lease granted when the client asks for none, ms. */
  defaultLeaseMs: number
}

export const defaultDaemonLimits: Readonly<DaemonLimits> = Object.freeze({
  maxEntriesPerConnection: 64,
  maxEntries: 65_536,
  maxEntryBytes: 16 * 1024,
  maxTotalEntryBytes: 32 * 1024 * 1024,
  minLeaseMs: 100,
  maxLeaseMs: 5 * 60_000,
  defaultLeaseMs: 15_000,
})

/** The limits with `given` over the defaults; INVALID_ARGUMENT for a value that is not a positive integer. */
export function resolveLimits(given: Partial<DaemonLimits> = {}): DaemonLimits {
  const out = { ...defaultDaemonLimits }
  for (const key of Object.keys(defaultDaemonLimits) as (keyof DaemonLimits)[]) {
    const v = given[key]
    if (v === undefined) continue
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
      throw sbError('INVALID_ARGUMENT', `daemon limit ${key} must be a positive integer`)
    out[key] = v
  }
  if (out.minLeaseMs > out.maxLeaseMs)
    throw sbError('INVALID_ARGUMENT', 'daemon limit minLeaseMs exceeds maxLeaseMs')
  out.defaultLeaseMs = Math.min(out.maxLeaseMs, Math.max(out.minLeaseMs, out.defaultLeaseMs))
  return out
}

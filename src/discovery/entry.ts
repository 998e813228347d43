/**
 * A directory entry as data: its limits, the check every entry passes before it is written and
 * after it is read (a file is written by another process, so nothing in it is trusted), and a
 * canonical encoding, which is also how two versions of an entry are compared.
 */
import { sbError } from '../errors.ts'
import type { PeerEntry } from './types.ts'

/** Limits on one entry, in UTF-16 code units (string `length`) unless said otherwise. */
export const entryLimits = {
  /** The name a peer joined under. */
  maxNameChars: 256,
  /** The instance id is also a file name: letters, digits, `_` and `-` only. */
  maxInstanceChars: 128,
  maxAddressChars: 4096,
  maxUserChars: 256,
  /** protocols, topics and publishes: entries per list, and characters per entry. */
  maxListEntries: 1024,
  maxListItemChars: 1024,
  maxPublicKeyChars: 1024,
  /** A file larger than this is skipped unread (the lists at their limits fit well inside). */
  maxFileBytes: 4 * 1024 * 1024,
} as const

const INSTANCE = /^[A-Za-z0-9_-]+$/
const MAX_PID = 2 ** 31 - 1

/** True when `instance` can be an entry's id (and so a file name in the directory). */
export function isValidInstance(instance: unknown): instance is string {
  return (
    typeof instance === 'string' &&
    instance.length > 0 &&
    instance.length <= entryLimits.maxInstanceChars &&
    INSTANCE.test(instance)
  )
}

type Checked = { readonly entry: PeerEntry; readonly problem?: undefined } | { readonly problem: string }

function isString(v: unknown, min: number, max: number): v is string {
  return typeof v === 'string' && v.length >= min && v.length <= max
}

function isList(v: unknown): v is string[] {
  return (
    Array.isArray(v) &&
    v.length <= entryLimits.maxListEntries &&
    v.every((item) => isString(item, 0, entryLimits.maxListItemChars))
  )
}

/**
 * Checks every field's type and size; on success returns a fresh entry holding only the known
 * fields, in one fixed order (unknown fields from a newer writer are dropped, not refused).
 */
export function checkEntry(value: unknown): Checked {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'not an object' }
  const v = value as Record<string, unknown>
  if (!isString(v['name'], 1, entryLimits.maxNameChars))
    return { problem: `name must be 1–${entryLimits.maxNameChars} characters` }
  if (!isValidInstance(v['instance']))
    return { problem: `instance must be 1–${entryLimits.maxInstanceChars} of [A-Za-z0-9_-]` }
  if (!isString(v['address'], 1, entryLimits.maxAddressChars))
    return { problem: `address must be 1–${entryLimits.maxAddressChars} characters` }
  const pid = v['pid']
  // process.kill() refuses a pid past int32 outright, so such an entry could never be found dead.
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0 || pid > MAX_PID)
    return { problem: `pid must be an integer from 1 to ${MAX_PID}` }
  if (!isString(v['user'], 0, entryLimits.maxUserChars))
    return { problem: `user must be at most ${entryLimits.maxUserChars} characters` }
  for (const list of ['protocols', 'topics', 'publishes'] as const) {
    if (!isList(v[list])) {
      return {
        problem: `${list} must be at most ${entryLimits.maxListEntries} strings of at most ${entryLimits.maxListItemChars} characters`,
      }
    }
  }
  const publicKey = v['publicKey']
  if (publicKey !== undefined && !isString(publicKey, 1, entryLimits.maxPublicKeyChars))
    return { problem: `publicKey must be 1–${entryLimits.maxPublicKeyChars} characters when present` }
  const joinedAt = v['joinedAt']
  if (typeof joinedAt !== 'number' || !Number.isFinite(joinedAt) || joinedAt < 0)
    return { problem: 'joinedAt must be a non-negative number' }
  return {
    entry: {
      name: v['name'],
      instance: v['instance'],
      address: v['address'],
      pid,
      user: v['user'],
      protocols: [...(v['protocols'] as string[])],
      topics: [...(v['topics'] as string[])],
      publishes: [...(v['publishes'] as string[])],
      ...(publicKey === undefined ? {} : { publicKey }),
      joinedAt,
    },
  }
}

/** The entry in `text` if it parses and passes checkEntry with the expected instance id. */
export function parseEntry(text: string, instance: string): PeerEntry | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  const checked = checkEntry(value)
  // A file whose content names another instance would make withdraw and pruning miss it.
  if (checked.problem !== undefined || checked.entry.instance !== instance) return undefined
  return checked.entry
}

/**
 * The canonical JSON of an entry that passed checkEntry: equal entries encode to equal
 * strings, so a watcher compares versions by their encodings.
 */
export function canonicalJson(entry: PeerEntry): string {
  return JSON.stringify(entry)
}

/** Checks an entry we are about to write (INVALID_ARGUMENT) and returns its file content. */
export function encodeEntry(entry: PeerEntry): string {
  const checked = checkEntry(entry)
  if (checked.problem !== undefined) throw sbError('INVALID_ARGUMENT', `directory entry: ${checked.problem}`)
  const text = canonicalJson(checked.entry)
  if (Buffer.byteLength(text) > entryLimits.maxFileBytes)
    throw sbError('INVALID_ARGUMENT', `directory entry: more than ${entryLimits.maxFileBytes} bytes of JSON`)
  return text
}

/**
 * Account passwords as the accounts file stores them: `scrypt$N$r$p$salt$hash`, salt (16 bytes)
 * and hash (32 bytes) in base64url, made with node:crypto's scrypt. `hashPassword` is what
 * `switchboard daemon hash-password` prints; `verifyPassword` compares in constant time.
 *
 * The parameters travel in the string so that they can be raised later without invalidating old
 * hashes; they are bounded on read, so a hostile or mistyped file cannot make one check cost
 * gigabytes.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto'
import { sbError } from '../../errors.ts'

/** Parameters of new hashes: about 50–100 ms and 32 MiB per check. */
export const PASSWORD_SCRYPT = Object.freeze({ N: 2 ** 15, r: 8, p: 1 })

const SALT_BYTES = 16
const HASH_BYTES = 32
/** Upper bounds accepted when reading a hash: N ≤ 2^20, r ≤ 32, p ≤ 16, memory ≤ 1 GiB. */
const MAX = { N: 2 ** 20, r: 32, p: 16, mem: 1024 * 1024 * 1024 }

export interface PasswordHash {
  readonly N: number
  readonly r: number
  readonly p: number
  readonly salt: Buffer
  readonly hash: Buffer
}

function derive(
  password: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
  length: number,
): Promise<Buffer> {
  const options: ScryptOptions = { N, r, p, maxmem: 128 * N * r * 2 + 1024 * 1024 }
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, options, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

/** A new `scrypt$N$r$p$salt$hash` for `password`. */
export async function hashPassword(password: string): Promise<string> {
  if (typeof password !== 'string' || password.length === 0) {
    throw sbError('INVALID_ARGUMENT', 'a password must be a non-empty string')
  }
  const { N, r, p } = PASSWORD_SCRYPT
  const salt = randomBytes(SALT_BYTES)
  const hash = await derive(password, salt, N, r, p, HASH_BYTES)
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${hash.toString('base64url')}`
}

/** Parses a stored hash; INVALID_ARGUMENT (naming `where`) when it is not one. */
export function parsePasswordHash(text: string, where = 'password hash'): PasswordHash {
  const parts = typeof text === 'string' ? text.split('$') : []
  const [scheme, n, r, p, salt, hash] = parts
  const bad = (why: string): never => {
    throw sbError('INVALID_ARGUMENT', `${where}: ${why} (expected scrypt$N$r$p$salt$hash)`)
  }
  if (parts.length !== 6 || scheme !== 'scrypt') bad('not a scrypt hash')
  const [N, R, P] = [n, r, p].map((v) => (/^\d{1,8}$/.test(v ?? '') ? Number(v) : Number.NaN)) as [
    number,
    number,
    number,
  ]
  if (!(N > 1 && N <= MAX.N && (N & (N - 1)) === 0)) bad('N must be a power of two up to 2^20')
  if (!(R >= 1 && R <= MAX.r) || !(P >= 1 && P <= MAX.p)) bad('r or p out of range')
  if (128 * N * R > MAX.mem) bad('N·r needs more than 1 GiB')
  const saltBytes = Buffer.from(salt ?? '', 'base64url')
  const hashBytes = Buffer.from(hash ?? '', 'base64url')
  if (saltBytes.length < 8 || hashBytes.length < 16 || hashBytes.length > 64) bad('salt or hash too short')
  return { N, r: R, p: P, salt: saltBytes, hash: hashBytes }
}

/** True when `password` matches `stored` (compared in constant time). */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  if (typeof password !== 'string') return false
  const derived = await derive(password, stored.salt, stored.N, stored.r, stored.p, stored.hash.length)
  return timingSafeEqual(derived, stored.hash)
}

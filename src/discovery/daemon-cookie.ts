/**
 * The client half of the daemon's cookie challenge (as D-Bus's DBUS_COOKIE_SHA1), and the cookie
 * file format both halves share. The daemon keeps, for each local OS user, a file `cookies` in
 * `<usersDir>/<uid>`, a directory that it made 0700 and owned by that uid: only that user (and
 * root) can read it. A client proves it runs as `uid` by reading the cookie the daemon names and
 * hashing it with the daemon's challenge and a challenge of its own; a client that claims
 * another uid cannot open that user's directory, so it cannot answer.
 *
 * The file holds one cookie per line, `<id> <expires, ms since the epoch> <cookie, 64 hex>`.
 * The proof is lowercase hex SHA-256 over the ASCII text `challenge:clientChallenge:cookie`.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { sbError } from '../errors.ts'
import { errnoCode } from '../internal/errno.ts'

/** The file name of a user's cookies inside `<usersDir>/<uid>`. */
export const COOKIE_FILE = 'cookies'

/** Random bytes in a cookie, and in each challenge. */
export const COOKIE_BYTES = 32

/** One cookie as the file holds it. */
export interface Cookie {
  /** A short id the daemon names in its challenge (decimal digits). */
  readonly id: string
  /** When the daemon stops accepting it, ms since the epoch. */
  readonly expiresAt: number
  /** The secret, 64 lowercase hex digits. */
  readonly value: string
}

const ID = /^[0-9]{1,16}$/
const HEX = /^[0-9a-f]+$/

/** The cookie file's text. */
export function formatCookies(cookies: readonly Cookie[]): string {
  return cookies.map((c) => `${c.id} ${c.expiresAt} ${c.value}\n`).join('')
}

/** Parses a cookie file; malformed lines are skipped (a client only needs the one it is asked for). */
export function parseCookies(text: string): Cookie[] {
  const cookies: Cookie[] = []
  for (const line of text.split('\n')) {
    const [id, expires, value, extra] = line.trim().split(' ')
    if (id === undefined || expires === undefined || value === undefined || extra !== undefined) continue
    const expiresAt = Number(expires)
    if (!ID.test(id) || !Number.isSafeInteger(expiresAt)) continue
    if (value.length !== COOKIE_BYTES * 2 || !HEX.test(value)) continue
    cookies.push({ id, expiresAt, value })
  }
  return cookies
}

/** The proof of a cookie: lowercase hex SHA-256 of `challenge:clientChallenge:cookie`. */
export function cookieProof(challenge: string, clientChallenge: string, cookie: string): string {
  return createHash('sha256').update(`${challenge}:${clientChallenge}:${cookie}`, 'ascii').digest('hex')
}

/** True for a challenge string the protocol accepts: 16–128 lowercase hex digits. */
export function isChallenge(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 16 && value.length <= 128 && HEX.test(value)
}

/**
 * Answers the daemon's challenge for `uid`: reads cookie `cookieId` from `<usersDir>/<uid>` and
 * returns a fresh client challenge with the proof. AUTH_FAILED when the cookie cannot be read
 * (EACCES: this process is not that user) or is not there (expired, or the daemon restarted).
 */
export async function proveLocalUser(
  usersDir: string,
  uid: number,
  cookieId: string,
  challenge: string,
): Promise<{ clientChallenge: string; proof: string }> {
  if (!Number.isSafeInteger(uid) || uid < 0) throw sbError('INVALID_ARGUMENT', `uid must be an integer ≥ 0`)
  if (!isChallenge(challenge)) throw sbError('INVALID_ARGUMENT', 'the challenge must be 16–128 hex digits')
  const file = join(usersDir, String(uid), COOKIE_FILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const code = errnoCode(err)
    const why =
      code === 'EACCES' || code === 'EPERM' ? 'this process cannot read it: it is not that user' : code
    throw sbError('AUTH_FAILED', `cannot read the daemon's cookie for uid ${uid} (${why})`, { cause: err })
  }
  const cookie = parseCookies(text).find((c) => c.id === cookieId)
  if (cookie === undefined) {
    throw sbError(
      'AUTH_FAILED',
      `the daemon's cookie ${cookieId} for uid ${uid} is gone; ask for a new challenge`,
    )
  }
  const clientChallenge = randomBytes(COOKIE_BYTES).toString('hex')
  return { clientChallenge, proof: cookieProof(challenge, clientChallenge, cookie.value) }
}

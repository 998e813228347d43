/**
 * The daemon's cookies, one small set per local uid, kept in memory and written for the client to
 * read into `<usersDir>/<uid>/cookies` (0600, owned by that uid). As D-Bus does, a cookie is
 * reused for a while (`rotateMs`) so that logins do not each rewrite the file, then replaced by a
 * new one; each is accepted until it expires (`ttlMs`), so a client that read the previous one a
 * moment ago still succeeds. Expired cookies leave the file at the next write.
 *
 * The daemon never reads the file back: what it accepts is what it holds in memory, so a user
 * who edits their own file only breaks their own logins. The file is written to a fresh name
 * (O_EXCL, O_NOFOLLOW: a planted symlink is not followed) and renamed over the old one.
 */
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { open, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { COOKIE_BYTES, COOKIE_FILE, type Cookie, formatCookies } from '../../discovery/daemon-cookie.ts'
import { sbError } from '../../errors.ts'
import { ensureUserDir } from './user-dir.ts'

export interface CookieJarOptions {
  readonly usersDir: string
  /** How long a cookie is accepted, ms. Default 300,000 (5 min). */
  readonly ttlMs?: number
  /** A cookie younger than this is reused for a new challenge, ms. Default 60,000. */
  readonly rotateMs?: number
  /** Most uids whose cookies are kept in memory; the least recently used go first. Default 4,096. */
  readonly maxUsers?: number
  /** Wall clock, ms (cookie expiry is written in the file). Default Date.now. */
  readonly now?: () => number
}

const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW

export class CookieJar {
  readonly usersDir: string
  readonly #ttlMs: number
  readonly #rotateMs: number
  readonly #maxUsers: number
  readonly #now: () => number
  readonly #byUid = new Map<number, Cookie[]>()
  /** One write at a time per uid, so two logins never interleave their files. */
  readonly #writing = new Map<number, Promise<unknown>>()
  #nextId = 1

  constructor(options: CookieJarOptions) {
    this.usersDir = options.usersDir
    this.#ttlMs = options.ttlMs ?? 300_000
    this.#rotateMs = Math.min(options.rotateMs ?? 60_000, this.#ttlMs)
    this.#maxUsers = options.maxUsers ?? 4_096
    this.#now = options.now ?? Date.now
    // Ids start from the clock so that a restarted daemon does not reuse the last run's ids.
    this.#nextId = this.#now() % 1e9
  }

  /** A cookie of `uid` valid for at least `ttlMs - rotateMs`: the newest, or a new one written to disk. */
  current(uid: number, gid = -1): Promise<Cookie> {
    const previous = this.#writing.get(uid) ?? Promise.resolve()
    const next = previous.catch(() => {}).then(() => this.#current(uid, gid))
    this.#writing.set(uid, next)
    const clear = (): void => {
      if (this.#writing.get(uid) === next) this.#writing.delete(uid)
    }
    next.then(clear, clear)
    return next
  }

  /** The unexpired cookie `id` of `uid`, if the daemon holds it. */
  lookup(uid: number, id: string): Cookie | undefined {
    const now = this.#now()
    return this.#byUid.get(uid)?.find((c) => c.id === id && c.expiresAt > now)
  }

  async #current(uid: number, gid: number): Promise<Cookie> {
    const now = this.#now()
    const live = (this.#byUid.get(uid) ?? []).filter((c) => c.expiresAt > now)
    const newest = live.at(-1)
    if (newest !== undefined && newest.expiresAt - this.#ttlMs + this.#rotateMs > now) {
      this.#remember(uid, live)
      return newest
    }
    const cookie: Cookie = {
      id: String(this.#nextId++),
      expiresAt: now + this.#ttlMs,
      value: randomBytes(COOKIE_BYTES).toString('hex'),
    }
    const dir = await ensureUserDir(this.usersDir, uid)
    await writeCookieFile(dir, uid, gid, [...live, cookie])
    this.#remember(uid, [...live, cookie])
    return cookie
  }

  #remember(uid: number, cookies: Cookie[]): void {
    this.#byUid.delete(uid) // re-inserted last: Map order is the LRU order
    this.#byUid.set(uid, cookies)
    for (const old of this.#byUid.keys()) {
      if (this.#byUid.size <= this.#maxUsers) break
      this.#byUid.delete(old)
    }
  }
}

/** Writes `cookies` as `<dir>/cookies`, 0600 and owned by uid, replacing the old file at once. */
async function writeCookieFile(
  dir: string,
  uid: number,
  gid: number,
  cookies: readonly Cookie[],
): Promise<void> {
  const temp = join(dir, `.${COOKIE_FILE}-${randomBytes(8).toString('hex')}`)
  try {
    const file = await open(temp, WRITE_FLAGS, 0o600)
    try {
      await file.chown(uid, gid)
      await file.chmod(0o600)
      await file.writeFile(formatCookies(cookies))
    } finally {
      await file.close()
    }
    await rename(temp, join(dir, COOKIE_FILE))
  } catch (err) {
    await unlink(temp).catch(() => {})
    throw sbError('AUTH_FAILED', `cannot write the cookie file of uid ${uid}`, {
      cause: err,
      details: { uid },
    })
  }
}

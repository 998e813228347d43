/**
 * The cookie challenge for local OS users (as D-Bus's DBUS_COOKIE_SHA1). The daemon cannot see
 * the uid of a unix-socket peer without native code, so the client claims one and proves it:
 *
 *   client → begin(uid)                         daemon: uid must exist; writes a cookie to
 *                                               <usersDir>/<uid>/cookies (0700 dir, owned by uid)
 *   daemon → { cookieId, challenge }            a one-time challenge, remembered for challengeTtlMs
 *   client reads cookie cookieId (only that uid can), picks clientChallenge
 *   client → finish(uid, cookieId, challenge, clientChallenge, proof)
 *                                               proof = hex SHA-256(challenge:clientChallenge:cookie)
 *   daemon → Principal { kind: 'os-user', name, uid }   or AUTH_FAILED
 *
 * A challenge is used once, pass or fail, and only for the uid and cookie it was issued with; the
 * proof is compared in constant time. Outstanding challenges are capped (the oldest go first).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { COOKIE_BYTES, cookieProof, isChallenge } from '../../discovery/daemon-cookie.ts'
import { sbError } from '../../errors.ts'
import type { Principal } from '../auth.ts'
import type { CookieJar } from './cookie-jar.ts'
import type { UserLookup } from './os-users.ts'

export interface LocalChallengeOptions {
  readonly jar: CookieJar
  readonly lookupUser: UserLookup
  /** How long a challenge may be answered, ms. Default 30,000. */
  readonly challengeTtlMs?: number
  /** Most challenges outstanding at once. Default 4,096. */
  readonly maxPending?: number
  /** Monotonic clock, ms. Default performance.now. */
  readonly now?: () => number
}

interface Pending {
  readonly uid: number
  readonly cookieId: string
  readonly expiresAt: number
}

export class LocalChallenges {
  readonly #jar: CookieJar
  readonly #lookupUser: UserLookup
  readonly #ttlMs: number
  readonly #maxPending: number
  readonly #now: () => number
  readonly #pending = new Map<string, Pending>()

  constructor(options: LocalChallengeOptions) {
    this.#jar = options.jar
    this.#lookupUser = options.lookupUser
    this.#ttlMs = options.challengeTtlMs ?? 30_000
    this.#maxPending = options.maxPending ?? 4_096
    this.#now = options.now ?? (() => performance.now())
  }

  /** Outstanding challenges (for stats and tests). */
  get pending(): number {
    return this.#pending.size
  }

  async begin(uid: number): Promise<{ cookieId: string; challenge: string }> {
    const user = await this.#user(uid)
    const cookie = await this.#jar.current(uid, user.gid)
    const challenge = randomBytes(COOKIE_BYTES).toString('hex')
    this.#pending.set(challenge, { uid, cookieId: cookie.id, expiresAt: this.#now() + this.#ttlMs })
    for (const oldest of this.#pending.keys()) {
      if (this.#pending.size <= this.#maxPending) break
      this.#pending.delete(oldest)
    }
    return { cookieId: cookie.id, challenge }
  }

  async finish(
    uid: number,
    cookieId: string,
    challenge: string,
    clientChallenge: string,
    proof: string,
  ): Promise<Principal> {
    const issued = typeof challenge === 'string' ? this.#pending.get(challenge) : undefined
    if (issued !== undefined) this.#pending.delete(challenge) // one try per challenge
    if (issued === undefined || issued.expiresAt <= this.#now()) {
      throw sbError('AUTH_FAILED', 'unknown or expired challenge; ask for a new one')
    }
    if (issued.uid !== uid || issued.cookieId !== cookieId) {
      throw sbError('AUTH_FAILED', 'the challenge was issued for another uid or cookie')
    }
    if (!isChallenge(clientChallenge))
      throw sbError('AUTH_FAILED', 'the client challenge must be 16–128 hex digits')
    const cookie = this.#jar.lookup(uid, cookieId)
    if (cookie === undefined) throw sbError('AUTH_FAILED', 'the cookie expired; ask for a new challenge')
    const expected = Buffer.from(cookieProof(challenge, clientChallenge, cookie.value), 'ascii')
    const given = Buffer.from(typeof proof === 'string' ? proof : '', 'ascii')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw sbError('AUTH_FAILED', `the cookie proof for uid ${uid} is wrong`, { details: { uid } })
    }
    const user = await this.#user(uid)
    return { kind: 'os-user', name: user.name, uid }
  }

  async #user(uid: number) {
    if (!Number.isSafeInteger(uid) || uid < 0) throw sbError('AUTH_FAILED', 'uid must be an integer ≥ 0')
    const user = await this.#lookupUser(uid)
    if (user === undefined) throw sbError('AUTH_FAILED', `no OS user has uid ${uid}`, { details: { uid } })
    return user
  }
}

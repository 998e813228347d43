/**
 * The daemon's accounts, for clients that are not local OS users (or do not want to be one):
 * each has a scrypt-hashed password, public keys (base64url X25519, proven by the handshake), or
 * both. From the `users` object of the auth config (docs/daemon.md):
 *
 *   "users": {
 *     "billing": { "password": "scrypt$32768$8$1$<salt>$<hash>" },
 *     "ci":      { "publicKeys": ["<base64url X25519>"] }
 *   }
 *
 * A wrong password and an unknown user look the same from outside: both cost one scrypt, both are
 * AUTH_FAILED with the same message, and both count against the source's back-off.
 */
import { sbError } from '../../errors.ts'
import type { Principal } from '../auth.ts'
import { type BackoffOptions, LoginBackoff } from './backoff.ts'
import { type PasswordHash, parsePasswordHash, verifyPassword } from './password-hash.ts'

/** One account as the config file gives it. */
export interface AccountConfig {
  readonly password?: string
  readonly publicKeys?: readonly string[]
}

export type AccountsConfig = Readonly<Record<string, AccountConfig>>

interface Account {
  readonly name: string
  readonly password: PasswordHash | undefined
}

/** A valid account or OS user name: what the policy's principal keys can spell. */
const NAME = /^[A-Za-z0-9._@-]{1,64}$/

/** Hashed once at start: an unknown user's check costs what a known user's does. */
const DUMMY = parsePasswordHash(
  'scrypt$32768$8$1$c3dpdGNoYm9hcmQtZHVtbXk$dGhpcyBpcyBub3QgYW55IHJlYWwgcGFzc3dvcmQgaGFzaA',
)

function canonicalKey(key: string, where: string): string {
  const bytes = typeof key === 'string' ? Buffer.from(key.trim(), 'base64url') : Buffer.alloc(0)
  if (bytes.length !== 32)
    throw sbError('INVALID_ARGUMENT', `${where}: a public key is 32 bytes of base64url`)
  return bytes.toString('base64url')
}

export class Accounts {
  readonly #byName = new Map<string, Account>()
  readonly #byKey = new Map<string, string>()
  readonly #backoff: LoginBackoff

  constructor(config: AccountsConfig = {}, backoff: BackoffOptions | LoginBackoff = {}) {
    this.#backoff = backoff instanceof LoginBackoff ? backoff : new LoginBackoff(backoff)
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw sbError('INVALID_ARGUMENT', 'users must be an object of name → { password, publicKeys }')
    }
    for (const [name, entry] of Object.entries(config)) {
      const where = `users.${name}`
      if (!NAME.test(name))
        throw sbError('INVALID_ARGUMENT', `${where}: names are 1–64 of A-Z a-z 0-9 . _ @ -`)
      if (typeof entry !== 'object' || entry === null)
        throw sbError('INVALID_ARGUMENT', `${where}: not an object`)
      const password = entry.password === undefined ? undefined : parsePasswordHash(entry.password, where)
      const keys = entry.publicKeys ?? []
      if (!Array.isArray(keys)) throw sbError('INVALID_ARGUMENT', `${where}.publicKeys: not a list`)
      if (password === undefined && keys.length === 0) {
        throw sbError('INVALID_ARGUMENT', `${where}: needs a password or publicKeys`)
      }
      for (const key of keys) {
        const canonical = canonicalKey(key, `${where}.publicKeys`)
        const other = this.#byKey.get(canonical)
        if (other !== undefined) throw sbError('INVALID_ARGUMENT', `${where}: a public key of ${other} too`)
        this.#byKey.set(canonical, name)
      }
      this.#byName.set(name, { name, password })
    }
  }

  /** The back-off shared by every password check. */
  get backoff(): LoginBackoff {
    return this.#backoff
  }

  /** Checks `user`'s password; slowed per `source` after failures. AUTH_FAILED when wrong. */
  async password(user: string, password: string, source: string): Promise<Principal> {
    const account = typeof user === 'string' ? this.#byName.get(user) : undefined
    const ok = await this.#backoff.attempt(String(source), async () => {
      const stored = account?.password ?? DUMMY
      const match = await verifyPassword(typeof password === 'string' ? password : '', stored)
      return match && account?.password !== undefined
    })
    if (!ok || account === undefined) throw sbError('AUTH_FAILED', 'wrong user name or password')
    return { kind: 'account', name: account.name }
  }

  /** The account holding `publicKey` (base64url), if any. */
  byPublicKey(publicKey: string): Principal | undefined {
    let canonical: string
    try {
      canonical = canonicalKey(publicKey, 'publicKey')
    } catch {
      return undefined
    }
    const name = this.#byKey.get(canonical)
    return name === undefined ? undefined : { kind: 'account', name }
  }
}

/**
 * createDaemonAuth: the DaemonAuth the daemon server uses, composed of the cookie challenge for
 * local OS users (LocalChallenges over a CookieJar), the accounts (passwords with back-off,
 * public keys) and the policy. `readAuthConfig` reads the JSON file that holds `users` and
 * `policy` (docs/daemon.md, Authentication).
 */
import { readFile } from 'node:fs/promises'
import { isAbsolute } from 'node:path'
import { sbError } from '../../errors.ts'
import type { DaemonAuth } from '../auth.ts'
import { Accounts, type AccountsConfig } from './accounts.ts'
import type { BackoffOptions } from './backoff.ts'
import { CookieJar } from './cookie-jar.ts'
import { LocalChallenges } from './local-challenge.ts'
import { lookupOsUser, type UserLookup } from './os-users.ts'
import { Policy, type PolicyConfig } from './policy.ts'
import { DEFAULT_USERS_DIR, ensureUsersDir } from './user-dir.ts'

/** The auth part of the daemon's configuration file. */
export interface AuthFileConfig {
  readonly users?: AccountsConfig
  readonly policy?: PolicyConfig
}

export interface DaemonAuthConfig extends AuthFileConfig {
  /** Where the per-uid cookie directories live. Default /run/switchboard/users. */
  readonly usersDir?: string
  /** Cookie lifetime and rotation, ms. Defaults 300,000 and 60,000. */
  readonly cookieTtlMs?: number
  readonly cookieRotateMs?: number
  /** How long a local challenge may be answered, ms. Default 30,000. */
  readonly challengeTtlMs?: number
  /** Password back-off per source (and its clock and sleep, for tests). */
  readonly backoff?: BackoffOptions
  /** uid → OS user. Default: getent passwd, else /etc/passwd. */
  readonly lookupUser?: UserLookup
  /** Wall clock for cookie expiry, ms. Default Date.now. */
  readonly now?: () => number
}

/** Parses the auth part of a config object (unknown keys are left to the daemon's own config). */
export function parseAuthConfig(value: unknown, where = 'auth config'): AuthFileConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw sbError('INVALID_ARGUMENT', `${where}: not a JSON object`)
  }
  const o = value as Record<string, unknown>
  // Construct both once to validate: a bad hash or pattern fails at load, naming its place.
  new Accounts((o['users'] ?? {}) as AccountsConfig)
  new Policy((o['policy'] ?? {}) as PolicyConfig)
  return {
    ...(o['users'] === undefined ? {} : { users: o['users'] as AccountsConfig }),
    ...(o['policy'] === undefined ? {} : { policy: o['policy'] as PolicyConfig }),
  }
}

/**
 * The `auth` section of the daemon's config file: `users`, `policy` and `usersDir`, nothing else
 * (a misspelt key would silently weaken the policy). INVALID_ARGUMENT naming the bad part.
 */
export function parseAuthSection(value: unknown, where: string): AuthFileConfig & { usersDir?: string } {
  const checked = parseAuthConfig(value, where)
  const o = value as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (key !== 'users' && key !== 'policy' && key !== 'usersDir')
      throw sbError('INVALID_ARGUMENT', `${where}: unknown setting '${key}' (users, policy, usersDir)`)
  }
  const usersDir = o['usersDir']
  if (usersDir === undefined) return checked
  if (typeof usersDir !== 'string' || !isAbsolute(usersDir))
    throw sbError('INVALID_ARGUMENT', `${where}: usersDir must be an absolute path`)
  return { ...checked, usersDir }
}

/** Reads and checks a JSON file holding `users` and `policy`. */
export async function readAuthConfig(file: string): Promise<AuthFileConfig> {
  let value: unknown
  try {
    value = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw sbError('INVALID_ARGUMENT', `cannot read the auth config ${file}`, { cause: err })
  }
  return parseAuthConfig(value, file)
}

/**
 * The DaemonAuth for `config`. Creates and checks `usersDir` first (INVALID_ARGUMENT when
 * others could write it), so a misplaced directory stops the daemon at start, not at a login.
 */
export async function createDaemonAuth(config: DaemonAuthConfig = {}): Promise<DaemonAuth> {
  const usersDir = config.usersDir ?? DEFAULT_USERS_DIR
  await ensureUsersDir(usersDir)
  const jar = new CookieJar({
    usersDir,
    ...(config.cookieTtlMs === undefined ? {} : { ttlMs: config.cookieTtlMs }),
    ...(config.cookieRotateMs === undefined ? {} : { rotateMs: config.cookieRotateMs }),
    ...(config.now === undefined ? {} : { now: config.now }),
  })
  const local = new LocalChallenges({
    jar,
    lookupUser: config.lookupUser ?? lookupOsUser,
    ...(config.challengeTtlMs === undefined ? {} : { challengeTtlMs: config.challengeTtlMs }),
  })
  const accounts = new Accounts(config.users ?? {}, config.backoff ?? {})
  const policy = new Policy(config.policy ?? {})
  return {
    beginLocal: (uid) => local.begin(uid),
    finishLocal: (uid, cookieId, challenge, clientChallenge, proof) =>
      local.finish(uid, cookieId, challenge, clientChallenge, proof),
    password: (user, password, source) => accounts.password(user, password, source),
    byPublicKey: (publicKey) => accounts.byPublicKey(publicKey),
    mayRegister: (p, name) => policy.mayRegister(p, name),
    mayReach: (from, to, name) => policy.mayReach(from, to, name),
  }
}

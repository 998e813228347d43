/**
 * How a client proves itself to the daemon on each new connection, before it registers, lists or
 * watches (a daemon with auth refuses those with NOT_PERMITTED until then).
 *
 * - cookieLogin: the local cookie challenge (daemon-cookie.ts). The client claims its own uid
 *   (process.getuid()), the daemon writes a cookie into that user's 0700 directory
 *   `<usersDir>/<uid>/cookies` and answers its id and a challenge; `proveLocalUser` reads it
 *   (only that user can) and answers. The users directory is `users` beside the daemon's socket
 *   (`/run/switchboard/users` for the default socket), where the daemon's auth writes by default.
 *   A daemon with no auth does not offer the auth methods: the client then goes on unproven.
 * - passwordLogin: an account's password, sent inside the session that has already authenticated
 *   the daemon by its pinned key.
 */
import { join as joinPath } from 'node:path'
import { isSwitchboardError, sbError } from '../errors.ts'
import { proveLocalUser } from './daemon-cookie.ts'
import { DAEMON_USERS_DIR } from './daemon-names.ts'

/** Calls one daemon method on the connection being set up. */
export type DaemonCall = (method: string, data: unknown) => Promise<unknown>

/** Runs once per new connection to the daemon, before anything is registered on it. */
export type DaemonLogin = (call: DaemonCall) => Promise<void>

/** Where a daemon whose socket is in `socketDir` keeps the users' cookie directories by default. */
export function daemonUsersDir(socketDir: string): string {
  return joinPath(socketDir, DAEMON_USERS_DIR)
}

export interface CookieLoginOptions {
  /** The uid to prove; default this process's (process.getuid()). */
  readonly uid?: number
  /** The daemon's users directory, when its config moved it; default `users` beside the socket. */
  readonly usersDir?: string
}

/** The local cookie login for a daemon whose socket is in `socketDir`. */
export function cookieLogin(socketDir: string, options: CookieLoginOptions = {}): DaemonLogin {
  const uid = options.uid ?? process.getuid?.()
  const usersDir = options.usersDir ?? daemonUsersDir(socketDir)
  return async (call) => {
    if (uid === undefined) return // no OS users to prove (Windows): an open daemon needs none
    let begun: unknown
    try {
      begun = await call('daemon.auth.local', { uid })
    } catch (err) {
      if (isSwitchboardError(err) && err.code === 'METHOD_NOT_FOUND') return // an open daemon
      throw err
    }
    const { cookieId, challenge } = (begun ?? {}) as { cookieId?: unknown; challenge?: unknown }
    if (typeof cookieId !== 'string' || typeof challenge !== 'string')
      throw sbError('AUTH_FAILED', 'the daemon sent a malformed cookie challenge')
    const answer = await proveLocalUser(usersDir, uid, cookieId, challenge)
    await call('daemon.auth.prove', { cookieId, challenge, ...answer })
  }
}

/** Logs in with an account's password (inside the session that authenticated the daemon). */
export function passwordLogin(user: string, password: string): DaemonLogin {
  if (typeof user !== 'string' || user.length === 0 || typeof password !== 'string' || password.length === 0)
    throw sbError('INVALID_ARGUMENT', 'passwordLogin needs a user name and a non-empty password')
  return async (call) => {
    await call('daemon.auth.password', { user, password })
  }
}

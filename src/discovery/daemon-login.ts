/**
 * How a client proves itself to the daemon on each new connection, before it registers.
 *
 * The local cookie challenge (as D-Bus's DBUS_COOKIE_SHA1): the client claims its uid, the daemon
 * writes a random cookie into that user's own 0700 directory (`<socket dir>/users/<uid>/cookies`,
 * lines of `<cookieId> <created ms> <cookie hex>`) and answers with the cookie's id and a
 * challenge; the client, which alone can read that directory, answers with its own challenge and
 * sha256-hex(`challenge:clientChallenge:cookie`). A daemon with no auth configured does not offer
 * the auth methods: the client then goes on unproven.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join as joinPath } from 'node:path'
import { isSwitchboardError, sbError } from '../errors.ts'
import { DAEMON_COOKIE_FILE, DAEMON_USERS_DIR } from './daemon-names.ts'

/** Calls one daemon method on the connection being set up. */
export type DaemonCall = (method: string, data: unknown) => Promise<unknown>

/** Runs once per new connection to the daemon, before anything is registered on it. */
export type DaemonLogin = (call: DaemonCall) => Promise<void>

/** The proof of the cookie challenge: sha256 hex of `challenge:clientChallenge:cookie`. */
export function cookieProof(challenge: string, clientChallenge: string, cookie: string): string {
  return createHash('sha256').update(`${challenge}:${clientChallenge}:${cookie}`).digest('hex')
}

/** The local cookie login for a daemon whose socket is in `socketDir`. */
export function cookieLogin(socketDir: string, uid = process.getuid?.() ?? 0): DaemonLogin {
  return async (call) => {
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
    const file = joinPath(socketDir, DAEMON_USERS_DIR, String(uid), DAEMON_COOKIE_FILE)
    let cookie: string | undefined
    try {
      for (const line of (await readFile(file, 'utf8')).split('\n')) {
        const [id, , value] = line.trim().split(/\s+/)
        if (id === cookieId && value !== undefined) cookie = value
      }
    } catch (err) {
      throw sbError('AUTH_FAILED', `cannot read the daemon's cookie file ${file}`, { cause: err })
    }
    if (cookie === undefined) throw sbError('AUTH_FAILED', `no cookie ${cookieId} in ${file}`)
    const clientChallenge = randomBytes(16).toString('hex')
    await call('daemon.auth.prove', {
      cookieId,
      challenge,
      clientChallenge,
      proof: cookieProof(challenge, clientChallenge, cookie),
    })
  }
}

/** Logs in with an account's password (inside the session that authenticated the daemon). */
export function passwordLogin(user: string, password: string): DaemonLogin {
  return async (call) => {
    await call('daemon.auth.password', { user, password })
  }
}

/**
 * The directories of the cookie challenge. `<usersDir>` belongs to the daemon; in it, the daemon
 * makes one directory per local uid, `<usersDir>/<uid>`, mode 0700 and owned by that uid, so that
 * only that user (and root) can read the cookie inside. The daemon picks every path itself from
 * the uid (never a path a client names) and checks each with lstat before use: a symlink, a
 * wrong owner or any group/other bit is refused, so a user cannot point the daemon elsewhere or
 * let others read their cookie.
 *
 * To make a directory for another uid the daemon must be able to chown, which in practice means
 * it runs as root (docs/daemon.md); an unprivileged daemon can serve only its own user.
 */
import type { Stats } from 'node:fs'
import { chmod, chown, lstat, mkdir, rmdir } from 'node:fs/promises'
import { dirname, isAbsolute, join } from 'node:path'
import { DAEMON_USERS_DIR, DEFAULT_DAEMON_SOCKET } from '../../discovery/daemon-names.ts'
import { isSwitchboardError, type SwitchboardError, sbError } from '../../errors.ts'
import { errnoCode } from '../../internal/errno.ts'

/** The default `<usersDir>`: `users` beside the daemon's machine-wide socket, where clients look. */
export const DEFAULT_USERS_DIR = join(dirname(DEFAULT_DAEMON_SOCKET), DAEMON_USERS_DIR)

const STICKY = 0o1000

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path)
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined
    throw err
  }
}

/**
 * Creates `<usersDir>` if missing (0755, so each user can reach their own directory inside) and
 * checks it: a real directory owned by the daemon's user that nobody else may write, below
 * directories nobody else may rename it in (not group/other writable, or sticky like /tmp).
 * INVALID_ARGUMENT otherwise: the daemon must not start on a directory others control.
 */
export async function ensureUsersDir(
  usersDir: string,
  owner: number = process.geteuid?.() ?? 0,
): Promise<void> {
  if (!isAbsolute(usersDir)) throw sbError('INVALID_ARGUMENT', `usersDir must be absolute: ${usersDir}`)
  await mkdir(usersDir, { recursive: true, mode: 0o755 })
  const st = await lstat(usersDir)
  const problem = !st.isDirectory()
    ? 'is not a directory (or is a symlink)'
    : st.uid !== owner
      ? `is owned by uid ${st.uid}, not the daemon's uid ${owner}`
      : (st.mode & 0o022) !== 0
        ? `is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`
        : undefined
  if (problem !== undefined)
    throw sbError('INVALID_ARGUMENT', `the daemon's users directory ${usersDir} ${problem}`)
  for (let dir = dirname(usersDir); ; dir = dirname(dir)) {
    const up = await lstat(dir)
    if (up.isSymbolicLink()) throw sbError('INVALID_ARGUMENT', `${dir}, above ${usersDir}, is a symlink`)
    const othersWrite = (up.mode & 0o022) !== 0 && (up.mode & STICKY) === 0
    if (othersWrite && up.uid !== owner) {
      throw sbError('INVALID_ARGUMENT', `${dir}, above ${usersDir}, may be written by others`)
    }
    if (dir === dirname(dir)) break
  }
}

function refused(uid: number, why: string, cause?: unknown): SwitchboardError {
  return sbError('AUTH_FAILED', `cannot use the cookie directory of uid ${uid}: ${why}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { uid },
  })
}

/** Why `st` is not a directory private to `uid`, or undefined when it is. */
export function privateDirProblem(st: Stats, uid: number): string | undefined {
  if (st.isSymbolicLink()) return 'it is a symlink'
  if (!st.isDirectory()) return 'it is not a directory'
  if (st.uid !== uid) return `it is owned by uid ${st.uid}`
  if ((st.mode & 0o077) !== 0) return `group or others have access (mode ${(st.mode & 0o7777).toString(8)})`
  return undefined
}

/**
 * `<usersDir>/<uid>`, created 0700 and owned by `uid` when missing, then checked with lstat.
 * AUTH_FAILED when it is not private to that uid or the daemon cannot make it so.
 */
export async function ensureUserDir(usersDir: string, uid: number): Promise<string> {
  if (!Number.isSafeInteger(uid) || uid < 0) throw sbError('AUTH_FAILED', `not a uid: ${uid}`)
  try {
    return await makePrivateDir(join(usersDir, String(uid)), uid)
  } catch (err) {
    // Whatever went wrong (usersDir removed under a running daemon, say), the login fails coded.
    throw isSwitchboardError(err) ? err : refused(uid, 'it cannot be made or checked', err)
  }
}

async function makePrivateDir(path: string, uid: number): Promise<string> {
  let st = await lstatOrUndefined(path)
  if (st === undefined) {
    let created = false
    try {
      await mkdir(path, { mode: 0o700 })
      created = true
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw refused(uid, 'mkdir failed', err)
    }
    st = await lstat(path)
    // Only a directory made here is given away; one that appeared meanwhile is checked as it is.
    if (created && st.isDirectory() && st.uid !== uid) {
      try {
        await chown(path, uid, -1)
        await chmod(path, 0o700)
      } catch (err) {
        await rmdir(path).catch(() => {})
        throw refused(
          uid,
          'the daemon may not give it to that uid (it must run as root to serve other users)',
          err,
        )
      }
    }
    st = await lstat(path)
  }
  const problem = privateDirProblem(st, uid)
  if (problem !== undefined) throw refused(uid, problem)
  return path
}

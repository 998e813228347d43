/**
 * The owner-only runtime directory where named sockets live, and the local directory's entries
 * (its `peers/` folder). Which one: option `runtimeDir`, else env SWITCHBOARD_RUNTIME_DIR, else
 * $XDG_RUNTIME_DIR/switchboard, else os.tmpdir()/switchboard-<uid>. It is created with mode 0700;
 * an existing one must be a directory owned by this user with no group or other permission bits,
 * else INSECURE_TRANSPORT (whatever `insecure` says: this directory is what makes local sockets
 * private).
 *
 * Windows has no POSIX owner or mode bits: there any directory passes (untested).
 */

import type { Stats } from 'node:fs'
import { chmod, lstat, mkdir, stat } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { sbError } from '../errors.ts'
import { errnoCode } from '../internal/errno.ts'

export interface RuntimeDirOptions {
  /** Overrides every other source. */
  readonly runtimeDir?: string
}

/** Why a directory is not owner-only. `missing` when it does not exist. */
export interface DirProblem {
  readonly missing: boolean
  readonly reason: string
}

/** The runtime directory path (pure: no I/O). `env` and `tmp` are injectable for tests. */
export function runtimeDirPath(
  options: RuntimeDirOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
  tmp: string = tmpdir(),
): string {
  if (options.runtimeDir !== undefined && options.runtimeDir !== '') return resolve(options.runtimeDir)
  const fromEnv = env['SWITCHBOARD_RUNTIME_DIR']
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv)
  const xdg = env['XDG_RUNTIME_DIR']
  // The XDG spec says a relative XDG_RUNTIME_DIR is invalid and must be ignored.
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'switchboard')
  return fallbackDirPath(tmp)
}

/** os.tmpdir()/switchboard-<uid> (user name where there is no uid): the last-resort directory. */
export function fallbackDirPath(tmp: string = tmpdir()): string {
  return join(tmp, `switchboard-${userTag()}`)
}

/** Resolves the runtime directory, creates it (0700) if missing and checks it is owner-only. */
export async function ensureRuntimeDir(options: RuntimeDirOptions = {}): Promise<string> {
  const dir = runtimeDirPath(options)
  await ensureOwnerOnlyDir(dir, 'runtime directory')
  return dir
}

/** Creates `dir` with mode 0700 if missing, then refuses (INSECURE_TRANSPORT) unless it is owner-only. */
export async function ensureOwnerOnlyDir(dir: string, what: string): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o700 })
    await chmod(dir, 0o700) // the umask may have removed owner bits
  } catch (err) {
    const code = errnoCode(err)
    if (code === 'ENOENT') {
      await mkdir(dir, { mode: 0o700, recursive: true }).catch((cause: unknown) => {
        throw sbError('TRANSPORT_ERROR', `could not create the ${what} ${dir}: ${errnoCode(cause)}`, {
          cause,
        })
      })
      await chmod(dir, 0o700)
    } else if (code !== 'EEXIST') {
      throw sbError('TRANSPORT_ERROR', `could not create the ${what} ${dir}: ${code}`, { cause: err })
    }
  }
  const problem = await ownerOnlyProblem(dir)
  if (problem !== undefined) throw sbError('INSECURE_TRANSPORT', `${what} ${dir} ${problem.reason}`)
}

/** True when `path` is a directory owned by this user with no group/other permission bits. */
export async function isOwnerOnlyDir(path: string): Promise<boolean> {
  return (await ownerOnlyProblem(path)) === undefined
}

/**
 * Why `path` is not an owner-only directory, or undefined when it is. A symbolic link is followed
 * only when this user owns it (a link planted by someone else is refused).
 */
export async function ownerOnlyProblem(path: string): Promise<DirProblem | undefined> {
  const uid = process.getuid?.()
  let st: Stats
  try {
    st = await lstat(path)
    if (st.isSymbolicLink()) {
      if (uid !== undefined && st.uid !== uid) {
        return {
          missing: false,
          reason: `is a symbolic link owned by uid ${st.uid}, not by this user (uid ${uid})`,
        }
      }
      st = await stat(path)
    }
  } catch (err) {
    const code = errnoCode(err)
    if (code === 'ENOENT') return { missing: true, reason: 'does not exist' }
    return { missing: false, reason: `cannot be inspected (${code})` }
  }
  if (!st.isDirectory()) return { missing: false, reason: 'is not a directory' }
  if (uid === undefined) return undefined
  if (st.uid !== uid) {
    return {
      missing: false,
      reason: `is owned by uid ${st.uid}, not by this user (uid ${uid}); choose another directory`,
    }
  }
  if ((st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(3, '0')
    return {
      missing: false,
      reason: `is accessible to group or others (mode ${mode}); run: chmod 700 ${path}`,
    }
  }
  return undefined
}

function userTag(): string {
  const uid = process.getuid?.()
  if (uid !== undefined) return String(uid)
  try {
    return userInfo().username.replace(/[^A-Za-z0-9._-]/g, '_')
  } catch {
    return 'user'
  }
}

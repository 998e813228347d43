/**
 * uid → OS user, without native code: `getent passwd <uid>` (which asks NSS, so LDAP and systemd
 * users count), else /etc/passwd when getent is missing. The daemon serves only uids that exist:
 * a client claiming any other uid gets AUTH_FAILED before the daemon makes a directory for it.
 */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { errnoCode } from '../../internal/errno.ts'

export interface OsUser {
  readonly name: string
  readonly uid: number
  readonly gid: number
}

/** Looks a uid up; undefined when no such user exists. */
export type UserLookup = (uid: number) => Promise<OsUser | undefined>

/** One passwd(5) line → the user, if it is one for `uid`. */
export function parsePasswdLine(line: string, uid: number): OsUser | undefined {
  const [name, , u, g] = line.split(':')
  if (name === undefined || name === '' || u === undefined || g === undefined) return undefined
  if (Number(u) !== uid || !/^\d+$/.test(u) || !/^\d+$/.test(g)) return undefined
  return { name, uid, gid: Number(g) }
}

function getent(uid: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    execFile('getent', ['passwd', String(uid)], { timeout: 5_000 }, (err, stdout) => {
      // getent exits 2 for "no such key": that is an answer, not a failure.
      if (err === null) resolve(stdout)
      else if ((err as { code?: unknown }).code === 2) resolve('')
      else if (errnoCode(err) === 'ENOENT') resolve(undefined)
      else reject(err)
    })
  })
}

/** The default lookup: getent, else /etc/passwd. */
export const lookupOsUser: UserLookup = async (uid) => {
  if (!Number.isSafeInteger(uid) || uid < 0) return undefined
  const text = (await getent(uid)) ?? (await readFile('/etc/passwd', 'utf8'))
  for (const line of text.split('\n')) {
    const user = parsePasswdLine(line.trim(), uid)
    if (user !== undefined) return user
  }
  return undefined
}

/**
 * The simplest DaemonAuth the daemon tests need (the real one is src/daemon/auth/): the local
 * cookie challenge for the test's own uid, in `<home>/users/<uid>/cookies` (0700 directory), a
 * policy of names per user, and no accounts.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { DaemonAuth, Principal } from '../../src/daemon/auth.ts'
import { cookieProof } from '../../src/discovery/daemon-login.ts'
import { sbError } from '../../src/errors.ts'

export interface TestAuthOptions {
  /** The daemon socket's directory. */
  home: string
  /** Names each principal may register; default: any. */
  mayRegister?: (p: Principal, name: string) => boolean
}

export function testDaemonAuth(options: TestAuthOptions): DaemonAuth & { cookiesIssued: number } {
  const cookies = new Map<string, { uid: number; cookie: string; challenge: string }>()
  const auth = {
    cookiesIssued: 0,
    async beginLocal(uid: number) {
      const dir = join(options.home, 'users', String(uid))
      await mkdir(dir, { recursive: true, mode: 0o700 })
      await chmod(dir, 0o700)
      const cookieId = randomBytes(8).toString('hex')
      const cookie = randomBytes(32).toString('hex')
      const challenge = randomBytes(16).toString('hex')
      cookies.set(cookieId, { uid, cookie, challenge })
      await writeFile(join(dir, 'cookies'), `${cookieId} ${Date.now()} ${cookie}\n`, {
        mode: 0o600,
        flag: 'a',
      })
      auth.cookiesIssued++
      return { cookieId, challenge }
    },
    async finishLocal(
      uid: number,
      cookieId: string,
      challenge: string,
      clientChallenge: string,
      proof: string,
    ) {
      const c = cookies.get(cookieId)
      cookies.delete(cookieId)
      const want = c === undefined ? '' : cookieProof(c.challenge, clientChallenge, c.cookie)
      const ok =
        c !== undefined &&
        c.uid === uid &&
        c.challenge === challenge &&
        want.length === proof.length &&
        timingSafeEqual(Buffer.from(want), Buffer.from(proof))
      if (!ok) throw sbError('AUTH_FAILED', 'cookie proof refused')
      return { kind: 'os-user', name: `uid:${uid}`, uid } satisfies Principal
    },
    async password(): Promise<Principal> {
      throw sbError('AUTH_FAILED', 'no accounts in this test')
    },
    byPublicKey: () => undefined,
    mayRegister: (p: Principal, name: string) => options.mayRegister?.(p, name) ?? true,
    mayReach: () => true,
  }
  return auth
}

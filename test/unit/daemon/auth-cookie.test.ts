/**
 * The cookie challenge in one process, as this process's own uid (root or not): the users
 * directory and per-uid directories are made and checked (0700, owner, no symlink), the cookie
 * file is 0600 and rotates and expires on the injected clock, the client's proof passes, and a
 * wrong proof, a replayed or expired challenge, another uid's challenge and an unknown uid are
 * AUTH_FAILED. Two real OS users are in test/multiprocess/daemon-os-users.test.ts.
 */
import assert from 'node:assert/strict'
import { chmod, lstat, mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { CookieJar } from '../../../src/daemon/auth/cookie-jar.ts'
import { LocalChallenges } from '../../../src/daemon/auth/local-challenge.ts'
import type { OsUser } from '../../../src/daemon/auth/os-users.ts'
import { ensureUserDir, ensureUsersDir } from '../../../src/daemon/auth/user-dir.ts'
import {
  COOKIE_FILE,
  cookieProof,
  formatCookies,
  parseCookies,
  proveLocalUser,
} from '../../../src/discovery/daemon-cookie.ts'
import { makeRuntimeDir, type RuntimeDir } from '../../helpers/tmp.ts'

const uid = process.getuid!()
const me: OsUser = { name: 'me', uid, gid: process.getgid!() }
const lookupUser = async (u: number) => (u === uid ? me : undefined)
let tmp: RuntimeDir
let n = 0

before(async () => {
  tmp = await makeRuntimeDir('sb-auth-')
})
after(() => tmp.cleanup())

/** A fresh users directory (0755) for one test. */
async function usersDir(): Promise<string> {
  const dir = join(tmp.path, `users-${n++}`)
  await ensureUsersDir(dir)
  return dir
}

function clock(start = 1_700_000_000_000) {
  let now = start
  return { now: () => now, advance: (ms: number) => (now += ms) }
}

test('ensureUsersDir makes a 0755 directory and refuses one others may write or a symlink', async () => {
  const dir = await usersDir()
  const st = await lstat(dir)
  assert.equal(st.mode & 0o777, 0o755)
  await chmod(dir, 0o777)
  await assert.rejects(ensureUsersDir(dir), /writable by group or others/)
  const link = join(tmp.path, `link-${n++}`)
  await symlink(dir, link)
  await assert.rejects(ensureUsersDir(link), { code: 'INVALID_ARGUMENT' })
  await assert.rejects(ensureUsersDir('relative/users'), { code: 'INVALID_ARGUMENT' })
})

test('ensureUserDir makes <usersDir>/<uid> 0700 owned by the uid, and refuses a symlink, group bits or another owner', async () => {
  const dir = await usersDir()
  const path = await ensureUserDir(dir, uid)
  assert.equal(path, join(dir, String(uid)))
  const st = await lstat(path)
  assert.ok(st.isDirectory())
  assert.equal(st.uid, uid)
  assert.equal(st.mode & 0o777, 0o700)
  await chmod(path, 0o750)
  await assert.rejects(ensureUserDir(dir, uid), /group or others have access/)

  const other = await usersDir()
  const target = join(tmp.path, `elsewhere-${n++}`)
  await mkdir(target, { mode: 0o700 })
  await symlink(target, join(other, String(uid)))
  await assert.rejects(ensureUserDir(other, uid), /it is a symlink/)

  // A directory for another uid that this uid owns (a user who made it before the daemon did).
  await mkdir(join(other, String(uid + 1)), { mode: 0o700 })
  await assert.rejects(ensureUserDir(other, uid + 1), new RegExp(`owned by uid ${uid}`))
  await assert.rejects(ensureUserDir(other, -1), { code: 'AUTH_FAILED' })
  await assert.rejects(ensureUserDir(join(tmp.path, 'no-such-users-dir'), uid), { code: 'AUTH_FAILED' })
})

test('the cookie file: 0600, owned by the uid, one line per cookie; reused within rotateMs, then a new one; expired ones dropped', async () => {
  const dir = await usersDir()
  const c = clock()
  const jar = new CookieJar({ usersDir: dir, ttlMs: 300_000, rotateMs: 60_000, now: c.now })
  const first = await jar.current(uid)
  const file = join(dir, String(uid), COOKIE_FILE)
  const st = await lstat(file)
  assert.equal(st.mode & 0o777, 0o600)
  assert.equal(st.uid, uid)
  assert.deepEqual(parseCookies(await readFile(file, 'utf8')), [first])
  assert.match(first.value, /^[0-9a-f]{64}$/)
  assert.equal(first.expiresAt, c.now() + 300_000)

  c.advance(59_000)
  assert.deepEqual(await jar.current(uid), first, 'reused within rotateMs')
  c.advance(2_000)
  const second = await jar.current(uid)
  assert.notEqual(second.id, first.id)
  assert.notEqual(second.value, first.value)
  assert.deepEqual(
    parseCookies(await readFile(file, 'utf8')),
    [first, second],
    'the older one stays until it expires',
  )
  assert.deepEqual(jar.lookup(uid, first.id), first)

  c.advance(300_000 - 61_000 + 1) // first expired, second has 61 s left: past rotateMs, so a third is made
  const third = await jar.current(uid)
  assert.equal(jar.lookup(uid, first.id), undefined, 'expired')
  assert.deepEqual(parseCookies(await readFile(file, 'utf8')), [second, third])
})

test('concurrent logins of one uid share one write at a time and agree on the cookie', async () => {
  const dir = await usersDir()
  const jar = new CookieJar({ usersDir: dir })
  const cookies = await Promise.all(Array.from({ length: 10 }, () => jar.current(uid)))
  assert.equal(new Set(cookies.map((c) => c.id)).size, 1)
  assert.deepEqual(parseCookies(await readFile(join(dir, String(uid), COOKIE_FILE), 'utf8')), [cookies[0]])
})

test('cookie file parsing skips malformed lines; formatCookies round-trips', () => {
  const good = { id: '12', expiresAt: 1_800_000_000_000, value: 'ab'.repeat(32) }
  const text = `${formatCookies([good])}x y z\n13 soon ${'ab'.repeat(32)}\n14 1 ${'AB'.repeat(32)}\n15 1 abc\n16 1 ${'ab'.repeat(32)} extra\n`
  assert.deepEqual(parseCookies(text), [good])
})

test('the challenge: the client proves the cookie; the principal is the OS user', async () => {
  const dir = await usersDir()
  const local = new LocalChallenges({ jar: new CookieJar({ usersDir: dir }), lookupUser })
  const { cookieId, challenge } = await local.begin(uid)
  assert.match(challenge, /^[0-9a-f]{64}$/)
  const { clientChallenge, proof } = await proveLocalUser(dir, uid, cookieId, challenge)
  assert.match(proof, /^[0-9a-f]{64}$/)
  assert.deepEqual(await local.finish(uid, cookieId, challenge, clientChallenge, proof), {
    kind: 'os-user',
    name: 'me',
    uid,
  })
  assert.equal(local.pending, 0)
})

test('the proof is SHA-256 of challenge:clientChallenge:cookie (a known answer, from sha256sum)', () => {
  assert.equal(
    cookieProof('00'.repeat(8), '11'.repeat(8), 'ab'.repeat(32)),
    '526024ec0d9c6f2a9cbcd2e14e56aefe5cb94edfece07c341e668cc4c2ebf215',
  )
})

test('wrong proof, replayed challenge, another uid or cookie, an expired challenge or cookie: AUTH_FAILED', async () => {
  const dir = await usersDir()
  const wall = clock()
  let mono = 0
  const jar = new CookieJar({ usersDir: dir, ttlMs: 300_000, now: wall.now })
  const local = new LocalChallenges({ jar, lookupUser, challengeTtlMs: 30_000, now: () => mono })

  const a = await local.begin(uid)
  const p = await proveLocalUser(dir, uid, a.cookieId, a.challenge)
  const flipped = (p.proof[0] === '0' ? '1' : '0') + p.proof.slice(1)
  await assert.rejects(
    local.finish(uid, a.cookieId, a.challenge, p.clientChallenge, flipped),
    /proof for uid/,
  )
  await assert.rejects(
    local.finish(uid, a.cookieId, a.challenge, p.clientChallenge, p.proof),
    /unknown or expired challenge/,
    'a challenge is used once, even after a failure',
  )

  const b = await local.begin(uid)
  const q = await proveLocalUser(dir, uid, b.cookieId, b.challenge)
  await assert.rejects(
    local.finish(uid + 1, b.cookieId, b.challenge, q.clientChallenge, q.proof),
    /another uid/,
  )

  const c = await local.begin(uid)
  const r = await proveLocalUser(dir, uid, c.cookieId, c.challenge)
  mono += 30_000
  await assert.rejects(
    local.finish(uid, c.cookieId, c.challenge, r.clientChallenge, r.proof),
    /expired challenge/,
  )

  const d = await local.begin(uid)
  const s = await proveLocalUser(dir, uid, d.cookieId, d.challenge)
  wall.advance(300_000)
  await assert.rejects(
    local.finish(uid, d.cookieId, d.challenge, s.clientChallenge, s.proof),
    /cookie expired/,
  )

  const e = await local.begin(uid)
  await assert.rejects(local.finish(uid, e.cookieId, e.challenge, 'not hex', 'x'), { code: 'AUTH_FAILED' })
  await assert.rejects(local.finish(uid, '1', 'f'.repeat(64), 'a'.repeat(64), 'b'.repeat(64)), {
    code: 'AUTH_FAILED',
  })
})

test('an unknown uid is AUTH_FAILED before any directory is made', async () => {
  const dir = await usersDir()
  const local = new LocalChallenges({ jar: new CookieJar({ usersDir: dir }), lookupUser })
  await assert.rejects(local.begin(uid + 12345), { code: 'AUTH_FAILED' })
  await assert.rejects(lstat(join(dir, String(uid + 12345))), { code: 'ENOENT' })
  await assert.rejects(local.begin(-1), { code: 'AUTH_FAILED' })
  await assert.rejects(local.begin(1.5), { code: 'AUTH_FAILED' })
})

test('the client: a missing cookie id or an unreadable directory is AUTH_FAILED; bad arguments INVALID_ARGUMENT', async () => {
  const dir = await usersDir()
  await ensureUserDir(dir, uid)
  await writeFile(join(dir, String(uid), COOKIE_FILE), formatCookies([]), { mode: 0o600 })
  await assert.rejects(proveLocalUser(dir, uid, '7', 'a'.repeat(64)), /cookie 7 for uid .* is gone/)
  await assert.rejects(proveLocalUser(dir, uid + 1, '7', 'a'.repeat(64)), { code: 'AUTH_FAILED' })
  await assert.rejects(proveLocalUser(dir, uid, '7', 'short'), { code: 'INVALID_ARGUMENT' })
  await assert.rejects(proveLocalUser(dir, -2, '7', 'a'.repeat(64)), { code: 'INVALID_ARGUMENT' })
})

/**
 * The cookie challenge between two real OS users, and the daemon serving both. As root, the test creates the system users
 * `sbtest-a` and `sbtest-b` (idempotently; deleted at the end), runs the daemon's side here (as
 * root, as the daemon runs) and each client in its own process spawned with that user's uid and
 * gid, which the child reports back. User A passes the challenge for uid A; asked to answer for
 * uid B it cannot read B's 0700 directory (EACCES) and so cannot; a made-up proof for uid B is
 * AUTH_FAILED at the daemon. Then a real daemon (here, as root) on a unix socket with a policy:
 * each user's peer, in its own process with that user's uid, joins through the socket with its
 * cookie login, and a name the policy gives the other user is NOT_PERMITTED. When not root this
 * test fails, saying it needs root.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { access, chmod, chown, constants, lstat, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { createDaemonAuth } from '../../src/daemon/auth/create.ts'
import type { DaemonAuth } from '../../src/daemon/auth.ts'
import { startDaemon } from '../../src/daemon/daemon.ts'
import { openDaemonDirectory } from '../../src/discovery/daemon-directory.ts'
import { cookieLogin } from '../../src/discovery/daemon-login.ts'
import { generateKeyPair } from '../../src/session/key-files.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

const run = promisify(execFile)
const USERS = ['sbtest-a', 'sbtest-b'] as const
const FIXTURE = new URL('../fixtures/programs/prove-local-user.ts', import.meta.url).pathname
const PEER = new URL('../fixtures/programs/daemon-user-peer.ts', import.meta.url).pathname
const REPO = new URL('../../', import.meta.url).pathname

interface Ids {
  uid: number
  gid: number
}
const ids = new Map<string, Ids>()
let tmp: RuntimeDir | undefined
let usersDir: string
let auth: DaemonAuth

async function idsOf(user: string): Promise<Ids | undefined> {
  try {
    const uid = Number((await run('id', ['-u', user])).stdout.trim())
    const gid = Number((await run('id', ['-g', user])).stdout.trim())
    return { uid, gid }
  } catch {
    return undefined
  }
}

before(async () => {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'this test needs root: it creates the OS users sbtest-a and sbtest-b (run it as root, e.g. in CI)',
    )
  }
  for (const user of USERS) {
    if ((await idsOf(user)) === undefined) {
      await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user]).catch(
        async (err) => {
          // Another run may have created it between the check and here: that is fine.
          if ((await idsOf(user)) === undefined) throw err
        },
      )
    }
    ids.set(user, (await idsOf(user))!)
  }
  // The clients, as the test users, must read the fixture and the repo's node_modules (tsx).
  for (const path of [
    FIXTURE,
    PEER,
    join(REPO, 'node_modules/tsx/package.json'),
    join(REPO, 'src/discovery/daemon-cookie.ts'),
  ]) {
    await access(path, constants.R_OK)
    const st = await lstat(path)
    assert.ok(
      (st.mode & 0o004) !== 0,
      `${path} must be readable by other users (mode ${(st.mode & 0o777).toString(8)})`,
    )
  }
  tmp = await makeRuntimeDir('sb-users-')
  await chmod(tmp.path, 0o755) // the users directory inside must be reachable by every user
  usersDir = join(tmp.path, 'users')
  auth = await createDaemonAuth({ usersDir })
})

after(async () => {
  await tmp?.cleanup()
  for (const user of USERS) {
    if ((await idsOf(user)) !== undefined) await run('userdel', [user])
  }
})

interface ChildAnswer {
  uid: number
  gid: number
  clientChallenge?: string
  proof?: string
  code?: string
  errno?: string
}

/** Runs the client fixture as `user`, answering a challenge for `forUid`. */
async function answerAs(
  user: string,
  forUid: number,
  cookieId: string,
  challenge: string,
): Promise<ChildAnswer> {
  const { uid, gid } = ids.get(user)!
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', FIXTURE, usersDir, String(forUid), cookieId, challenge],
    {
      cwd: REPO,
      uid,
      gid,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: tmp!.path },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const [code] = (await withTimeout(once(child, 'exit'), 30_000, `the client as ${user} to exit`)) as [number]
  assert.equal(code, 0, `client as ${user} exited ${code}: ${err}`)
  return JSON.parse(out.trim()) as ChildAnswer
}

test('user A passes the cookie challenge for uid A; the directory and cookie are private to A', async () => {
  const a = ids.get('sbtest-a')!
  const { cookieId, challenge } = await auth.beginLocal(a.uid)
  const dir = await lstat(join(usersDir, String(a.uid)))
  assert.equal(dir.uid, a.uid)
  assert.equal(dir.mode & 0o777, 0o700)
  const cookie = await lstat(join(usersDir, String(a.uid), 'cookies'))
  assert.equal(cookie.uid, a.uid)
  assert.equal(cookie.mode & 0o777, 0o600)

  const answer = await answerAs('sbtest-a', a.uid, cookieId, challenge)
  assert.equal(answer.uid, a.uid, 'the client really ran as sbtest-a')
  assert.equal(answer.gid, a.gid)
  assert.equal(answer.code, undefined, JSON.stringify(answer))
  const principal = await auth.finishLocal(a.uid, cookieId, challenge, answer.clientChallenge!, answer.proof!)
  assert.deepEqual(principal, { kind: 'os-user', name: 'sbtest-a', uid: a.uid })
})

test("user A cannot pass the challenge for uid B: B's directory is EACCES to A, and a made-up proof is AUTH_FAILED", async () => {
  const a = ids.get('sbtest-a')!
  const b = ids.get('sbtest-b')!
  const { cookieId, challenge } = await auth.beginLocal(b.uid)
  const answer = await answerAs('sbtest-a', b.uid, cookieId, challenge)
  assert.equal(answer.uid, a.uid, 'the client really ran as sbtest-a')
  assert.equal(answer.code, 'AUTH_FAILED', JSON.stringify(answer))
  assert.equal(answer.errno, 'EACCES')
  // Without the cookie, all A can send is a guess.
  await assert.rejects(auth.finishLocal(b.uid, cookieId, challenge, 'ab'.repeat(32), 'cd'.repeat(32)), {
    code: 'AUTH_FAILED',
  })
  // B itself, asked the same way, passes.
  const again = await auth.beginLocal(b.uid)
  const mine = await answerAs('sbtest-b', b.uid, again.cookieId, again.challenge)
  assert.equal(mine.uid, b.uid)
  const principal = await auth.finishLocal(
    b.uid,
    again.cookieId,
    again.challenge,
    mine.clientChallenge!,
    mine.proof!,
  )
  assert.deepEqual(principal, { kind: 'os-user', name: 'sbtest-b', uid: b.uid })
})

test("A's valid proof for its own uid does not open B's login (the challenge is bound to the uid)", async () => {
  const a = ids.get('sbtest-a')!
  const b = ids.get('sbtest-b')!
  const { cookieId, challenge } = await auth.beginLocal(a.uid)
  const answer = await answerAs('sbtest-a', a.uid, cookieId, challenge)
  await assert.rejects(auth.finishLocal(b.uid, cookieId, challenge, answer.clientChallenge!, answer.proof!), {
    code: 'AUTH_FAILED',
  })
})

/** Runs the peer fixture as `user` until its stdin ends; resolves with its ready line. */
async function peerAs(user: string, args: string[]) {
  const { uid, gid } = ids.get(user)!
  const child = spawn(process.execPath, ['--import', 'tsx', PEER, ...args], {
    cwd: REPO,
    uid,
    gid,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: tmp!.path },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const line = /^ready (.*)$/m.exec(out)
      if (line !== null) resolve(JSON.parse(line[1]!) as Record<string, unknown>)
    })
    child.once('exit', (code) => reject(new Error(`peer as ${user} exited ${code}: ${err}`)))
  })
  const line = await withTimeout(ready, 30_000, `the peer as ${user} to join`)
  const stop = async (): Promise<number> => {
    const exited = once(child, 'exit')
    child.stdin.end()
    const [code] = (await withTimeout(exited, 10_000, `the peer as ${user} to leave`)) as [number]
    return code
  }
  return { line, stop }
}

test("two OS users register through the daemon's unix socket with their cookies; a name the policy gives the other is NOT_PERMITTED", async () => {
  const home = join(tmp!.path, 'run')
  const socket = join(home, 'daemon.sock')
  const logins: string[] = []
  const daemon = await startDaemon({
    socket,
    auth: {
      policy: {
        'os-user:sbtest-a': { register: ['alpha.*'] },
        'os-user:sbtest-b': { register: ['beta.*'] },
      },
    },
    log: (r) => {
      if (r['event'] === 'auth') logins.push(`${r['kind']}:${r['name']}`)
    },
  })
  try {
    const peers = []
    for (const [user, name, forbidden] of [
      ['sbtest-a', 'alpha.a', 'beta.a'],
      ['sbtest-b', 'beta.b', 'alpha.b'],
    ] as const) {
      const { uid, gid } = ids.get(user)!
      // Each peer's own runtime directory: private to its user, as join() expects.
      const runtimeDir = join(tmp!.path, `rt-${user}`)
      await mkdir(runtimeDir, { recursive: true, mode: 0o700 })
      await chown(runtimeDir, uid, gid)
      const peer = await peerAs(user, [socket, runtimeDir, name, forbidden])
      assert.equal(peer.line['uid'], uid, `the peer really ran as ${user}`)
      assert.equal(peer.line['gid'], gid)
      assert.equal(peer.line['forbidden'], 'NOT_PERMITTED', `${user} registering ${forbidden}`)
      peers.push(peer)
    }
    assert.ok(logins.includes('os-user:sbtest-a') && logins.includes('os-user:sbtest-b'), logins.join(' '))
    // root (this process) logs in with its own cookie and sees both, each as its own user.
    const root = openDaemonDirectory({
      address: `unix:${socket}`,
      connect: { keys: generateKeyPair(), serverKey: daemon.publicKey },
      login: cookieLogin(home),
    })
    try {
      const entries = await root.list()
      assert.deepEqual(entries.map((e) => e.name).sort(), ['alpha.a', 'beta.b'])
      assert.deepEqual(entries.map((e) => e.instance).sort(), peers.map((p) => p.line['instance']).sort())
    } finally {
      await root.closeAndWait()
    }
    for (const peer of peers) assert.equal(await peer.stop(), 0)
    await waitFor(() => daemon.size === 0, { what: 'both peers to leave' })
  } finally {
    await daemon.close()
  }
})

/**
 * Logging in to a daemon over TCP with accounts, against a real daemon on a real socket: three
 * accounts join through `join({ directory: 'tcp://…', daemonKey, daemonLogin })`; a wrong password
 * is AUTH_FAILED; repeated failures from one source take longer each time; a connection that has
 * not logged in may not list or watch (NOT_PERMITTED), is closed after too many failures
 * (AUTH_FAILED) and when it does not log in within the handshake deadline (HANDSHAKE_TIMEOUT).
 * The login times measured are printed as test diagnostics.
 */
import assert from 'node:assert/strict'
import { join as joinPath } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { hashPassword } from '../../src/daemon/auth/password-hash.ts'
import { type Daemon, startDaemon } from '../../src/daemon/daemon.ts'
import { openDaemonDirectory } from '../../src/discovery/daemon-directory.ts'
import { type DaemonLogin, passwordLogin } from '../../src/discovery/daemon-login.ts'
import { isSwitchboardError } from '../../src/errors.ts'
import { connect } from '../../src/link/api.ts'
import { join } from '../../src/peer/join.ts'
import { generateKeyPair } from '../../src/session/key-files.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

const PASSWORDS = { alice: 'alice-pw-1', bob: 'bob-pw-2', carol: 'carol-pw-3' } as const
type User = keyof typeof PASSWORDS

let tmp: RuntimeDir
let users: Record<string, { password: string }>
const events: Record<string, unknown>[] = []
const cleanups: (() => Promise<unknown> | unknown)[] = []

async function startTcpDaemon(name: string, listen = {}): Promise<Daemon & { address: string }> {
  const daemon = await startDaemon({
    socket: false,
    tcp: '127.0.0.1:0',
    keyFile: joinPath(tmp.path, `${name}.key`),
    auth: {
      usersDir: joinPath(tmp.path, `${name}-users`),
      users,
      // Each account registers its own names only.
      policy: {
        'account:alice': { register: ['alice.*'] },
        'account:bob': { register: ['bob.*'] },
        'account:carol': { register: ['carol.*'] },
      },
    },
    listen,
    log: (record) => events.push({ daemon: name, ...record }),
  })
  cleanups.push(() => daemon.close())
  return Object.assign(daemon, { address: daemon.addresses[0]! })
}

/** A login that records how long the daemon took to answer it, ms. */
function timed(login: DaemonLogin, times: number[]): DaemonLogin {
  return async (call) => {
    const t0 = performance.now()
    try {
      await login(call)
    } finally {
      times.push(performance.now() - t0)
    }
  }
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    assert.ok(isSwitchboardError(err), String(err))
    return err.code
  }
  return 'resolved'
}

before(async () => {
  tmp = await makeRuntimeDir('sbl-')
  users = {}
  for (const [user, password] of Object.entries(PASSWORDS))
    users[user] = { password: await hashPassword(password) }
})

after(async () => {
  for (const c of cleanups.reverse()) await c()
  await tmp.cleanup()
})

describe('daemon password login over TCP', () => {
  test('three accounts join through tcp:// with their passwords and see each other', async (t) => {
    const daemon = await startTcpDaemon('three')
    const times: number[] = []
    const peers = []
    for (const user of Object.keys(PASSWORDS) as User[]) {
      const peer = await join({
        name: `${user}.api`,
        directory: daemon.address,
        daemonKey: daemon.publicKey,
        daemonLogin: timed(passwordLogin(user, PASSWORDS[user]), times),
        runtimeDir: tmp.path,
        leaseMs: 2000,
      })
      cleanups.push(() => peer.leave())
      peers.push(peer)
    }
    const logins = events.filter((e) => e['daemon'] === 'three' && e['event'] === 'auth')
    assert.deepEqual(
      logins.map((e) => `${e['kind']}:${e['name']}`),
      ['account:alice', 'account:bob', 'account:carol'],
    )
    assert.equal(daemon.size, 3)
    // Each sees the other two (peers() lists the others) through the daemon's list and changes.
    for (const peer of peers) {
      await waitFor(() => peer.peers().length >= 2, { what: `${peer.name} to see the other two` })
      const others = ['alice.api', 'bob.api', 'carol.api'].filter((n) => n !== peer.name)
      assert.deepEqual(
        peer
          .peers()
          .map((p) => p.name)
          .sort(),
        others,
      )
    }
    // A name outside the account's policy is refused.
    const refused = join({
      name: 'bob.api',
      directory: daemon.address,
      daemonKey: daemon.publicKey,
      daemonLogin: passwordLogin('alice', PASSWORDS.alice),
      runtimeDir: tmp.path,
    })
    assert.equal(await codeOf(refused), 'NOT_PERMITTED')
    t.diagnostic(`password login (scrypt N=2^15) ms: ${times.map((ms) => ms.toFixed(1)).join(', ')}`)
    for (const ms of times) assert.ok(ms < 5000, `a login took ${ms} ms`)
  })

  test('a client without a key pair runs Noise NK (the daemon proven by its pinned key) and logs in by password', async () => {
    const daemon = await startTcpDaemon('nk')
    const d = openDaemonDirectory({
      address: daemon.address,
      connect: { serverKey: daemon.publicKey },
      login: passwordLogin('bob', PASSWORDS.bob),
    })
    cleanups.push(() => d.closeAndWait())
    await d.publish({
      name: 'bob.nk',
      instance: 'nk1',
      address: 'unix:/nonexistent/nk.sock',
      pid: process.pid,
      user: 'bob',
      protocols: [],
      topics: [],
      publishes: [],
      joinedAt: Date.now(),
    })
    assert.deepEqual(
      (await d.list()).map((e) => e.instance),
      ['nk1'],
    )
    const login = events.find((e) => e['daemon'] === 'nk' && e['event'] === 'auth')
    assert.equal(
      `${login?.['kind']}:${login?.['name']} over ${login?.['security']}`,
      'account:bob over noise-nk',
    )
    // A wrong pinned key fails the handshake: NK authenticates the daemon.
    const wrong = openDaemonDirectory({
      address: daemon.address,
      connect: { serverKey: generateKeyPair().publicKey },
      login: passwordLogin('bob', PASSWORDS.bob),
    })
    cleanups.push(() => wrong.closeAndWait())
    assert.equal(await codeOf(wrong.list()), 'HANDSHAKE_FAILED')
  })

  test('a wrong password and an unknown user are AUTH_FAILED', async () => {
    const daemon = await startTcpDaemon('wrong')
    const options = { directory: daemon.address, daemonKey: daemon.publicKey, runtimeDir: tmp.path }
    const wrong = join({ name: 'alice.x', ...options, daemonLogin: passwordLogin('alice', PASSWORDS.bob) })
    assert.equal(await codeOf(wrong), 'AUTH_FAILED')
    const unknown = join({ name: 'alice.x', ...options, daemonLogin: passwordLogin('mallory', 'guess') })
    assert.equal(await codeOf(unknown), 'AUTH_FAILED')
    assert.equal(daemon.size, 0)
  })

  test('repeated failures from one source are answered later and later; the right password then succeeds', async (t) => {
    const daemon = await startTcpDaemon('backoff')
    const failures: number[] = []
    for (let i = 0; i < 5; i++) {
      // A new connection each time: the back-off is per source (the remote IP), not per connection.
      const d = openDaemonDirectory({
        address: daemon.address,
        connect: { keys: generateKeyPair(), serverKey: daemon.publicKey },
        login: timed(passwordLogin('carol', `guess-${i}`), failures),
      })
      assert.equal(await codeOf(d.list()), 'AUTH_FAILED')
      await d.closeAndWait()
    }
    const ok: number[] = []
    const d = openDaemonDirectory({
      address: daemon.address,
      connect: { keys: generateKeyPair(), serverKey: daemon.publicKey },
      login: timed(passwordLogin('carol', PASSWORDS.carol), ok),
    })
    assert.deepEqual(await d.list(), [])
    await d.closeAndWait()
    t.diagnostic(
      `failed logins ms: ${failures.map((ms) => ms.toFixed(0)).join(', ')}; then a good one ${ok[0]!.toFixed(0)}`,
    )
    // The first failure is answered at once, the next after 250 ms, then 500, 1000, 2000: each
    // one takes at least its wait (a loaded machine only adds to it, as does scrypt's own time).
    const waits = [0, 250, 500, 1000, 2000]
    for (let i = 1; i < failures.length; i++) {
      assert.ok(
        failures[i]! >= waits[i]! - 5,
        `failure ${i + 1} took ${failures[i]!.toFixed(0)} ms, less than its back-off of ${waits[i]} ms`,
      )
    }
    assert.ok(failures[4]! > failures[0]! + 1500, `the fifth failure waited ${failures[4]} ms`)
    assert.ok(ok[0]! < failures[4]!, 'a success is not held back')
  })

  test('before a login: no list, no watch, no register; too many failures or no login in time close the connection', async () => {
    const daemon = await startTcpDaemon('gate', { handshakeTimeoutMs: 1500 })
    const link = await connect(daemon.address, {
      keys: generateKeyPair(),
      serverKey: daemon.publicKey,
      waitForReady: true,
      maxRetries: 0,
    })
    cleanups.push(() => link.close())
    assert.equal(await codeOf(link.request('daemon.list', {})), 'NOT_PERMITTED')
    const watch = link.subscribe('daemon.changes')
    assert.equal(await codeOf(watch.ready), 'NOT_PERMITTED')
    // Never logs in: turned away at the handshake deadline.
    await waitFor(
      () =>
        events.some(
          (e) =>
            e['daemon'] === 'gate' && e['event'] === 'login-refused' && e['code'] === 'HANDSHAKE_TIMEOUT',
        ),
      { what: 'the daemon to close a connection that did not log in', timeoutMs: 5000 },
    )
    await withTimeout(
      new Promise<void>((resolve) =>
        link.state === 'ready' ? link.once('state', () => resolve()) : resolve(),
      ),
      5000,
      'the link to lose its connection',
    )

    // Three wrong passwords on one connection: it may try no more, and is closed with AUTH_FAILED.
    const guesser = await connect(daemon.address, {
      keys: generateKeyPair(),
      serverKey: daemon.publicKey,
      waitForReady: true,
      maxRetries: 0,
    })
    cleanups.push(() => guesser.close())
    for (let i = 0; i < 3; i++) {
      assert.equal(
        await codeOf(
          guesser.request(
            'daemon.auth.password',
            { user: 'alice', password: `nope-${i}` },
            { timeout: 10_000 },
          ),
        ),
        'AUTH_FAILED',
      )
    }
    // Spent: even the right password is refused now, without a password check; the login
    // deadline then closes it with AUTH_FAILED.
    assert.equal(
      await codeOf(guesser.request('daemon.auth.password', { user: 'alice', password: PASSWORDS.alice })),
      'AUTH_FAILED',
    )
    await waitFor(
      () =>
        events.some(
          (e) => e['daemon'] === 'gate' && e['event'] === 'login-refused' && e['code'] === 'AUTH_FAILED',
        ),
      { what: 'the daemon to close the guessing connection', timeoutMs: 5000 },
    )
  })
})

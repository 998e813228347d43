/**
 * The relay of startDaemon in one process: a joined peer whose direct dial fails reaches the
 * other through the daemon (its relay stats move, peers() says 'relay'), and an open daemon
 * relays only between connections of one principal (there: the same handshake key), refusing
 * others with NOT_PERMITTED. `ls --directory` has a ROUTE column. The direct dial is made to
 * fail with ECONNREFUSED by the peers' `dial` option (in one process, as root, no socket is
 * private); the real conditions are in test/multiprocess/relay-daemon-users and relay-netns.
 */
import assert from 'node:assert/strict'
import { dirname, join as joinPath } from 'node:path'
import { after, test } from 'node:test'
import { run } from '../../src/cli/run.ts'
import { startDaemon } from '../../src/daemon/daemon.ts'
import { cookieLogin, type DaemonLogin } from '../../src/discovery/daemon-login.ts'
import { sbError } from '../../src/errors.ts'
import type { DialFunction } from '../../src/link/options.ts'
import { join } from '../../src/peer/join.ts'
import type { JoinedPeer } from '../../src/peer/joined-peer.ts'
import { generateKeyPair } from '../../src/session/key-files.ts'
import { captureIo } from '../cli/captured-io.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'
import { waitFor } from '../helpers/wait.ts'

const refused: DialFunction = async (address) => {
  throw sbError('CONNECT_FAILED', `${address}: refused (test)`, { details: { errno: 'ECONNREFUSED' } })
}

async function setup() {
  const tmp = await makeRuntimeDir('sbdr-')
  const socket = joinPath(tmp.path, 'run', 'daemon.sock')
  const daemon = await startDaemon({ socket, limits: { minLeaseMs: 50 } })
  const joined: JoinedPeer[] = []
  after(async () => {
    for (const p of joined) await p.leave()
    await daemon.close()
    await tmp.cleanup()
  })
  const peer = async (
    name: string,
    keys: ReturnType<typeof generateKeyPair>,
    direct?: DialFunction,
    more: { leaseMs?: number; daemonLogin?: DaemonLogin } = {},
  ) => {
    const p = await join({
      name,
      runtimeDir: tmp.path,
      directory: `unix:${socket}`,
      keys,
      // Peers of one key pair (one principal to an open daemon) accept each other.
      allow: [keys.publicKey],
      ...(direct === undefined ? {} : { dial: direct }),
      ...more,
    })
    joined.push(p)
    p.handle('who', () => p.instance)
    return p
  }
  return { tmp, socket, daemon, peer }
}

test('an open daemon relays between connections of one principal; peers() says relay', async () => {
  const { daemon, peer } = await setup()
  const keys = generateKeyPair()
  const target = await peer('target', keys)
  const dialer = await peer('dialer', keys, refused)
  assert.equal(await dialer.request('target', 'who'), target.instance)
  assert.equal(dialer.peers().find((p) => p.instance === target.instance)?.route, 'relay')
  const stats = daemon.relayStats()
  assert.equal(stats.opened, 1)
  assert.ok(stats.bytesToTarget > 0 && stats.bytesToDialer > 0, JSON.stringify(stats))
})

test('an open daemon refuses to relay between two principals (two handshake keys): NOT_PERMITTED', async () => {
  const { daemon, peer } = await setup()
  await peer('target', generateKeyPair())
  const dialer = await peer('dialer', generateKeyPair(), refused)
  await assert.rejects(dialer.request('target', 'who'), (err: { code?: string }) => {
    assert.equal(err.code, 'NOT_PERMITTED')
    return true
  })
  assert.equal(daemon.relayStats().opened, 0)
})

test('a peer joined through a daemon dials direct first when it can', async () => {
  const { tmp, socket, peer } = await setup()
  const keys = generateKeyPair()
  const target = await peer('target', keys)
  const dialer = await peer('dialer', keys)
  assert.equal(await dialer.request('target', 'who'), target.instance)
  assert.equal(dialer.peers().find((p) => p.instance === target.instance)?.route, 'direct')

  // ls with a daemon: the ROUTE a peer here would take (we can connect: direct).
  const io = captureIo({ env: { SWITCHBOARD_RUNTIME_DIR: tmp.path } })
  assert.equal(await run(['ls', '--directory', `unix:${socket}`], io), 0, io.err())
  const [header, ...lines] = io.out().trim().split('\n')
  assert.match(header!, /CONNECTED\s+ROUTE$/)
  await waitFor(() => lines.length === 2, { what: 'two rows' })
  for (const line of lines) assert.match(line, /yes\s+direct$/)
})

test('after a daemon restart, a relayed call waits for its target to register again (within a lease)', async () => {
  const { socket, daemon, peer } = await setup()
  const keys = generateKeyPair()
  // The target's logins wait on a gate: closed, it cannot register on the restarted daemon.
  let gate: Promise<void> = Promise.resolve()
  let openGate = (): void => {}
  const cookie = cookieLogin(dirname(socket))
  const target = await peer('target', keys, undefined, {
    leaseMs: 5000,
    daemonLogin: async (call) => {
      await gate
      await cookie(call)
    },
  })
  const dialer = await peer('dialer', keys, refused, { leaseMs: 5000 })
  assert.equal(await dialer.request('target', 'who'), target.instance)

  gate = new Promise<void>((resolve) => {
    openGate = resolve
  })
  await daemon.close()
  const again = await startDaemon({ socket, limits: { minLeaseMs: 50 } })
  after(() => again.close())
  const answer = dialer.request('target', 'who', { idempotent: true, timeout: 15_000 })
  // More refusals than the link's own retries (3) allow: without waiting for the target, the
  // call would have failed by now with CONNECT_FAILED.
  await waitFor(() => again.relayStats().notFound >= 6, {
    what: 'the relay to be asked for the target again',
  })
  openGate()
  assert.equal(await answer, target.instance)
  assert.equal(again.relayStats().opened, 1)
  assert.equal(dialer.peers().find((p) => p.instance === target.instance)?.route, 'relay')
})

test('after a daemon restart, a relayed call to a target that never registers again fails once its lease has passed', async () => {
  const { socket, daemon, peer } = await setup()
  const keys = generateKeyPair()
  let comesBack = true
  const cookie = cookieLogin(dirname(socket))
  const target = await peer('target', keys, undefined, {
    leaseMs: 1000,
    daemonLogin: async (call) => {
      if (!comesBack) throw sbError('AUTH_FAILED', 'this target stays away (test)')
      await cookie(call)
    },
  })
  const dialer = await peer('dialer', keys, refused, { leaseMs: 1000 })
  assert.equal(await dialer.request('target', 'who'), target.instance)
  comesBack = false
  await daemon.close()
  const again = await startDaemon({ socket, limits: { minLeaseMs: 50 } })
  after(() => again.close())
  const left = new Promise<void>((resolve) =>
    dialer.on('peers', (c) => {
      if (c.type === 'leave' && c.peer.instance === target.instance) resolve()
    }),
  )
  await assert.rejects(
    dialer.request('target', 'who', { idempotent: true, timeout: 15_000 }),
    (err: { code?: string }) => {
      // Refused by the relay, or (when the leave was heard first) not sent to a peer that left.
      assert.ok(['CONNECT_FAILED', 'NOT_CONNECTED'].includes(err.code ?? ''), String(err.code))
      return true
    },
  )
  await left
  assert.equal(again.relayStats().opened, 0)
})

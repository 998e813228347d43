/**
 * The daemon's directory in one process: registration needs the cookie login, leases end
 * without heartbeats, a clean close ends a connection's leases at once, limits are coded, and
 * join({ directory }) lists and watches through the daemon.
 */
import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import { join as joinPath } from 'node:path'
import { after, describe, test } from 'node:test'
import { startDaemon, tcpAddressOf } from '../../src/daemon/daemon.ts'
import { daemonDialAddress } from '../../src/discovery/daemon-address.ts'
import { openDaemonDirectory } from '../../src/discovery/daemon-directory.ts'
import { cookieLogin } from '../../src/discovery/daemon-login.ts'
import type { DirectoryChange, PeerEntry } from '../../src/discovery/types.ts'
import { isSwitchboardError } from '../../src/errors.ts'
import { join } from '../../src/peer/join.ts'
import { generateKeyPair } from '../../src/session/key-files.ts'
import { startFaultProxy } from '../../src/testing/fault-proxy.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

function entry(name: string, instance: string): PeerEntry {
  return {
    name,
    instance,
    address: `unix:/tmp/none-${instance}.sock`,
    pid: process.pid,
    user: 'test',
    protocols: [],
    topics: [],
    publishes: [],
    joinedAt: Date.now(),
  }
}

async function setup(limits = {}) {
  const tmp = await makeRuntimeDir('sbd-')
  const home = joinPath(tmp.path, 'run')
  const socket = joinPath(home, 'daemon.sock')
  // The real auth: the cookie challenge in `users` beside the socket, and a policy that lets
  // every user register the test's names (a…, b…) and nothing else.
  const auth = { logins: 0 }
  const daemon = await startDaemon({
    socket,
    auth: { policy: { '*': { register: ['a*', 'b*'] } } },
    limits: { minLeaseMs: 50, ...limits },
    log: (record) => {
      if (record['event'] === 'auth') auth.logins++
    },
  })
  const address = `unix:${socket}`
  const client = (login = true, leaseMs = 300) =>
    openDaemonDirectory({
      address,
      connect: { keys: generateKeyPair(), serverKey: daemon.publicKey },
      leaseMs,
      ...(login ? { login: cookieLogin(home) } : {}),
    })
  return { tmp, home, socket, daemon, address, auth, client }
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    assert.ok(isSwitchboardError(err), String(err))
    return err.code
  }
  return 'resolved'
}

describe('daemon directory', () => {
  const cleanups: (() => Promise<void>)[] = []
  after(async () => {
    for (const c of cleanups.reverse()) await c()
  })

  test('socket is world-connectable, daemon.pub world-readable, the key file private', async () => {
    const s = await setup()
    cleanups.push(
      () => s.daemon.close(),
      () => s.tmp.cleanup(),
    )
    assert.equal(statSync(s.socket).mode & 0o777, 0o666)
    assert.equal(statSync(s.home).mode & 0o777, 0o755)
    assert.equal(statSync(joinPath(s.home, 'daemon.pub')).mode & 0o777, 0o644)
    assert.equal(statSync(joinPath(s.home, 'daemon.key')).mode & 0o777, 0o600)
    assert.deepEqual(s.daemon.addresses, [`unix:${s.socket}`])
  })

  test('register needs a login; the policy and the limits refuse with codes', async () => {
    const s = await setup({ maxEntriesPerConnection: 2, maxEntryBytes: 2048 })
    cleanups.push(
      () => s.daemon.close(),
      () => s.tmp.cleanup(),
    )
    const anonymous = s.client(false)
    cleanups.push(async () => anonymous.close())
    assert.equal(await code(anonymous.publish(entry('a', 'a1'))), 'NOT_PERMITTED')
    const d = s.client()
    cleanups.push(async () => d.close())
    assert.equal(await code(d.publish(entry('forbidden', 'f1'))), 'NOT_PERMITTED')
    await d.publish(entry('a', 'a1'))
    await d.publish(entry('a', 'a2'))
    assert.equal(await code(d.publish(entry('a', 'a3'))), 'DAEMON_LIMIT')
    const big = {
      ...entry('b', 'b1'),
      topics: Array.from({ length: 50 }, (_, i) => `topic-${i}-${'x'.repeat(40)}`),
    }
    const d2 = s.client()
    cleanups.push(async () => d2.close())
    assert.equal(await code(d2.publish(big)), 'DAEMON_LIMIT')
    assert.deepEqual(
      (await d2.list()).map((e) => e.instance),
      ['a1', 'a2'],
    )
    assert.ok(s.auth.logins >= 2)
  })

  test('watch sees join, change and leave; a lease without heartbeats ends', async () => {
    const s = await setup()
    cleanups.push(
      () => s.daemon.close(),
      () => s.tmp.cleanup(),
    )
    const watcher = s.client()
    cleanups.push(async () => watcher.close())
    const seen: DirectoryChange[] = []
    watcher.watch((c) => seen.push(c))
    await watcher.settled()
    const d = s.client(true, 200)
    await d.publish(entry('a', 'a1'))
    await waitFor(() => seen.length >= 1, { what: 'the join' })
    await d.publish({ ...entry('a', 'a1'), topics: ['t'] })
    await waitFor(() => seen.length >= 2, { what: 'the change' })
    assert.deepEqual(
      seen.map((c) => c.type),
      ['join', 'change'],
    )
    // Stop heartbeating without a clean close: the lease must end by itself.
    // biome-ignore lint/suspicious/noExplicitAny: reaching the timer to silence the heartbeats
    clearInterval((d as any).heartbeatTimer)
    const started = performance.now()
    await waitFor(() => seen.length >= 3, { what: 'the lease to end', timeoutMs: 5000 })
    const took = performance.now() - started
    assert.equal(seen[2]!.type, 'leave')
    assert.ok(took >= 100, `the lease ended after ${took} ms, before it could have expired`)
    d.close()
  })

  test('heartbeats keep a lease alive; a clean close ends it at once', async () => {
    const s = await setup()
    cleanups.push(
      () => s.daemon.close(),
      () => s.tmp.cleanup(),
    )
    const watcher = s.client()
    cleanups.push(async () => watcher.close())
    const seen: DirectoryChange[] = []
    watcher.watch((c) => seen.push(c))
    await watcher.settled()
    const d = s.client(true, 150)
    await d.publish(entry('a', 'a1'))
    await waitFor(() => seen.length >= 1, { what: 'the join' })
    // Six leases long with heartbeats: still there.
    const until = performance.now() + 900
    await waitFor(() => performance.now() >= until, { what: 'six leases to pass', intervalMs: 50 })
    assert.deepEqual(
      seen.map((c) => c.type),
      ['join'],
    )
    assert.equal(s.daemon.size, 1)
    // A long lease, then a clean close: the leave comes long before the lease would end.
    const long = s.client(true, 60_000)
    await long.publish(entry('b', 'b1'))
    await waitFor(() => seen.length >= 2, { what: 'b to join' })
    long.close()
    await waitFor(() => seen.length >= 3, { what: 'b to leave on close', timeoutMs: 5000 })
    assert.equal(seen[2]!.type, 'leave')
    assert.equal(seen[2]!.entry.instance, 'b1')
    d.close()
  })

  test('two joined peers find and call each other through the daemon', async () => {
    const s = await setup()
    cleanups.push(
      () => s.daemon.close(),
      () => s.tmp.cleanup(),
    )
    const runtimeDir = (await makeRuntimeDir('sbp-')).path
    const a = await join({ name: 'alpha', directory: s.address, runtimeDir, leaseMs: 1000 })
    const b = await join({ name: 'beta', directory: s.address, runtimeDir, leaseMs: 1000 })
    cleanups.push(async () => {
      await a.leave()
      await b.leave()
    })
    a.handle('hi', (x) => `alpha got ${String(x)}`)
    b.handle('hi', (x) => `beta got ${String(x)}`)
    assert.equal(await a.request('beta', 'hi', 1), 'beta got 1')
    assert.equal(await b.request('alpha', 'hi', 2), 'alpha got 2')
    await waitFor(() => a.peers().some((p) => p.name === 'beta'), { what: 'alpha to see beta' })
    const left = new Promise<void>((resolve) =>
      a.on('peers', (c) => c.type === 'leave' && c.peer.name === 'beta' && resolve()),
    )
    await b.leave()
    await left
    const err = await a.request('beta', 'hi', 3).catch((e: unknown) => e)
    assert.ok(isSwitchboardError(err) && err.code === 'PEER_NOT_FOUND', String(err))
  })

  test('over TCP: the daemon key is pinned, the port defaults to 4455', async () => {
    assert.equal(tcpAddressOf('0.0.0.0'), 'tcp://0.0.0.0:4455')
    assert.equal(tcpAddressOf('127.0.0.1:0'), 'tcp://127.0.0.1:0')
    assert.equal(tcpAddressOf('tcp://[::1]'), 'tcp://[::1]:4455')
    assert.equal(daemonDialAddress('tcp://example.org'), 'tcp://example.org:4455')
    assert.equal(daemonDialAddress('tcp://example.org:99'), 'tcp://example.org:99')
    const tmp = await makeRuntimeDir('sbt-')
    const daemon = await startDaemon({ socket: false, tcp: '127.0.0.1:0', keyFile: joinPath(tmp.path, 'k') })
    cleanups.push(
      () => daemon.close(),
      () => tmp.cleanup(),
    )
    const address = daemon.addresses[0]!
    assert.match(address, /^tcp:\/\/127\.0\.0\.1:\d+$/)
    const runtimeDir = joinPath(tmp.path, 'rt')
    await assert.rejects(join({ name: 'nokey', directory: address, runtimeDir }), {
      code: 'INVALID_ARGUMENT',
    })
    const wrongKey = generateKeyPair().publicKey
    // A client that pinned another key cannot complete the handshake with this daemon.
    await assert.rejects(join({ name: 'x', directory: address, runtimeDir, daemonKey: wrongKey }), {
      code: 'HANDSHAKE_FAILED',
    })
    const a = await join({ name: 'alpha', directory: address, runtimeDir, daemonKey: daemon.publicKey })
    const b = await join({ name: 'beta', directory: address, runtimeDir, daemonKey: daemon.publicKey })
    cleanups.push(async () => {
      await a.leave()
      await b.leave()
    })
    b.handle('ping', () => 'pong')
    assert.equal(await a.request('beta', 'ping'), 'pong')
  })

  test('a lease shorter than asked: heartbeats follow what the daemon granted', async () => {
    const s = await setup({ maxLeaseMs: 200 })
    cleanups.push(
      () => s.daemon.close(),
      () => s.tmp.cleanup(),
    )
    const watcher = s.client()
    cleanups.push(async () => watcher.close())
    const seen: DirectoryChange[] = []
    watcher.watch((c) => seen.push(c))
    await watcher.settled()
    const d = s.client(true, 60_000)
    cleanups.push(async () => d.close())
    await d.publish(entry('a', 'a1'))
    // Five granted leases pass: heartbeats at a third of 200 ms keep it alive.
    const until = performance.now() + 1000
    await waitFor(() => performance.now() >= until, { what: 'five granted leases to pass', intervalMs: 50 })
    assert.deepEqual(
      seen.map((c) => c.type),
      ['join'],
    )
  })

  test('a lost connection keeps the lease: the client reconnects and heartbeats on, nobody sees a leave', async () => {
    const s = await setup()
    cleanups.push(
      () => s.daemon.close(),
      () => s.tmp.cleanup(),
    )
    const proxy = await startFaultProxy({
      listen: `unix:${joinPath(s.tmp.path, 'proxy.sock')}`,
      target: s.address,
    })
    cleanups.push(() => proxy.close())
    const watcher = s.client()
    cleanups.push(async () => watcher.close())
    const seen: DirectoryChange[] = []
    watcher.watch((c) => seen.push(c))
    await watcher.settled()
    const d = openDaemonDirectory({
      address: proxy.address,
      connect: { keys: generateKeyPair(), serverKey: s.daemon.publicKey },
      // Long enough that three reconnects and logins on a loaded machine fit inside one lease.
      leaseMs: 2000,
      login: cookieLogin(s.home),
    })
    cleanups.push(async () => d.close())
    await d.publish(entry('a', 'a1'))
    await waitFor(() => seen.length === 1, { what: 'the join' })
    const issued = s.auth.logins
    for (let cut = 0; cut < 3; cut++) {
      const back = waitFor<[string, string]>(d.link, 'state', {
        what: 'the link to reconnect',
        filter: (_from, to) => to === 'ready',
      })
      proxy.cutAll()
      await back
    }
    // It logged in again on the new connections, and a heartbeat or a re-registration moved the
    // lease over (the same principal): still one join, no leave, no churn.
    await waitFor(() => s.auth.logins > issued, { what: 'a login on a new connection' })
    const until = performance.now() + 4500
    await waitFor(() => performance.now() >= until, { what: 'two leases to pass', intervalMs: 50 })
    assert.deepEqual(
      seen.map((c) => `${c.type}:${c.entry.instance}`),
      ['join:a1'],
    )
    assert.equal(s.daemon.size, 1)
  })

  test('with the daemon down, calls by name go on, subscriptions start, peers leave at once', async () => {
    const s = await setup()
    cleanups.push(() => s.tmp.cleanup())
    const runtimeDir = joinPath(s.tmp.path, 'rt')
    const a = await join({ name: 'alpha', directory: s.address, runtimeDir, leaseMs: 1000 })
    const b = await join({ name: 'beta', directory: s.address, runtimeDir, leaseMs: 1000 })
    b.handle('ping', () => 'pong')
    await waitFor(() => a.peers().length === 1, { what: 'alpha to see beta' })
    await s.daemon.close()
    // Lookups answer from the last known entries, and new subscriptions start, without the daemon.
    assert.equal(
      await withTimeout(a.request('beta', 'ping'), 3000, 'a call by name with the daemon down'),
      'pong',
    )
    const sub = a.subscribe('news')
    await withTimeout(sub.ready, 3000, 'a subscription with the daemon down')
    await withTimeout(b.leave(), 3000, 'leave() with the daemon down')
    await withTimeout(a.leave(), 3000, 'leave() with the daemon down')
  })

  test('after a daemon restart: who registers again stays, who died meanwhile leaves one lease later', async () => {
    const s = await setup()
    cleanups.push(() => s.tmp.cleanup())
    const watcher = s.client(true, 300)
    cleanups.push(async () => watcher.close())
    const seen: string[] = []
    watcher.watch((c) => seen.push(`${c.type}:${c.entry.instance}`))
    await watcher.settled()
    const stays = s.client(true, 300)
    const dies = s.client(true, 300)
    cleanups.push(async () => stays.close())
    await stays.publish(entry('a', 'stays'))
    await dies.publish(entry('a', 'dies'))
    await waitFor(() => seen.length === 2, { what: 'both joins' })
    await s.daemon.close()
    await dies.closeAndWait()
    const again = await startDaemon({
      socket: s.socket,
      auth: {},
      limits: { minLeaseMs: 50 },
    })
    cleanups.push(() => again.close())
    assert.equal(again.publicKey, s.daemon.publicKey)
    await waitFor(() => seen.includes('leave:dies'), { what: 'the dead one to leave', timeoutMs: 10_000 })
    assert.deepEqual(seen, ['join:stays', 'join:dies', 'leave:dies'])
    assert.deepEqual(
      (await watcher.list()).map((e) => e.instance),
      ['stays'],
    )
  })
})

/**
 * The relay in one process, over real unix sockets: a test-local hub (listen() + RelayHub) and
 * peers linked to it.
 * - Refusals are coded: PEER_NOT_FOUND, NOT_PERMITTED (mayReach), INSECURE_TRANSPORT (a target
 *   without a handshake), PROTOCOL_ERROR (a malformed header).
 * - The tap is a real witness: with an inner session in plain text (insecure on both ends, on
 *   purpose) the payload is found in what the hub forwarded (relay-users.test.ts shows it is not
 *   with keys).
 * - A relayed connection ends when either side closes, and the hub forgets it.
 * - routedDial: falls back on a missing socket and on a direct dial that does not answer in
 *   time; not on other errors; never without a handshake.
 * - Joined peers: one whose socket is gone is reached through the relay, and peers() shows it.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { rename } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { isSwitchboardError } from '../../src/errors.ts'
import { connect, type Link, listen, type Server } from '../../src/index.ts'
import { join } from '../../src/peer/join.ts'
import type { JoinedPeer } from '../../src/peer/joined-peer.ts'
import { dialRelayed, relayAcceptHandler } from '../../src/peer/relay-ends.ts'
import { RELAY_ACCEPT_METHOD, RELAY_METHOD } from '../../src/peer/relay-header.ts'
import { type Route, routedDial } from '../../src/peer/routed-dial.ts'
import type { Handler } from '../../src/rpc/types.ts'
import { generateKeyPair, generateSecret } from '../../src/session/key-files.ts'
import { dial } from '../../src/transport/dial.ts'
import type { Transport } from '../../src/transport/types.ts'
import { type HubServer, REGISTER_METHOD, startHub, type Tap } from '../helpers/relay-hub.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor } from '../helpers/wait.ts'

let dir: RuntimeDir
let serial = 0
const cleanups: (() => Promise<unknown> | unknown)[] = []

before(async () => {
  dir = await makeRuntimeDir('sb-rel-')
})
after(async () => {
  for (const c of cleanups.reverse()) await c()
  await dir.cleanup()
})

async function hubWith(options: Parameters<typeof startHub>[2] = {}, tap?: Tap): Promise<HubServer> {
  const hub = await startHub(`unix:${dir.path}/hub${++serial}.sock`, { runtimeDir: dir.path }, options, tap)
  cleanups.push(() => hub.close())
  return hub
}

async function linkTo(hub: HubServer, handlers: Record<string, Handler> = {}): Promise<Link> {
  const link = await connect(hub.address, { runtimeDir: dir.path, waitForReady: true, handlers })
  cleanups.push(() => link.abort())
  return link
}

/** A target registered with the hub under `instance`, serving relay.accept with `accept`. */
async function registered(hub: HubServer, instance: string, accept: Handler): Promise<Link> {
  const link = await linkTo(hub, { [RELAY_ACCEPT_METHOD]: accept })
  await link.request(REGISTER_METHOD, { instance })
  return link
}

/** A target whose relayed connections go to `adopt`. */
function targetOn(hub: HubServer, instance: string, adopt: (t: Transport) => void): Promise<Link> {
  return registered(hub, instance, relayAcceptHandler(adopt))
}

async function serverWith(options: Parameters<typeof listen>[1]): Promise<Server> {
  const server = await listen(`unix:${dir.path}/srv${++serial}.sock`, { runtimeDir: dir.path, ...options })
  server.handle<Uint8Array, Uint8Array>('echo', (data) => data)
  cleanups.push(() => server.close())
  return server
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isSwitchboardError(err), String(err))
    assert.equal(err.code, code, err.message)
    return true
  })
}

describe('refusals are coded', () => {
  it('PEER_NOT_FOUND for an instance the hub does not know', async () => {
    const hub = await hubWith()
    const dialer = await linkTo(hub)
    await rejectsWith(dialRelayed(dialer, 'nobody'), 'PEER_NOT_FOUND')
    assert.equal(hub.hub.getStats().active, 0)
  })

  it('NOT_PERMITTED when mayReach says no; the target is never called', async () => {
    let asked = 0
    const hub = await hubWith({
      mayReach: (_ctx, target) => {
        asked++
        return target.instance !== 'private'
      },
    })
    let called = 0
    await targetOn(hub, 'private', () => {
      called++
    })
    const dialer = await linkTo(hub)
    await rejectsWith(dialRelayed(dialer, 'private'), 'NOT_PERMITTED')
    assert.equal(asked, 1)
    assert.equal(called, 0)
  })

  it('NOT_PERMITTED is final for a link: it closes instead of redialing', async () => {
    const hub = await hubWith({ mayReach: () => false })
    await targetOn(hub, 'private', () => {})
    const dialer = await linkTo(hub)
    const link = await connect('unix:/nonexistent/never-dialed.sock', {
      secret: generateSecret(),
      dial: (_address, signal) => dialRelayed(dialer, 'private', signal),
    })
    const closed = new Promise<Error | undefined>((resolve) => link.once('close', resolve))
    await rejectsWith(link.request('echo', new Uint8Array(1)), 'NOT_PERMITTED')
    assert.ok(isSwitchboardError(await closed, 'NOT_PERMITTED'))
  })

  it('INSECURE_TRANSPORT when the target would serve a relayed connection without a handshake', async () => {
    const hub = await hubWith()
    const plain = await serverWith({})
    await targetOn(hub, 'plain', (t) => plain.adopt(t))
    const dialer = await linkTo(hub)
    await rejectsWith(dialRelayed(dialer, 'plain'), 'INSECURE_TRANSPORT')
    assert.equal(plain.connections.size, 0)
  })

  it('PROTOCOL_ERROR for a malformed header', async () => {
    const hub = await hubWith()
    const dialer = await linkTo(hub)
    async function* badHeader() {
      yield Uint8Array.of(9, 0, 3, 0x61, 0x62, 0x63)
    }
    await rejectsWith(dialer.request(RELAY_METHOD, badHeader()), 'PROTOCOL_ERROR')
    async function* shortHeader() {
      yield Uint8Array.of(1, 0)
    }
    await rejectsWith(dialer.request(RELAY_METHOD, shortHeader()), 'PROTOCOL_ERROR')
  })
})

describe('relayed sessions', () => {
  it('the tap sees an inner session in plain text (the control of the ciphertext test)', async () => {
    const captured: Buffer[] = []
    const hub = await hubWith({}, (_direction, chunk) => captured.push(Buffer.from(chunk)))
    const target = await serverWith({ insecure: true, compression: [] })
    await targetOn(hub, 'clear', (t) => target.adopt(t))
    const dialer = await linkTo(hub)
    const link = await connect(target.address, {
      runtimeDir: dir.path,
      insecure: true,
      compression: [],
      waitForReady: true,
      dial: (_address, signal) => dialRelayed(dialer, 'clear', signal),
    })
    cleanups.push(() => link.abort())
    const payload = randomBytes(4096)
    const answer = await link.request<Uint8Array>('echo', payload)
    assert.ok(Buffer.from(answer).equals(payload))
    const capture = Buffer.concat(captured)
    assert.ok(
      capture.indexOf(payload.subarray(0, 16)) >= 0,
      'the first window of the payload is in the capture',
    )
    assert.ok(
      capture.indexOf(payload.subarray(4080)) >= 0,
      'the last window of the payload is in the capture',
    )
  })

  it('a keys-mode session through the hub: the target proves the dialer; closing ends it on both sides', async () => {
    const hub = await hubWith()
    const targetKeys = generateKeyPair()
    const dialerKeys = generateKeyPair()
    const target = await serverWith({ keys: targetKeys, allow: [dialerKeys.publicKey] })
    await targetOn(hub, 'keyed', (t) => target.adopt(t))
    const dialer = await linkTo(hub)
    const link = await connect(target.address, {
      runtimeDir: dir.path,
      keys: dialerKeys,
      serverKey: targetKeys.publicKey,
      waitForReady: true,
      dial: (_address, signal) => dialRelayed(dialer, 'keyed', signal),
    })
    assert.equal((await link.request<Uint8Array>('echo', Uint8Array.of(1, 2, 3))).length, 3)
    const [conn] = [...target.connections]
    assert.deepEqual(Buffer.from(conn!.remotePublicKey!), Buffer.from(dialerKeys.publicKey))
    assert.deepEqual(Buffer.from(link.remotePublicKey!), Buffer.from(targetKeys.publicKey))
    assert.equal(hub.hub.getStats().active, 1)
    const gone = new Promise((resolve) => target.once('disconnect', resolve))
    await link.close()
    await gone
    await waitFor(() => hub.hub.getStats().active === 0, { what: 'the hub to forget the relayed connection' })
    assert.ok(hub.hub.getStats().bytesToTarget > 0 && hub.hub.getStats().bytesToDialer > 0)
  })

  it("the target's outer link lost: the relayed session ends on the dialer's side", async () => {
    const hub = await hubWith()
    const secret = generateSecret()
    const target = await serverWith({ secret })
    const targetLink = await targetOn(hub, 'fragile', (t) => target.adopt(t))
    const dialer = await linkTo(hub)
    let transport: Transport | undefined
    const link = await connect(target.address, {
      runtimeDir: dir.path,
      secret,
      waitForReady: true,
      reconnect: false,
      dial: async (_address, signal) => {
        transport = await dialRelayed(dialer, 'fragile', signal)
        return transport
      },
    })
    await link.request('echo', Uint8Array.of(7))
    const closed = new Promise<Error | undefined>((resolve) => link.once('close', resolve))
    targetLink.abort()
    const err = await closed
    assert.ok(isSwitchboardError(err), `the link closed with a coded error: ${err}`)
    await waitFor(() => hub.hub.getStats().active === 0, { what: 'the hub to forget the relayed connection' })
  })
})

describe('the dialer lost', () => {
  it("the dialer's outer link lost: the target's session ends and the hub forgets the relay", async () => {
    const hub = await hubWith()
    const secret = generateSecret()
    const target = await serverWith({ secret })
    await targetOn(hub, 'left', (t) => target.adopt(t))
    const dialer = await linkTo(hub)
    const link = await connect(target.address, {
      runtimeDir: dir.path,
      secret,
      waitForReady: true,
      reconnect: false,
      dial: (_address, signal) => dialRelayed(dialer, 'left', signal),
    })
    cleanups.push(() => link.abort())
    await link.request('echo', Uint8Array.of(3))
    assert.equal(target.connections.size, 1)
    const gone = new Promise((resolve) => target.once('disconnect', resolve))
    dialer.abort()
    await gone
    await waitFor(() => hub.hub.getStats().active === 0, { what: 'the hub to forget the relayed connection' })
  })
})

describe('a relayed link over time', () => {
  it('recovers once the target is back at the hub: the link redials through the relay', async () => {
    const hub = await hubWith()
    const secret = generateSecret()
    const target = await serverWith({ secret })
    const adopt = (t: Transport): void => target.adopt(t)
    const firstTargetLink = await targetOn(hub, 'phoenix', adopt)
    const dialer = await linkTo(hub)
    let dials = 0
    const link = await connect(target.address, {
      runtimeDir: dir.path,
      secret,
      waitForReady: true,
      backoffInitialMs: 20,
      backoffMaxMs: 100,
      dial: (_address, signal) => {
        dials++
        return dialRelayed(dialer, 'phoenix', signal)
      },
    })
    cleanups.push(() => link.abort())
    assert.equal((await link.request<Uint8Array>('echo', Uint8Array.of(1)))[0], 1)
    const down = waitFor(link, 'state', {
      what: 'the link to lose its connection',
      filter: (_f, to) => to !== 'ready',
    })
    firstTargetLink.abort()
    await down
    // Until the target registers again, the hub reaches nobody (its old link is closed): the
    // dialer's redials fail as CONNECT_FAILED and are retried.
    await targetOn(hub, 'phoenix', adopt)
    const answer = await link.request<Uint8Array>('echo', Uint8Array.of(2), { idempotent: true })
    assert.equal(answer[0], 2)
    assert.equal(link.state, 'ready')
    assert.ok(dials >= 2, `dialed ${dials} times`)
  })
})

describe('routedDial', () => {
  it('falls back to the relay on a missing socket and on a direct dial that does not answer in time', async () => {
    const hub = await hubWith()
    const secret = generateSecret()
    const target = await serverWith({ secret })
    await targetOn(hub, 'far', (t) => target.adopt(t))
    const dialer = await linkTo(hub)
    const routes: Route[] = []
    const openRelay = (instance: string, signal: AbortSignal) => dialRelayed(dialer, instance, signal)
    const missing = routedDial({
      direct: (address, signal) => dial(address, { runtimeDir: dir.path, secret, signal }),
      openRelay,
      instance: 'far',
      secure: true,
      onRoute: (r) => routes.push(r),
    })
    const t1 = await missing(`unix:${dir.path}/no-such.sock`, new AbortController().signal)
    t1.abort()
    const silent = routedDial({
      // A direct path that never answers (a black-holed host): only the timeout ends it.
      direct: (_address, signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
        ),
      openRelay,
      instance: 'far',
      secure: true,
      directTimeoutMs: 100,
      onRoute: (r) => routes.push(r),
    })
    const t2 = await silent(target.address, new AbortController().signal)
    t2.abort()
    const reachable = routedDial({
      direct: (address, signal) => dial(address, { runtimeDir: dir.path, secret, signal }),
      openRelay,
      instance: 'far',
      secure: true,
      onRoute: (r) => routes.push(r),
    })
    const t3 = await reachable(target.address, new AbortController().signal)
    t3.abort()
    assert.deepEqual(routes, ['relay', 'relay', 'direct'])
  })

  it('does not fall back on other errors, nor without a handshake', async () => {
    let relayed = 0
    const openRelay = async (): Promise<Transport> => {
      relayed++
      throw new Error('not reached')
    }
    const refused = routedDial({
      direct: (address, signal) => dial(address, { runtimeDir: dir.path, signal }),
      openRelay,
      instance: 'x',
      secure: true,
    })
    // Plain text to a TCP port is refused by the security gate: no route would change that.
    await rejectsWith(refused('tcp://127.0.0.1:1', new AbortController().signal), 'INSECURE_TRANSPORT')
    const plain = routedDial({
      direct: (address, signal) => dial(address, { runtimeDir: dir.path, signal }),
      openRelay,
      instance: 'x',
      secure: false,
    })
    await rejectsWith(
      plain(`unix:${dir.path}/no-such.sock`, new AbortController().signal),
      'INSECURE_TRANSPORT',
    )
    assert.equal(relayed, 0)
  })
})

describe('joined peers', () => {
  it('a peer whose socket is gone is reached through the relay; peers() shows the route', async () => {
    const hub = await hubWith()
    const secret = generateSecret()
    const runtimeDir = dir.path
    const peers: JoinedPeer[] = []
    const hubLinks = new Map<string, Link>()
    const openRelay = (from: () => Link) => (instance: string, signal: AbortSignal) =>
      dialRelayed(from(), instance, signal)
    for (const name of ['a', 'b', 'c']) {
      const peer: JoinedPeer = await join({
        name,
        runtimeDir,
        secret,
        openRelay: openRelay(() => hubLinks.get(name)!),
      })
      peers.push(peer)
      cleanups.push(() => peer.leave())
      peer.handle('whoami', () => name)
      hubLinks.set(name, await registered(hub, peer.instance, peer.relayAccept))
    }
    const [a, b] = peers as [JoinedPeer, JoinedPeer, JoinedPeer]
    // b's socket file moves away: its server still runs, but nobody can connect to it directly.
    const socket = b.address.slice('unix:'.length)
    await rename(socket, `${socket}.away`)
    cleanups.push(() => rename(`${socket}.away`, socket).catch(() => {}))
    assert.equal(await a.request('b', 'whoami'), 'b')
    assert.equal(await a.request('c', 'whoami'), 'c')
    const routes = Object.fromEntries(a.peers().map((p) => [p.name, p.route]))
    assert.deepEqual(routes, { b: 'relay', c: 'direct' })
    assert.equal(hub.hub.getStats().active, 1)
  })
})

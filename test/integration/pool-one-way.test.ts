/**
 * One-way messages (send) through a pool of several connections to a real server over a unix
 * socket: each arrives exactly once, and they go where the pool sends them. A one-way message
 * leaves no pending count, so it takes the least loaded connection, the first of a tie (which
 * keeps idle one-way traffic on one connection, in order); requests held open make the
 * connections' loads differ, and the sends then spread over the pool as the loads shift.
 * The server tells connections apart by ctx.peer (the connection a message arrived on).
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { connect, listen, type Peer } from '../../src/index.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

test('sends through a pool of 4 arrive exactly once each: spread over the connections as their loads shift, on one when idle', async () => {
  const dir = await makeRuntimeDir()
  after(() => dir.cleanup())
  const server = await listen('pool-one-way', { runtimeDir: dir.path })
  after(() => server.close())

  const held: (() => void)[] = []
  server.handle('hold', () => new Promise<void>((resolve) => held.push(resolve)))
  const arrivals = new Map<number, number>()
  const byConnection = new Map<Peer, number[]>()
  server.handle('note', (seq: number, ctx) => {
    arrivals.set(seq, (arrivals.get(seq) ?? 0) + 1)
    const list = byConnection.get(ctx.peer) ?? []
    list.push(seq)
    byConnection.set(ctx.peer, list)
  })

  const link = await connect('pool-one-way', {
    runtimeDir: dir.path,
    waitForReady: true,
    poolMax: 4,
    poolGrowThreshold: 1,
  })
  after(() => link.close())

  // Requests held open grow the pool to 4 connections.
  const holds: Promise<unknown>[] = []
  for (let i = 0; i < 8; i++) holds.push(link.request('hold', undefined, { timeout: 20_000 }))
  await waitFor(() => link.getStats().connections === 4 && server.connections.size === 4, {
    what: 'a pool of 4 connections',
    describe: () => `${link.getStats().connections} at the link, ${server.connections.size} at the server`,
  })

  // Rounds of sends, each followed by one more held request: that request takes the least loaded
  // connection, so the next round's least loaded connection is another one.
  const perRound = 250
  const rounds = 8
  const sends: Promise<void>[] = []
  let seq = 0
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < perRound; i++) sends.push(link.send('note', seq++))
    holds.push(link.request('hold', undefined, { timeout: 20_000 }))
    // The request must be under way before the next round picks its connection.
    await waitFor(() => held.length === 8 + r + 1, { what: `hold ${8 + r + 1} to reach the server` })
  }
  await withTimeout(Promise.all(sends), 10_000, 'every send to be written')
  const total = perRound * rounds
  await waitFor(() => arrivals.size === total, {
    what: `${total} distinct messages at the server`,
    describe: () => `${arrivals.size} arrived`,
  })

  for (const release of held.splice(0)) release()
  await withTimeout(Promise.all(holds), 10_000, 'the held requests')
  // Every request answered, so every message before them on their connections was processed.
  assert.equal(arrivals.size, total)
  const repeats = [...arrivals].filter(([, n]) => n !== 1)
  assert.deepEqual(repeats, [], 'no message arrived twice')
  for (let s = 0; s < total; s++) assert.equal(arrivals.get(s), 1, `message ${s} arrived once`)

  for (const peer of byConnection.keys()) {
    assert.ok(server.connections.has(peer as never), 'each arrival names a live server connection')
  }
  // The 8 first holds all went to the first connection (the only one up when they started); each
  // round then took the least loaded of the other three, and its hold moved the choice on.
  const connOf = new Map<number, Peer>()
  for (const [peer, list] of byConnection) for (const s of list) connOf.set(s, peer)
  const roundConn = Array.from({ length: rounds }, (_, r) => {
    const peer = connOf.get(r * perRound)!
    for (let i = 0; i < perRound; i++)
      assert.equal(connOf.get(r * perRound + i), peer, `round ${r} on one connection`)
    return peer
  })
  for (let r = 1; r < rounds; r++) assert.notEqual(roundConn[r], roundConn[r - 1], `round ${r} moved on`)
  assert.equal(byConnection.size, 3, 'the sends spread over the three connections without the first holds')
  // Within one connection, messages keep their send order.
  for (const list of byConnection.values()) {
    assert.deepEqual(
      list,
      [...list].sort((a, b) => a - b),
    )
  }
  assert.equal(link.getStats().resent, 0, 'nothing had to be sent again')

  // With no request waiting anywhere, all connections tie: one-way traffic stays on the first,
  // so it arrives in send order.
  assert.equal(link.getStats().connections, 4)
  const idleStart = seq
  const idle: Promise<void>[] = []
  for (let i = 0; i < 500; i++) idle.push(link.send('note', seq++))
  await withTimeout(Promise.all(idle), 10_000, 'the idle sends to be written')
  await waitFor(() => arrivals.size === seq, { what: 'the idle sends to arrive' })
  const idleConns = new Set<Peer>()
  for (const [peer, list] of byConnection) if (list.some((s) => s >= idleStart)) idleConns.add(peer)
  assert.equal(idleConns.size, 1)
  const [only] = idleConns
  assert.deepEqual(
    byConnection.get(only!)!.filter((s) => s >= idleStart),
    Array.from({ length: 500 }, (_, i) => idleStart + i),
  )
  for (let s = idleStart; s < seq; s++) assert.equal(arrivals.get(s), 1)
})

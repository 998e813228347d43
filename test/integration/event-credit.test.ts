/**
 * Per-subscription credit (protocol v2): a subscriber announces a window in events; the publisher
 * never has more than that many events outstanding toward it and holds the rest until credit
 * comes back, so nothing is dropped on the way and the publisher can see a subscriber that stops
 * taking events. Also the hot-path subscribe(topic, onEvent) and the encode-once fan-out.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { connect, listen, type Server } from '../../src/index.ts'
import { msgpackCodec } from '../../src/rpc/codec.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

let dir: RuntimeDir
let server: Server
let address = ''

before(async () => {
  dir = await makeRuntimeDir()
  address = `unix:${join(dir.path, 'events.sock')}`
  server = await listen(address)
})
after(async () => {
  await server?.close()
  await dir?.cleanup()
})

function serverConnection(): NonNullable<ReturnType<typeof firstConnection>> {
  const conn = firstConnection()
  assert.ok(conn, 'the server has the connection')
  return conn
}
function firstConnection() {
  return [...server.connections][0]
}

test('a window of 4 events: the publisher holds the rest until credit returns; all 300 arrive in order', async () => {
  const link = await connect(address, { waitForReady: true })
  const sub = link.subscribe<number>('ticks', { maxQueued: 4, overflow: 'drop-newest' })
  await withTimeout(sub.ready, 5000, 'the subscription')
  const conn = serverConnection()
  const publishing = Array.from({ length: 300 }, (_, i) => server.publish('ticks', i))
  // Published in one turn: at most 4 may be outstanding, the rest wait at the publisher.
  assert.ok(conn.getStats().eventsWaiting >= 296, `events held for credit: ${conn.getStats().eventsWaiting}`)
  const got: number[] = []
  for await (const n of sub) {
    got.push(n)
    if (got.length === 300) break
  }
  await withTimeout(Promise.all(publishing), 5000, 'every publish to resolve')
  assert.deepEqual(
    got,
    Array.from({ length: 300 }, (_, i) => i),
  )
  assert.equal(sub.dropped, 0, 'credit kept the subscriber queue within its bound: nothing dropped')
  assert.equal(conn.getStats().eventsWaiting, 0)
  await link.close()
})

test('subscribe(topic, onEvent): 5,000 events reach the callback in order, none left held', async () => {
  const link = await connect(address, { waitForReady: true })
  let taken = 0
  let inOrder = true
  const sub = link.subscribe<number>('slow', (n) => {
    if (n !== taken) inOrder = false
    taken++
  })
  await withTimeout(sub.ready, 5000, 'the subscription')
  const conn = serverConnection()
  for (let i = 0; i < 5000; i++) void server.publish('slow', i)
  await waitFor(() => taken === 5000, { what: 'every event to reach the callback' })
  assert.ok(inOrder, 'in publish order')
  assert.equal(conn.getStats().eventsWaiting, 0)
  sub.close()
  await link.close()
})

test('fan-out encodes a value once per codec and each subscriber gets it once', async () => {
  const links = await Promise.all([1, 2, 3].map(() => connect(address, { waitForReady: true })))
  const got = links.map(() => [] as unknown[])
  const subs = links.map((l, i) => l.subscribe('fan', (v) => got[i]!.push(v)))
  await Promise.all(subs.map((s) => withTimeout(s.ready, 5000, 'the subscriptions')))
  let encodes = 0
  const value = {
    get n() {
      encodes++
      return 1
    },
  }
  msgpackCodec.encode(value)
  const readsPerEncode = encodes
  encodes = 0
  await server.publish('fan', value)
  await waitFor(() => got.every((g) => g.length === 1), { what: 'each subscriber to get the event' })
  assert.equal(encodes, readsPerEncode, 'one encoding for three subscribers')
  for (const g of got) assert.deepEqual(g, [{ n: 1 }])
  await Promise.all(links.map((l) => l.close()))
})

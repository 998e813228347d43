/**
 * The pool: it grows while messages wait (never above poolMax, never more than
 * maxPendingConnects dials at once, counted at the server too) and shrinks back after idling;
 * ordered messages stay in order across a reconnect of a pool of 4, and when one fails those
 * queued behind it fail with ORDER_BROKEN instead of overtaking it.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { connect, type SwitchboardError } from '../../src/index.ts'
import { type FaultProxy, startFaultProxy } from '../../src/testing/index.ts'
import { type Child, startProgram } from '../helpers/child.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

const program = 'test/fixtures/programs/delivery-server.ts'
let dir: RuntimeDir
let server: Child
let proxy: FaultProxy
let socket: string

before(async () => {
  dir = await makeRuntimeDir()
  socket = `unix:${join(dir.path, 'pool.sock')}`
  server = await startProgram(program, [socket, ''])
  proxy = await startFaultProxy({ listen: 'tcp://127.0.0.1:0', target: socket })
})
after(async () => {
  await proxy?.close()
  await server?.kill()
  await dir?.cleanup()
})

test('pool grows with a gated handler: 1 before, more during, never above max or maxPendingConnects, 1 after idling', async () => {
  const link = await connect(socket, { insecure: true, waitForReady: true, poolIdleMs: 300 })
  assert.equal(link.getStats().connections, 1)
  await link.request('close-gate')
  let most = 0
  const watch = setInterval(() => {
    most = Math.max(most, link.getStats().connections)
  }, 2)
  const gated = Array.from({ length: 300 }, () =>
    link.request<number>('gated', undefined, { timeout: 20_000 }),
  )
  await waitFor(() => link.getStats().connections === 4, {
    what: 'the pool to grow to 4',
    describe: () => JSON.stringify(link.getStats().connections),
  })
  await link.request('open-gate')
  const seen = await withTimeout(Promise.all(gated), 20_000, 'the gated calls')
  clearInterval(watch)
  const stats = link.getStats()
  const atServer = await link.request<{ maxHandshakingSeen: number }>('server-stats')
  assert.ok(Math.max(...seen) > 1, 'the server saw more than one connection during')
  assert.ok(most <= 4, `never above poolMax (saw ${most})`)
  assert.ok(stats.maxPendingDialsSeen <= 2, `never more than 2 dials (saw ${stats.maxPendingDialsSeen})`)
  assert.ok(atServer.maxHandshakingSeen <= 2, `server saw ${atServer.maxHandshakingSeen} handshakes at once`)
  await waitFor(() => link.getStats().connections === 1, {
    what: 'the pool to shrink back to 1 after idling',
  })
  assert.equal(await link.request('echo', 'still here'), 'still here')
  await link.close()
})

test('ordered + idempotent requests arrive in send order across a reconnect of a pool of 4', async () => {
  const link = await connect(proxy.address, {
    insecure: true,
    waitForReady: true,
    poolGrowThreshold: 1,
    backoffInitialMs: 10,
  })
  const filler = Array.from({ length: 40 }, (_, i) => link.request('work', { id: `f${i}`, ms: 100 }))
  await waitFor(() => link.getStats().connections === 4, { what: 'a pool of 4' })
  const base = await link.request<number[]>('arrivals')
  assert.equal(base.length, 0)
  let done = 0
  const ordered = Array.from({ length: 200 }, (_, n) =>
    link.request<number>('arrive', n, { ordered: true, idempotent: true, timeout: 20_000 }).then((v) => {
      done++
      return v
    }),
  )
  await waitFor(() => done >= 60, { what: '60 ordered calls answered' })
  proxy.cutAll()
  const results = await withTimeout(Promise.all(ordered), 20_000, 'the ordered calls')
  await Promise.allSettled(filler)
  assert.deepEqual(
    results,
    Array.from({ length: 200 }, (_, n) => n),
  )
  const arrivals = await link.request<number[]>('arrivals')
  assert.deepEqual(
    arrivals,
    Array.from({ length: 200 }, (_, n) => n),
    'each ran once, in send order',
  )
  assert.ok(proxy.accepted > 4, `the 4 connections were cut and rebuilt (${proxy.accepted} accepted)`)
  await link.close()
})

test('an ordered message that fails takes those queued behind it down with ORDER_BROKEN (never run)', async () => {
  const link = await connect(proxy.address, { insecure: true, waitForReady: true, backoffInitialMs: 10 })
  const first = link.request('work', { id: 'ord-first', ms: 60_000 }, { ordered: true, timeout: 20_000 })
  const behind = Array.from({ length: 5 }, (_, i) =>
    link.request('arrive', 1000 + i, { ordered: true, timeout: 20_000 }),
  )
  const unordered = link.request('echo', 'free', { timeout: 20_000 })
  assert.equal(await unordered, 'free', 'unordered messages are not held back')
  proxy.cutAll()
  await assert.rejects(first, (e: SwitchboardError) => e.code === 'OUTCOME_UNKNOWN')
  for (const b of behind) await assert.rejects(b, (e: SwitchboardError) => e.code === 'ORDER_BROKEN')
  await withTimeout(link.ready(), 10_000, 'the link to reconnect')
  assert.equal(await link.request('echo', 'after', { ordered: true }), 'after', 'a new ordered chain starts')
  const arrivals = await link.request<number[]>('arrivals')
  assert.ok(!arrivals.some((n) => n >= 1000), 'the ones behind never ran')
  await link.close()
})

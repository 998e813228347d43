/**
 * Reconnects: 100 cut/reconnect cycles leave no socket, timer or listener behind; the server's
 * handle of a client (keyed by identity and link id) calls it back on its new connection;
 * subscriptions survive a reconnect; a corrupted stream gets a coded refusal and the link
 * recovers once the fault is gone; reconnect: false closes the link instead.
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
  socket = `unix:${join(dir.path, 'reconnect.sock')}`
  server = await startProgram(program, [socket, ''])
  proxy = await startFaultProxy({ listen: 'tcp://127.0.0.1:0', target: socket, seed: 4 })
})
after(async () => {
  await proxy?.close()
  await server?.kill()
  await dir?.cleanup()
})

function resources(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1
  return counts
}

test('100 reconnect cycles: no leaked sockets, timers or listeners', async () => {
  const link = await connect(proxy.address, { insecure: true, waitForReady: true, backoffInitialMs: 5 })
  assert.equal(await link.request('echo', 0), 0)
  await waitFor(() => proxy.connections.size === 1, { what: 'one proxied connection' })
  const baseline = JSON.stringify(resources())
  const listeners = link.eventNames().map((n) => `${String(n)}:${link.listenerCount(n)}`)
  const states: string[] = []
  link.on('state', (_from: string, to: string) => states.push(to))
  for (let i = 1; i <= 100; i++) {
    proxy.cutAll()
    await withTimeout(
      new Promise<void>((resolve) => link.once('ready', () => resolve())),
      10_000,
      `reconnect ${i}`,
    )
    assert.equal(await link.request('echo', i), i)
  }
  link.removeAllListeners('state')
  assert.equal(states.length, 200)
  assert.deepEqual([...new Set(states)].sort(), ['ready', 'reconnecting'])
  const stats = link.getStats()
  assert.equal(stats.reconnects, 100)
  assert.equal(stats.connections, 1)
  assert.equal(stats.inFlight, 0)
  assert.equal(stats.queuedCalls, 0)
  assert.equal(stats.pendingCalls, 0)
  assert.deepEqual(
    link.eventNames().map((n) => `${String(n)}:${link.listenerCount(n)}`),
    listeners,
    'no listener added per cycle',
  )
  await waitFor(() => JSON.stringify(resources()) === baseline, {
    what: 'active handles back to the baseline',
    describe: () => `${JSON.stringify(resources())} vs ${baseline}`,
  })
  await link.close()
})

test('server-to-client call after the client reconnected: the handle of the first connection reaches the new one', async () => {
  const link = await connect(proxy.address, {
    insecure: true,
    waitForReady: true,
    backoffInitialMs: 5,
    handlers: { whoami: () => `client ${process.pid}` },
  })
  const linkId = Buffer.from(link.linkId).toString('hex')
  const before = await link.request<{ answer: string; clients: number }>('call-back', linkId)
  assert.equal(before.answer, `client ${process.pid}`)
  proxy.cutAll()
  await withTimeout(
    new Promise<void>((resolve) => link.once('ready', () => resolve())),
    10_000,
    'the reconnect',
  )
  const afterCut = await link.request<{ answer: string; clients: number }>('call-back', linkId)
  assert.equal(afterCut.answer, `client ${process.pid}`)
  await link.close()
})

test('a subscription survives a reconnect without user action', async () => {
  const link = await connect(proxy.address, { insecure: true, waitForReady: true, backoffInitialMs: 5 })
  const sub = link.subscribe<{ i: number }>('tick')
  await withTimeout(sub.ready, 5000, 'the subscription')
  proxy.cutAll()
  await withTimeout(
    new Promise<void>((resolve) => link.once('ready', () => resolve())),
    10_000,
    'the reconnect',
  )
  // The server publishes to whoever is subscribed now: the resubscription on the new connection.
  await waitFor(() => link.getStats().subscriptions === 1, { what: 'the subscription to be bound again' })
  const got: number[] = []
  const reading = (async () => {
    for await (const e of sub) {
      got.push(e.i)
      if (got.length === 3) return
    }
  })()
  await link.request('publish-ticks', 3)
  await withTimeout(reading, 5000, 'three events after the reconnect')
  assert.deepEqual(got, [0, 1, 2])
  await link.close()
})

test('corrupted bytes: a coded refusal, the server lives on, the link recovers when the fault goes', async () => {
  const link = await connect(proxy.address, { insecure: true, waitForReady: true, backoffInitialMs: 5 })
  proxy.plan({ corruptAt: { up: 0 } }) // the first byte of the preamble of every new connection
  proxy.cutAll()
  await waitFor(() => link.getStats().dials >= 4, { what: 'several refused attempts' })
  // The server's hello reaches us before it reads our corrupted preamble, so a connection may
  // look ready for a moment: idempotent, the call is resent until a clean connection answers.
  const waiting = link.request('echo', 'through', { timeout: 10_000, idempotent: true })
  proxy.plan({})
  assert.equal(await withTimeout(waiting, 10_000, 'the queued call'), 'through')
  assert.equal(link.state, 'ready')
  await link.close()
})

test('reconnect: false closes the link on the first loss; queued calls fail, in-flight ones are unknown', async () => {
  const link = await connect(proxy.address, { insecure: true, waitForReady: true, reconnect: false })
  const inflight = link.request('work', { id: 'nr', ms: 60_000 }, { timeout: 20_000 })
  await link.request('echo', 1)
  proxy.cutAll()
  await assert.rejects(inflight, (e: SwitchboardError) => e.code === 'OUTCOME_UNKNOWN')
  await waitFor(() => link.state === 'closed', { what: 'the link to close' })
  await assert.rejects(link.request('echo', 2), (e: SwitchboardError) =>
    ['CONNECTION_LOST', 'TRANSPORT_ERROR'].includes(e.code),
  )
})

test("'sendFailed' reports each one-way message once, when it finally failed", async () => {
  const link = await connect(`unix:${join(dir.path, 'nobody.sock')}`, { insecure: true, backoffInitialMs: 5 })
  const failed: string[] = []
  link.on('sendFailed', (e: SwitchboardError, name: string) => failed.push(`${name}:${e.code}`))
  await assert.rejects(
    link.send('a', 1, { oneShot: true }),
    (e: SwitchboardError) => e.code === 'NOT_CONNECTED',
  )
  const controller = new AbortController()
  const queued = link.send('b', 2, { signal: controller.signal })
  await waitFor(() => link.getStats().dials >= 3, { what: 'a few failed dials while the send waits' })
  controller.abort()
  await assert.rejects(queued, (e: SwitchboardError) => e.code === 'CANCELLED')
  assert.deepEqual(failed, ['a:NOT_CONNECTED', 'b:CANCELLED'])
  await link.close()
})

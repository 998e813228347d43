/**
 * SolidFrame's clientserver delayed / noserver / oneshot / idempotent scenarios between real
 * processes (docs/delivery.md).
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { connect, type SwitchboardError } from '../../src/index.ts'
import { killHardWhen } from '../../src/testing/index.ts'
import { type Child, startProgram } from '../helpers/child.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

const program = 'test/fixtures/programs/delivery-server.ts'
const fast = { backoffInitialMs: 20, backoffMaxMs: 200, insecure: true } as const
let dir: RuntimeDir
const children: Child[] = []

before(async () => {
  dir = await makeRuntimeDir()
})
after(async () => {
  for (const c of children) await c.kill()
  await dir.cleanup()
})

async function start(address: string, mode = ''): Promise<Child> {
  const c = await startProgram(program, [address, '', mode])
  children.push(c)
  return c
}

test('delayed: a request made before the server exists waits and resolves; aborting after the result is a no-op', async () => {
  const address = `unix:${join(dir.path, 'delayed.sock')}`
  const link = await connect(address, fast)
  const states: string[] = []
  link.on('state', (_from: string, to: string) => states.push(to))
  const controller = new AbortController()
  const pending = link.request('echo', 'hello', { timeout: 20_000, signal: controller.signal })
  await waitFor(() => link.getStats().dials >= 2, { what: 'the link to retry dialing a missing server' })
  assert.equal(link.state, 'connecting')
  assert.equal(link.getStats().queuedCalls, 1)
  await start(address)
  assert.equal(await withTimeout(pending, 10_000, 'the delayed request'), 'hello')
  controller.abort()
  assert.equal(await pending, 'hello', 'the result stands after an abort')
  assert.deepEqual(states, ['ready'])
  assert.equal(link.getStats().inFlight, 0)
  await link.close()
})

test('noserver: aborting a request that waits for a server that never comes rejects CANCELLED', async () => {
  const link = await connect(`unix:${join(dir.path, 'nobody.sock')}`, fast)
  const controller = new AbortController()
  const pending = link.request('echo', 1, { timeout: 30_000, signal: controller.signal })
  await waitFor(() => link.getStats().dials >= 2, { what: 'a second failed dial' })
  controller.abort()
  await assert.rejects(pending, (e: SwitchboardError) => e.code === 'CANCELLED')
  assert.equal(link.getStats().queuedCalls, 0)
  assert.equal(link.state, 'connecting', 'the link keeps trying')
  const deadline = link.request('echo', 2, { timeout: 100 })
  await assert.rejects(deadline, (e: SwitchboardError) => e.code === 'DEADLINE')
  await link.close()
  assert.equal(link.state, 'closed')
})

test('queue bound: QUEUE_FULL past maxQueuedBytes; a single larger message is admitted when the queue is empty', async () => {
  const link = await connect(`unix:${join(dir.path, 'full.sock')}`, { ...fast, maxQueuedBytes: 100 })
  const first = link.request('echo', new Uint8Array(60), { timeout: 20_000 })
  await assert.rejects(
    link.request('echo', new Uint8Array(60)),
    (e: SwitchboardError) => e.code === 'QUEUE_FULL',
  )
  link.abort()
  await assert.rejects(first, (e: SwitchboardError) => e.code === 'SESSION_CLOSED')
  const other = await connect(`unix:${join(dir.path, 'full.sock')}`, { ...fast, maxQueuedBytes: 100 })
  const big = other.request('echo', new Uint8Array(500), { timeout: 20_000 })
  assert.equal(other.getStats().queuedCalls, 1, 'admitted into the empty queue')
  await other.close()
  await assert.rejects(big, (e: SwitchboardError) => e.code === 'SESSION_CLOSED')
})

test('oneshot: fails at once with NOT_CONNECTED when no connection is up, goes through when one is', async () => {
  const address = `unix:${join(dir.path, 'oneshot.sock')}`
  const link = await connect(address, fast)
  await assert.rejects(
    link.request('echo', 1, { oneShot: true }),
    (e: SwitchboardError) => e.code === 'NOT_CONNECTED',
  )
  await assert.rejects(
    link.send('note', { id: 'x' }, { oneShot: true }),
    (e: SwitchboardError) => e.code === 'NOT_CONNECTED',
  )
  await start(address)
  await withTimeout(link.ready(), 10_000, 'the link to connect')
  assert.equal(await link.request('echo', 7, { oneShot: true }), 7)
  await link.close()
})

test('idempotent: server killed -9 during a long request, restarted; the caller settles once with the new server reply', async () => {
  const address = `unix:${join(dir.path, 'idem.sock')}`
  const first = await start(address, 'hold')
  const link = await connect(address, { ...fast, waitForReady: true })
  const firstPid = await link.request<number>('pid')
  let settled = 0
  const idem = link.request<{ pid: number }>('long', { id: 'idem-1' }, { idempotent: true, timeout: 20_000 })
  const plain = link.request('long', { id: 'plain-1' }, { timeout: 20_000 })
  const plainFailed = assert.rejects(plain, (e: SwitchboardError) => e.code === 'OUTCOME_UNKNOWN')
  void idem.then(
    () => settled++,
    () => settled++,
  )
  const started = killHardWhen(first.proc, /started plain-1/)
  await withTimeout(started, 10_000, 'the server to start the plain request, then die')
  await plainFailed
  assert.equal(settled, 0, 'the idempotent request waits for a server')
  const second = await start(address)
  const reply = await withTimeout(idem, 10_000, 'the resent idempotent request')
  assert.equal(reply.pid, second.proc.pid, "the restarted server's reply")
  assert.notEqual(reply.pid, firstPid)
  assert.equal(settled, 1)
  assert.ok(link.getStats().resent >= 1)
  assert.equal(link.getStats().reconnects, 1)
  await link.close()
  assert.equal(settled, 1, 'settled once')
})

/**
 * Graceful restart: the server's GOAWAY carries the last id it processed. Calls at or below it
 * finish on the old server; calls that reached it after the GOAWAY (the client had not seen it
 * yet: the proxy delays every byte) are refused unprocessed and the link resends exactly those
 * to the restarted server. Each runs once (ledger). Also: several addresses spread the pool, and
 * maxRetries closes a link whose destination never comes.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { connect, type SwitchboardError } from '../../src/index.ts'
import { startFaultProxy } from '../../src/testing/index.ts'
import { type Child, startProgram } from '../helpers/child.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

const program = 'test/fixtures/programs/delivery-server.ts'
let dir: RuntimeDir
const children: Child[] = []

before(async () => {
  dir = await makeRuntimeDir()
})
after(async () => {
  for (const c of children) await c.kill()
  await dir?.cleanup()
})

function lineFrom(child: Child, text: string): Promise<void> {
  return new Promise((resolve) => {
    const onData = (d: Buffer): void => {
      if (!d.toString().includes(text)) return
      child.proc.stdout?.off('data', onData)
      resolve()
    }
    child.proc.stdout?.on('data', onData)
  })
}

test('graceful restart: calls above the GOAWAY last processed id are resent, each runs once', async () => {
  const socket = `unix:${join(dir.path, 'goaway.sock')}`
  const ledger = join(dir.path, 'goaway-ledger.txt')
  const first = await startProgram(program, [socket, ledger])
  children.push(first)
  const proxy = await startFaultProxy({ listen: 'tcp://127.0.0.1:0', target: socket })
  proxy.plan({ delayMs: 150 })
  const link = await connect(proxy.address, { insecure: true, waitForReady: true, backoffInitialMs: 10 })
  const call = (id: string) => link.request<{ pid: number }>('work', { id, ms: 400 }, { timeout: 20_000 })
  const early = Array.from({ length: 10 }, (_, i) => call(`early-${i}`))
  await withTimeout(lineFrom(first, 'started early-9'), 10_000, 'the early calls to run')
  const stopping = lineFrom(first, 'stopping')
  first.proc.kill('SIGTERM')
  await withTimeout(stopping, 10_000, 'the GOAWAY to be sent')
  // Sent before the client sees the GOAWAY (150 ms away): they reach the server after it.
  const late = Array.from({ length: 10 }, (_, i) => call(`late-${i}`))
  await withTimeout(new Promise((r) => first.proc.once('exit', r)), 15_000, 'the old server to drain')
  const second = await startProgram(program, [socket, ledger])
  children.push(second)
  const earlyReplies = await withTimeout(Promise.all(early), 15_000, 'the early calls')
  const lateReplies = await withTimeout(Promise.all(late), 15_000, 'the late calls')
  for (const r of earlyReplies) assert.equal(r.pid, first.proc.pid, 'processed before the GOAWAY: old server')
  for (const r of lateReplies) assert.equal(r.pid, second.proc.pid, 'above the GOAWAY: resent to the new one')
  assert.ok(link.getStats().resent >= 10)
  const lines = (await readFile(ledger, 'utf8')).split('\n').filter((l) => l !== '')
  assert.equal(lines.length, 20, 'each call ran exactly once')
  await link.close()
  await proxy.close()
})

test('one-way messages that cross the GOAWAY are resent to the restarted server: none lost, none doubled', async () => {
  const socket = `unix:${join(dir.path, 'goaway-oneway.sock')}`
  const ledger = join(dir.path, 'goaway-oneway-ledger.txt')
  const first = await startProgram(program, [socket, ledger])
  children.push(first)
  const proxy = await startFaultProxy({ listen: 'tcp://127.0.0.1:0', target: socket })
  proxy.plan({ delayMs: 150 })
  const link = await connect(proxy.address, { insecure: true, waitForReady: true, backoffInitialMs: 10 })
  const sent: Promise<void>[] = []
  for (let i = 0; i < 50; i++) sent.push(link.send('note', { id: `early-${i}` }))
  await withTimeout(lineFrom(first, 'started early-49'), 10_000, 'the early notes to run')
  const stopping = lineFrom(first, 'stopping')
  first.proc.kill('SIGTERM')
  await withTimeout(stopping, 10_000, 'the GOAWAY to be sent')
  // Written before the client sees the GOAWAY (150 ms away): they reach the server after it,
  // which takes none of them; send() already resolved for each, yet none may be lost.
  for (let i = 0; i < 50; i++) sent.push(link.send('note', { id: `late-${i}` }))
  await withTimeout(Promise.all(sent), 10_000, 'every send() to resolve')
  await withTimeout(new Promise((r) => first.proc.once('exit', r)), 15_000, 'the old server to drain')
  const second = await startProgram(program, [socket, ledger])
  children.push(second)
  // Resent messages go ahead of this request on the new connection, so its answer follows them.
  const pid = await withTimeout(
    link.request<number>('pid', undefined, { timeout: 15_000 }),
    15_000,
    'the new server',
  )
  assert.equal(pid, second.proc.pid)
  const lines = (await readFile(ledger, 'utf8')).split('\n').filter((l) => l !== '')
  const byId = new Map<string, string[]>()
  for (const line of lines) {
    const [id, who] = line.split(' ') as [string, string]
    byId.set(id, [...(byId.get(id) ?? []), who])
  }
  for (let i = 0; i < 50; i++) {
    assert.deepEqual(
      byId.get(`early-${i}`),
      [String(first.proc.pid)],
      `early-${i} ran once, on the old server`,
    )
    assert.deepEqual(
      byId.get(`late-${i}`),
      [String(second.proc.pid)],
      `late-${i} ran once, on the new server`,
    )
  }
  assert.equal(lines.length, 100, 'each note ran exactly once')
  assert.ok(link.getStats().resent >= 50, `resent ${link.getStats().resent}`)
  await link.close()
  await proxy.close()
})

test('several addresses: the pool spreads its connections over them', async () => {
  const a = `unix:${join(dir.path, 'spread-a.sock')}`
  const b = `unix:${join(dir.path, 'spread-b.sock')}`
  children.push(await startProgram(program, [a, '']), await startProgram(program, [b, '']))
  const link = await connect([a, b], { insecure: true, waitForReady: true, poolGrowThreshold: 1 })
  const calls = Array.from({ length: 40 }, (_, i) => link.request('work', { id: `s${i}`, ms: 200 }))
  await waitFor(() => link.getStats().connections === 4, { what: 'a pool of 4' })
  const count = async (address: string): Promise<number> => {
    const probe = await connect(address, { insecure: true, waitForReady: true, reconnect: false })
    const stats = await probe.request<{ connections: number }>('server-stats')
    await probe.close()
    return stats.connections - 1
  }
  assert.deepEqual([await count(a), await count(b)], [2, 2])
  await Promise.all(calls)
  await link.close()
})

test('maxRetries: a destination that never comes closes the link with the dial error', async () => {
  const link = await connect(`unix:${join(dir.path, 'never.sock')}`, {
    insecure: true,
    maxRetries: 2,
    backoffInitialMs: 5,
  })
  const pending = link.request('echo', 1, { timeout: 20_000 })
  await assert.rejects(pending, (e: SwitchboardError) => e.code === 'CONNECT_FAILED')
  assert.equal(link.state, 'closed')
  assert.equal(link.getStats().dials, 3, 'the first dial and 2 retries')
})

/**
 * SolidFrame's clientserver_basic / sendrequest / peer2peer, between two OS processes, plus
 * deadlines, cancellation, handler error codes, streams and events.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, before, test } from 'node:test'
import { connect, type Link, type SwitchboardError } from '../../src/index.ts'
import { type Child, startProgram } from '../helpers/child.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'

const server = 'test/fixtures/programs/rpc-server.ts'
let child: Child
let dir: { path: string; cleanup(): Promise<void> | void }
let link: Link

before(async () => {
  dir = await makeRuntimeDir()
  child = await startProgram(server, ['rpc-basic', dir.path])
  link = await connect('rpc-basic', {
    runtimeDir: dir.path,
    waitForReady: true,
    handlers: { whoami: () => 'client' },
  })
})

after(async () => {
  await link?.close()
  await child?.kill()
  await dir?.cleanup()
})

test('echo many sizes, integrity checked, concurrently', async () => {
  const sizes = [0, 1, 100, 16 * 1024 - 1, 16 * 1024 + 1, 300_000, 2 * 1024 * 1024]
  const bodies = sizes.map((n) => randomBytes(n))
  const replies = await Promise.all(bodies.map((b) => link.request<Uint8Array>('echo', b)))
  for (const [i, r] of replies.entries()) assert.ok(Buffer.from(r).equals(bodies[i]!), `size ${sizes[i]}`)
  const values = await Promise.all(
    Array.from({ length: 500 }, (_, i) => link.request('echo', { i, s: 'x'.repeat(i) })),
  )
  for (const [i, v] of values.entries()) assert.deepEqual(v, { i, s: 'x'.repeat(i) })
  assert.equal(await link.request('add', { a: 2, b: 40 }), 42)
})

test('handler error codes reach the caller', async () => {
  await assert.rejects(
    link.request('fail'),
    (e: SwitchboardError) => e.code === 'REFUSED' && e.message === 'no, thank you',
  )
  await assert.rejects(
    link.request('failApp'),
    (e: SwitchboardError) => e.code === 'APP_ERROR' && e.details?.['remoteCode'] === 'E_CUSTOM',
  )
  await assert.rejects(link.request('nope'), (e: SwitchboardError) => e.code === 'METHOD_NOT_FOUND')
})

test('deadline expiry rejects with DEADLINE and the handler sees the abort', async () => {
  await assert.rejects(
    link.request('slow', 5000, { timeout: 100 }),
    (e: SwitchboardError) => e.code === 'DEADLINE',
  )
  assert.equal(await link.request('slow', 10, { timeout: 2000 }), 'done')
})

test('cancel mid-handler: the handler sees ctx.signal abort', async () => {
  const before = await link.request<number>('cancelled')
  const ac = new AbortController()
  const p = link.request('waitCancel', undefined, { signal: ac.signal })
  setImmediate(() => ac.abort())
  await assert.rejects(p, (e: SwitchboardError) => e.code === 'CANCELLED')
  for (let i = 0; i < 100; i++) {
    if ((await link.request<number>('cancelled')) > before) return
  }
  assert.fail('the handler never saw the cancellation')
})

test('one-way messages all arrive', async () => {
  const start = await link.request<number>('notes')
  await Promise.all(Array.from({ length: 200 }, () => link.send('note', { x: 1 })))
  assert.equal(await link.request<number>('notes'), start + 200)
})

test('request stream: sink returns bytes and sha256', async () => {
  const hash = createHash('sha256')
  let total = 0
  async function* body() {
    for (let i = 0; i < 64; i++) {
      const chunk = randomBytes(128 * 1024)
      hash.update(chunk)
      total += chunk.length
      yield chunk
    }
  }
  const result = await link.request<{ bytes: number; sha256: string }>('sink', body())
  assert.equal(result.bytes, total)
  assert.equal(result.sha256, hash.digest('hex'))
})

test('response stream: source yields chunks with backpressure', async () => {
  const stream = await link.request<AsyncIterable<Uint8Array>>('source', 40)
  let bytes = 0
  for await (const chunk of stream) bytes += chunk.length
  assert.equal(bytes, 40 * 64 * 1024)
})

test('events: a subscriber gets every event published after its subscription took effect', async () => {
  const sub = link.subscribe<{ i: number }>('tick')
  await sub.ready
  const count = await link.request<number>('tick', 50)
  const got: number[] = []
  for await (const ev of sub) {
    got.push(ev.i)
    if (got.length === count) break
  }
  assert.deepEqual(
    got,
    Array.from({ length: 50 }, (_, i) => i),
  )
})

test('peer2peer: the server calls the client back on the same connection', async () => {
  assert.equal(await link.request('callBack'), 'client')
})

test('stats are non-zero under load and show zero pending after', async () => {
  const p = Promise.all(Array.from({ length: 100 }, () => link.request('slow', 20)))
  assert.ok((link.getStats().pendingCalls ?? 0) > 0)
  await p
  assert.equal(link.getStats().pendingCalls, 0)
})

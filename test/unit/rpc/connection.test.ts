/**
 * The connection's dispatcher (src/rpc/connection.ts): frames from the peer reach the right
 * handler by method name (or the '*' catch-all), replies find their call by message id however
 * they are ordered, and closing settles every call in flight on both sides. Two real connections
 * over memoryPair(), so every byte goes through the session and the mux.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isSwitchboardError, type SwitchboardError } from '../../../src/errors.ts'
import { RpcConnection } from '../../../src/rpc/connection.ts'
import { lossOf } from '../../../src/rpc/loss.ts'
import type { Handler, HandlerContext } from '../../../src/rpc/types.ts'
import { memoryPair } from '../../../src/testing/memory-pair.ts'
import { waitFor, withTimeout } from '../../helpers/wait.ts'

/** A dialer with no handlers and a listener serving `handlers`. */
async function pair(handlers: Record<string, Handler>): Promise<[RpcConnection, RpcConnection]> {
  const [a, b] = memoryPair()
  return Promise.all([
    RpcConnection.open(a, 'dialer'),
    RpcConnection.open(b, 'listener', {}, new Map(Object.entries(handlers))),
  ])
}

async function closeBoth(client: RpcConnection, server: RpcConnection): Promise<void> {
  client.abort()
  server.abort()
  await Promise.allSettled([client.closed, server.closed])
}

test('requests reach their handler by name; "*" takes the rest; without it an unknown method is METHOD_NOT_FOUND', async () => {
  const [client, server] = await pair({
    add: (d) => (d as number[]).reduce((x, y) => x + y, 0),
    upper: (d) => String(d).toUpperCase(),
    '*': (_d, ctx) => `fallback for ${ctx.method}`,
  })
  assert.equal(await client.request('add', [1, 2, 3]), 6)
  assert.equal(await client.request('upper', 'abc'), 'ABC')
  assert.equal(await client.request('other'), 'fallback for other')
  await closeBoth(client, server)

  const [c2, s2] = await pair({ add: () => 0 })
  await assert.rejects(c2.request('nope'), (err: unknown) => isSwitchboardError(err, 'METHOD_NOT_FOUND'))
  assert.equal(c2.pendingCount, 0)
  await closeBoth(c2, s2)
})

test('replies find their call by message id whatever order they come back in', async () => {
  const waiting: { n: number; release(): void }[] = []
  const [client, server] = await pair({
    hold: (n) =>
      new Promise<number>((resolve) => {
        waiting.push({ n: n as number, release: () => resolve((n as number) * 10) })
      }),
  })
  const calls = Array.from({ length: 20 }, (_, n) => client.request<number>('hold', n))
  await waitFor(() => waiting.length === 20, { what: 'all 20 handlers to start' })
  assert.equal(client.pendingCount, 20)
  assert.equal(server.getStats().activeHandlers, 20)
  // Answer in reverse order, then odd before even.
  for (const w of [...waiting].reverse().filter((x) => x.n % 2 === 1)) w.release()
  for (const w of [...waiting].reverse().filter((x) => x.n % 2 === 0)) w.release()
  const results = await withTimeout(Promise.all(calls), 5000, 'all replies')
  assert.deepEqual(
    results,
    Array.from({ length: 20 }, (_, n) => n * 10),
  )
  assert.equal(client.pendingCount, 0)
  assert.equal(server.getStats().activeHandlers, 0)
  await closeBoth(client, server)
})

test('one-way messages reach their handler in order; an event nobody subscribed to is not sent', async () => {
  const got: unknown[] = []
  const [client, server] = await pair({ note: (d) => void got.push(d) })
  const sends = Array.from({ length: 50 }, (_, i) => client.send('note', i))
  await Promise.all(sends)
  await client.publish('topic-nobody-wants', 1)
  await waitFor(() => got.length === 50, { what: '50 one-way messages' })
  assert.deepEqual(
    got,
    Array.from({ length: 50 }, (_, i) => i),
  )
  await closeBoth(client, server)
})

test('a duplicate message id in flight is refused with INVALID_ARGUMENT, the first call unharmed', async () => {
  let release!: () => void
  const [client, server] = await pair({
    hold: () =>
      new Promise<string>((resolve) => {
        release = () => resolve('first')
      }),
  })
  const first = client.request('hold', undefined, {}, 77)
  await assert.rejects(client.request('hold', undefined, {}, 77), (err: unknown) =>
    isSwitchboardError(err, 'INVALID_ARGUMENT'),
  )
  await waitFor(() => release !== undefined, { what: 'the handler to start' })
  release()
  assert.equal(await first, 'first')
  await closeBoth(client, server)
})

test("aborting settles every call in flight, once: the caller's with a loss, the peer's handlers see ctx.signal abort", async () => {
  const contexts: HandlerContext[] = []
  const [client, server] = await pair({
    hang: (_d, ctx) => {
      contexts.push(ctx)
      return new Promise(() => {})
    },
  })
  const outcomes: SwitchboardError[] = []
  const calls = Array.from({ length: 5 }, () =>
    client.request('hang').then(
      () => assert.fail('resolved'),
      (err: SwitchboardError) => void outcomes.push(err),
    ),
  )
  await waitFor(() => contexts.length === 5, { what: '5 handlers running' })
  const closed = new Promise<SwitchboardError | undefined>((resolve) => client.once('close', resolve))
  client.abort()
  await withTimeout(Promise.all(calls), 5000, 'every call to settle')
  assert.equal(outcomes.length, 5)
  for (const err of outcomes) {
    assert.ok(isSwitchboardError(err, 'SESSION_CLOSED'), err.code)
    assert.equal(lossOf(err)?.written, true, 'written before the loss: it may have run')
  }
  assert.equal(client.pendingCount, 0)
  await withTimeout(closed, 5000, "the client's close event")
  await waitFor(() => contexts.every((c) => c.signal.aborted), {
    what: "the server's handlers to be aborted",
  })
  await waitFor(() => server.getStats().activeHandlers === 0, { what: 'the server to forget them' })
  await assert.rejects(client.request('hang'), (err: unknown) => isSwitchboardError(err, 'SESSION_CLOSED'))
  await closeBoth(client, server)
})

test('an explicit timeout still ends a streamed response after it began: the reader sees DEADLINE, the handler stops', async () => {
  let handlerSignal: AbortSignal | undefined
  const [client, server] = await pair({
    ticks: async function* (_d: unknown, ctx: HandlerContext) {
      handlerSignal = ctx.signal
      for (let i = 0; !ctx.signal.aborted; i++) {
        yield Uint8Array.of(i & 0xff)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    } as unknown as Handler,
  })
  const stream = await client.request<AsyncIterable<Uint8Array>>('ticks', undefined, { timeout: 150 })
  let bytes = 0
  await assert.rejects(
    withTimeout(
      (async () => {
        for await (const chunk of stream) bytes += chunk.length
      })(),
      5000,
      'the deadline to end the stream',
    ),
    (err: unknown) => isSwitchboardError(err, 'DEADLINE'),
  )
  assert.ok(bytes > 0, 'the stream had started')
  await waitFor(() => handlerSignal?.aborted === true, { what: "the handler's signal to abort" })
  await waitFor(() => client.pendingCount === 0, { what: 'the call to leave the table' })
  await closeBoth(client, server)
})

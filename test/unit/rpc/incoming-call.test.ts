/**
 * One request or one-way message from the peer (src/rpc/incoming-call.ts) against a fake
 * connection: the handler's value and context, the REPLY or RESPONSE channel it answers with,
 * errors coded for the caller, cancel and deadline aborting ctx.signal with no late answer, the
 * connection's table and handler count, bodies on channels, and idempotent repeats answered
 * from the first run.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isSwitchboardError, type SwitchboardError, sbError, wireCodeOf } from '../../../src/errors.ts'
import { msgpackCodec } from '../../../src/rpc/codec.ts'
import { DedupeTable } from '../../../src/rpc/dedupe.ts'
import { IncomingCall } from '../../../src/rpc/incoming-call.ts'
import { decodeRemoteError } from '../../../src/rpc/remote-error.ts'
import type { HandlerContext } from '../../../src/rpc/types.ts'
import { BodyFlag, KIND_MASK, MessageKind } from '../../../src/wire/constants.ts'
import { withTimeout } from '../../helpers/wait.ts'
import { FakeChannel, FakeIncomingHost } from './fakes.ts'

const REQUEST = MessageKind.REQUEST
const NOTIFY = MessageKind.NOTIFY
const enc = (v: unknown): Uint8Array => msgpackCodec.encode(v)

/** A deferred the test settles, for async handlers. */
function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

function replyError(host: FakeIncomingHost, i = 0): SwitchboardError {
  const r = host.replies[i]!
  assert.notEqual(r.status, 0, 'an error reply')
  return decodeRemoteError(r.status, r.data, 'm')
}

test('a request from one MSG frame: the handler gets its value and context; a sync result is one REPLY', () => {
  const host = new FakeIncomingHost()
  let seen: { data: unknown; ctx: HandlerContext } | undefined
  host.handlers.set('add', (data, ctx) => {
    seen = { data, ctx }
    assert.equal(host.activeHandlers, 1, 'counted while it runs')
    return (data as { a: number; b: number }).a + (data as { a: number; b: number }).b
  })
  const trace = Uint8Array.of(1, 2)
  const before = Date.now()
  IncomingCall.fromMessage(host, 'add', REQUEST, 5, 2000, trace, enc({ a: 2, b: 3 }))
  assert.deepEqual(seen?.data, { a: 2, b: 3 })
  const ctx = seen!.ctx
  assert.equal(ctx.method, 'add')
  assert.equal(ctx.messageId, 5)
  assert.equal(ctx.peer, host.peer)
  assert.deepEqual(ctx.trace, trace)
  assert.notEqual(ctx.trace, trace, 'the trace is copied out of the received record')
  assert.ok(ctx.deadline! >= before + 2000 && ctx.deadline! <= Date.now() + 2000, String(ctx.deadline))
  assert.equal(ctx.signal.aborted, false)
  assert.deepEqual(host.replies, [{ type: 'reply', messageId: 5, status: 0, raw: false, data: enc(5) }])
  assert.equal(host.activeHandlers, 0)
  assert.equal(host.tracked.size, 0, 'a sync handler never enters the table')
  assert.equal(host.sweep.size, 0)
})

test('an async handler: tracked (with its deadline) while pending, answered when it settles', async () => {
  const host = new FakeIncomingHost()
  const d = deferred<string>()
  host.handlers.set('slow', () => d.promise)
  IncomingCall.fromMessage(host, 'slow', REQUEST, 1, 10_000, undefined, new Uint8Array(0))
  assert.equal(host.tracked.size, 1)
  assert.equal(host.sweep.size, 1)
  assert.equal(host.activeHandlers, 1)
  assert.equal(host.replies.length, 0)
  const replied = host.next()
  d.resolve('done')
  await withTimeout(replied, 2000, 'the reply')
  assert.deepEqual(host.replies[0]!.data, enc('done'))
  assert.equal(host.tracked.size, 0)
  assert.equal(host.sweep.size, 0)
  assert.equal(host.activeHandlers, 0)
  host.sweep.stop()
})

test("errors reach the caller coded: the handler's own code, APP_ERROR with remoteCode, HANDLER_ERROR, METHOD_NOT_FOUND, CODEC_ERROR", () => {
  const host = new FakeIncomingHost()
  host.handlers.set('coded', () => {
    throw sbError('INVALID_ARGUMENT', 'no negatives')
  })
  host.handlers.set('app', () => {
    throw Object.assign(new Error('out of stock'), { code: 'E_STOCK' })
  })
  host.handlers.set('plain', () => {
    throw new Error('oops')
  })
  host.handlers.set('never', () => assert.fail('a body that cannot be decoded never reaches the handler'))
  IncomingCall.fromMessage(host, 'coded', REQUEST, 1, undefined, undefined, new Uint8Array(0))
  IncomingCall.fromMessage(host, 'app', REQUEST, 2, undefined, undefined, new Uint8Array(0))
  IncomingCall.fromMessage(host, 'plain', REQUEST, 3, undefined, undefined, new Uint8Array(0))
  IncomingCall.fromMessage(host, 'missing', REQUEST, 4, undefined, undefined, new Uint8Array(0))
  IncomingCall.fromMessage(host, 'never', REQUEST, 5, undefined, undefined, Uint8Array.of(0xc1))
  assert.deepEqual(
    host.replies.map((r) => r.messageId),
    [1, 2, 3, 4, 5],
  )
  const coded = replyError(host, 0)
  assert.equal(coded.code, 'INVALID_ARGUMENT')
  assert.equal(coded.message, 'no negatives')
  const app = replyError(host, 1)
  assert.equal(app.code, 'APP_ERROR')
  assert.equal(app.details?.['remoteCode'], 'E_STOCK')
  assert.equal(host.replies[1]!.status, wireCodeOf('APP_ERROR'))
  assert.equal(replyError(host, 2).code, 'HANDLER_ERROR')
  assert.equal(replyError(host, 3).code, 'METHOD_NOT_FOUND')
  assert.equal(replyError(host, 4).code, 'CODEC_ERROR')
  assert.equal(host.activeHandlers, 0)
})

test('a one-way message sends nothing back; its failing handler is reported locally', async () => {
  const host = new FakeIncomingHost()
  const got: unknown[] = []
  host.handlers.set('log', (data) => {
    got.push(data)
  })
  host.handlers.set('bad', async () => {
    throw new Error('broken')
  })
  IncomingCall.fromMessage(host, 'log', NOTIFY, 1, undefined, undefined, enc('hello'))
  const reported = host.next()
  IncomingCall.fromMessage(host, 'bad', NOTIFY, 2, undefined, undefined, new Uint8Array(0))
  await withTimeout(reported, 2000, 'the one-way failure report')
  assert.deepEqual(got, ['hello'])
  assert.equal(host.replies.length, 0)
  assert.equal(host.errors.length, 1)
  assert.ok(isSwitchboardError(host.errors[0], 'HANDLER_ERROR'))
  assert.equal((host.errors[0]!.cause as Error).message, 'broken')
})

test("a CANCEL aborts ctx.signal with the caller's code; the handler's late result is not sent", async () => {
  const host = new FakeIncomingHost()
  const d = deferred<number>()
  let ctx: HandlerContext | undefined
  host.handlers.set('work', (_data, c) => {
    ctx = c
    return d.promise
  })
  IncomingCall.fromMessage(host, 'work', REQUEST, 9, undefined, undefined, new Uint8Array(0))
  const [call] = [...host.tracked]
  call!.cancel(wireCodeOf('CANCELLED'))
  assert.ok(ctx!.signal.aborted)
  assert.ok(isSwitchboardError(ctx!.signal.reason, 'CANCELLED'))
  assert.equal(host.tracked.size, 0, 'it leaves the table at once')
  d.resolve(42)
  await d.promise
  await new Promise<void>((resolve) => setImmediate(resolve))
  assert.equal(host.replies.length, 0, 'nobody waits for it: nothing is sent')
  assert.equal(host.activeHandlers, 0)
})

test('the deadline passing aborts ctx.signal with DEADLINE and answers nothing', async () => {
  const host = new FakeIncomingHost()
  const d = deferred<number>()
  let ctx: HandlerContext | undefined
  host.handlers.set('work', (_data, c) => {
    ctx = c
    return d.promise
  })
  IncomingCall.fromMessage(host, 'work', REQUEST, 3, 20, undefined, new Uint8Array(0))
  const finished = host.next()
  await withTimeout(finished, 2000, 'the deadline')
  assert.ok(isSwitchboardError(ctx!.signal.reason, 'DEADLINE'))
  d.resolve(1)
  await d.promise
  await new Promise<void>((resolve) => setImmediate(resolve))
  assert.equal(host.replies.length, 0)
  host.sweep.stop()
})

test('raw bytes in, raw bytes out; a result bigger than a frame goes on a RESPONSE channel', () => {
  const host = new FakeIncomingHost()
  host.handlers.set('echo', (data) => data)
  host.handlers.set('big', () => 'y'.repeat(5000))
  IncomingCall.fromMessage(host, 'echo', REQUEST | BodyFlag.RAW, 1, undefined, undefined, Uint8Array.of(7, 8))
  assert.equal(host.replies[0]!.raw, true)
  assert.deepEqual(host.replies[0]!.data, Uint8Array.of(7, 8))
  IncomingCall.fromMessage(host, 'big', REQUEST, 2, undefined, undefined, new Uint8Array(0))
  assert.equal(host.replies.length, 1, 'no REPLY frame for the big one')
  const ch = host.channels[0]!
  assert.equal(ch.header.kind & KIND_MASK, MessageKind.RESPONSE)
  assert.equal(ch.header.messageId, 2)
  const bytes = enc('y'.repeat(5000))
  assert.equal(ch.header.totalSize, bytes.length)
  assert.deepEqual(ch.writes, [{ data: bytes, fin: true }])
})

test('a body on a channel is collected (credit returned as it arrives) and the handler runs at its end', () => {
  const host = new FakeIncomingHost()
  const got: unknown[] = []
  host.handlers.set('store', (data) => {
    got.push(data)
    return 'stored'
  })
  const value = 'z'.repeat(3000)
  const bytes = enc(value)
  const ch = new FakeChannel({ kind: REQUEST, method: 1, messageId: 4, totalSize: bytes.length })
  IncomingCall.fromChannel(host, 'store', ch.asChannel)
  assert.equal(host.tracked.size, 1, 'tracked while its body arrives')
  ch.handler!.onData(bytes.subarray(0, 100), false)
  assert.equal(got.length, 0)
  ch.handler!.onData(bytes.subarray(100), true)
  assert.equal(ch.consumed, bytes.length)
  assert.deepEqual(got, [value])
  assert.deepEqual(host.replies[0]!.data, enc('stored'))
  assert.equal(host.tracked.size, 0)
})

test('a body announced or grown past maxMessageBytes is refused with MESSAGE_TOO_LARGE, the handler never runs', () => {
  const host = new FakeIncomingHost()
  host.localMaxMessageBytes = 100
  host.handlers.set('store', () => assert.fail('the handler must not run'))
  const announced = new FakeChannel({ kind: REQUEST, method: 1, messageId: 1, totalSize: 101 })
  IncomingCall.fromChannel(host, 'store', announced.asChannel)
  assert.deepEqual(announced.resets, [wireCodeOf('MESSAGE_TOO_LARGE')])
  const grown = new FakeChannel({ kind: REQUEST, method: 1, messageId: 2 })
  IncomingCall.fromChannel(host, 'store', grown.asChannel)
  grown.handler!.onData(new Uint8Array(80), false)
  grown.handler!.onData(new Uint8Array(80), false)
  assert.deepEqual(grown.resets, [wireCodeOf('MESSAGE_TOO_LARGE')])
  assert.equal(host.tracked.size, 0)
  assert.equal(host.replies.length, 0)
})

test('a streamed body: the handler runs at once and reads ctx.body as it arrives', async () => {
  const host = new FakeIncomingHost()
  host.handlers.set('sum', async (_data, ctx) => {
    let n = 0
    for await (const chunk of ctx.body!) for (const b of chunk) n += b
    return n
  })
  const ch = new FakeChannel({ kind: REQUEST | BodyFlag.STREAM, method: 1, messageId: 6 })
  IncomingCall.fromChannel(host, 'sum', ch.asChannel)
  const replied = host.next()
  ch.handler!.onData(Uint8Array.of(1, 2), false)
  ch.handler!.onData(Uint8Array.of(3), true)
  await withTimeout(replied, 2000, 'the sum')
  assert.deepEqual(host.replies[0]!.data, enc(6))
})

test('an idempotent repeat gets the first run’s answer without a second run; a waiting repeat is answered when it ends', async () => {
  const host = new FakeIncomingHost()
  host.dedupe = { table: new DedupeTable(), keyOf: (id) => `peer\0link\0${id}` }
  let runs = 0
  const d = deferred<string>()
  host.handlers.set('charge', () => {
    runs++
    return d.promise
  })
  const kind = REQUEST | BodyFlag.IDEMPOTENT
  IncomingCall.fromMessage(host, 'charge', kind, 11, undefined, undefined, new Uint8Array(0))
  // The repeat arrives (another connection) while the first run is still going: it waits.
  IncomingCall.fromMessage(host, 'charge', kind, 11, undefined, undefined, new Uint8Array(0))
  assert.equal(runs, 1)
  assert.equal(host.tracked.size, 2)
  d.resolve('charged once')
  await withTimeout(
    (async () => {
      while (host.replies.length < 2) await host.next()
    })(),
    2000,
    'both answers',
  )
  // A later repeat is answered from memory.
  IncomingCall.fromMessage(host, 'charge', kind, 11, undefined, undefined, new Uint8Array(0))
  assert.equal(runs, 1)
  assert.deepEqual(
    host.replies.map((r) => msgpackCodec.decode(r.data)),
    ['charged once', 'charged once', 'charged once'],
  )
  // Another message id runs.
  IncomingCall.fromMessage(host, 'charge', kind, 12, undefined, undefined, new Uint8Array(0))
  assert.equal(runs, 2)
})

test('an idempotent run goes on when its connection drops (the resend gets its result) but stops on a CANCEL', () => {
  const host = new FakeIncomingHost()
  host.dedupe = { table: new DedupeTable(), keyOf: (id) => `k${id}` }
  const contexts: HandlerContext[] = []
  host.handlers.set('job', (_data, ctx) => {
    contexts.push(ctx)
    return new Promise(() => {})
  })
  const kind = REQUEST | BodyFlag.IDEMPOTENT
  IncomingCall.fromMessage(host, 'job', kind, 1, undefined, undefined, new Uint8Array(0))
  IncomingCall.fromMessage(host, 'job', kind, 2, undefined, undefined, new Uint8Array(0))
  const [first, second] = [...host.tracked]
  first!.cancel(wireCodeOf('CONNECTION_LOST'))
  second!.cancel(wireCodeOf('CANCELLED'))
  assert.equal(contexts[0]!.signal.aborted, false, 'a lost connection does not stop an idempotent run')
  assert.equal(contexts[1]!.signal.aborted, true, 'the caller cancelling does')
})

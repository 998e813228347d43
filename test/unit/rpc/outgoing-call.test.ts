/**
 * One request from this side (src/rpc/outgoing-call.ts) against a fake connection: what it puts
 * on the wire (one MSG frame, or a channel for a big body), how each answer settles it, and that
 * it settles exactly once whatever arrives after: deadline, cancel, refusal, loss, late replies.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isSwitchboardError, sbError, wireCodeOf } from '../../../src/errors.ts'
import { msgpackCodec } from '../../../src/rpc/codec.ts'
import { lossOf } from '../../../src/rpc/loss.ts'
import { OutgoingCall } from '../../../src/rpc/outgoing-call.ts'
import { encodeRemoteError } from '../../../src/rpc/remote-error.ts'
import { BodyFlag, KIND_MASK, MessageKind } from '../../../src/wire/constants.ts'
import { withTimeout } from '../../helpers/wait.ts'
import { FakeCallHost, FakeChannel, RecordingSink } from './fakes.ts'

function call(
  host: FakeCallHost,
  opts: { signal?: AbortSignal; id?: number; name?: string } = {},
): { c: OutgoingCall; sink: RecordingSink } {
  const sink = new RecordingSink()
  const c = new OutgoingCall(host, opts.name ?? 'add', opts.id ?? 7, sink, opts.signal)
  return { c, sink }
}

const ok = (messageId: number, value: unknown) => ({
  type: 'reply' as const,
  messageId,
  status: 0,
  raw: false,
  data: msgpackCodec.encode(value),
})

test('a small body is one MSG frame (the call itself): kind, method id, encoded body, whole-ms deadline', () => {
  const host = new FakeCallHost()
  const { c, sink } = call(host)
  c.start({ a: 1, b: 2 }, 1500.2, true, Uint8Array.of(9), true)
  assert.equal(host.messages.length, 1)
  const msg = host.messages[0]!
  assert.equal(msg, c)
  assert.equal(msg.kind & KIND_MASK, MessageKind.REQUEST)
  assert.equal(msg.kind & BodyFlag.IDEMPOTENT, BodyFlag.IDEMPOTENT)
  assert.equal(msg.kind & BodyFlag.RAW, 0)
  assert.equal(msg.method, 1)
  assert.deepEqual(host.names, ['add'])
  assert.equal(msg.deadlineMs, 1501, 'a fraction is rounded up: the peer never stops early')
  assert.deepEqual(msg.trace, Uint8Array.of(9))
  assert.deepEqual(msgpackCodec.decode(msg.data), { a: 1, b: 2 })
  assert.equal(host.channels.length, 0)
  assert.equal(host.sweep.size, 1, 'the deadline is watched')
  c.reply(ok(7, 3))
  assert.deepEqual(sink.outcomes, [{ value: 3 }])
  assert.equal(host.sweep.size, 0, 'settling stops watching the deadline')
  assert.deepEqual(host.settledCalls, [c])
  host.sweep.stop()
})

test('raw bytes go with the RAW flag and come back as bytes; no timeout means no deadline on the wire', () => {
  const host = new FakeCallHost()
  const { c, sink } = call(host)
  c.start(Uint8Array.of(1, 2, 3), undefined, false, undefined, false)
  const msg = host.messages[0]!
  assert.equal(msg.kind & BodyFlag.RAW, BodyFlag.RAW)
  assert.deepEqual(msg.data, Uint8Array.of(1, 2, 3))
  assert.equal(msg.deadlineMs, undefined)
  assert.equal(host.sweep.size, 0)
  c.reply({ type: 'reply', messageId: 7, status: 0, raw: true, data: Uint8Array.of(4, 5) })
  assert.deepEqual(sink.value, Uint8Array.of(4, 5))
})

test('settles exactly once: a second reply, a loss and a deadline after the answer change nothing', () => {
  const host = new FakeCallHost()
  const { c, sink } = call(host)
  c.start(1, 1000, true, undefined, false)
  c.onWritten()
  c.reply(ok(7, 'first'))
  c.reply(ok(7, 'second'))
  c.onLost(wireCodeOf('CONNECTION_LOST'))
  c.onRefused(wireCodeOf('GOING_AWAY'))
  c.expire()
  assert.deepEqual(sink.outcomes, [{ value: 'first' }])
  assert.deepEqual(host.cancels, [], 'nothing to cancel once answered')
  host.sweep.stop()
})

test("an error reply rejects with the handler's code and the method in its details", () => {
  const host = new FakeCallHost()
  const { c, sink } = call(host)
  c.start(1, undefined, false, undefined, false)
  const { status, detail } = encodeRemoteError(sbError('INVALID_ARGUMENT', 'b must be a number'))
  c.reply({ type: 'reply', messageId: 7, status, raw: false, data: detail })
  const err = sink.error
  assert.ok(isSwitchboardError(err, 'INVALID_ARGUMENT'), err.code)
  assert.equal(err.message, 'b must be a number')
  assert.equal(err.details?.['method'], 'add')
})

test('the deadline passing rejects with DEADLINE and cancels on the peer only once the request was written', async () => {
  const host = new FakeCallHost()
  const written = call(host, { id: 1 })
  written.c.start(1, 20, true, undefined, false)
  written.c.onWritten()
  const unsent = call(host, { id: 2 })
  unsent.c.start(1, 20, true, undefined, false)
  await withTimeout(Promise.all([written.sink.settled(), unsent.sink.settled()]), 2000, 'both deadlines')
  assert.ok(isSwitchboardError(written.sink.error, 'DEADLINE'))
  assert.ok(isSwitchboardError(unsent.sink.error, 'DEADLINE'))
  assert.deepEqual(host.cancels, [{ messageId: 1, code: wireCodeOf('DEADLINE') }])
  written.c.reply(ok(1, 'too late'))
  assert.equal(written.sink.outcomes.length, 1, 'a reply after the deadline is ignored')
  assert.equal(host.settledCalls.length, 2)
})

test('cancellation: an aborted signal rejects with CANCELLED (the reason as cause) and tells the peer', () => {
  const host = new FakeCallHost()
  const ac = new AbortController()
  const { c, sink } = call(host, { signal: ac.signal })
  c.start(1, 1000, true, undefined, false)
  c.onWritten()
  const reason = new Error('user gave up')
  ac.abort(reason)
  const err = sink.error
  assert.ok(isSwitchboardError(err, 'CANCELLED'))
  assert.equal(err.cause, reason)
  assert.deepEqual(host.cancels, [{ messageId: 7, code: wireCodeOf('CANCELLED') }])
  assert.equal(host.sweep.size, 0)
  c.reply(ok(7, 1))
  assert.equal(sink.outcomes.length, 1)
})

test('a signal aborted before start() sends nothing', () => {
  const host = new FakeCallHost()
  const ac = new AbortController()
  ac.abort()
  const { c, sink } = call(host, { signal: ac.signal })
  c.start(1, 1000, true, undefined, false)
  assert.ok(isSwitchboardError(sink.error, 'CANCELLED'))
  assert.equal(host.messages.length, 0)
  assert.equal(host.sweep.size, 0)
})

test('refused by GOAWAY: a loss that was never written (safe to resend); lost after writing: written', () => {
  const host = new FakeCallHost()
  const refused = call(host, { id: 1 })
  refused.c.start(1, undefined, false, undefined, false)
  refused.c.onRefused(wireCodeOf('GOING_AWAY'))
  const r = refused.sink.error
  assert.ok(isSwitchboardError(r, 'GOING_AWAY'))
  assert.equal(lossOf(r)?.written, false)

  const lost = call(host, { id: 2 })
  lost.c.start(1, undefined, false, undefined, false)
  lost.c.onWritten()
  lost.c.onLost(wireCodeOf('CONNECTION_LOST'))
  const l = lost.sink.error
  assert.ok(isSwitchboardError(l, 'CONNECTION_LOST'))
  assert.equal(lossOf(l)?.written, true, 'it may have run')
})

test('a session that refuses the message at start: a loss, not written; any other failure is not a loss', () => {
  const host = new FakeCallHost()
  host.refuseWith = sbError('GOING_AWAY', 'draining')
  const going = call(host, { id: 1 })
  going.c.start(1, 1000, true, undefined, false)
  assert.equal(lossOf(going.sink.error)?.written, false)
  assert.equal(host.sweep.size, 0, 'no deadline is armed for a call that never started')

  host.refuseWith = undefined
  const tooBig = call(host, { id: 2 })
  host.remoteMaxMessageBytes = 10
  tooBig.c.start(new Uint8Array(11), undefined, false, undefined, false)
  assert.ok(isSwitchboardError(tooBig.sink.error, 'MESSAGE_TOO_LARGE'))
  assert.equal(lossOf(tooBig.sink.error), undefined)
  assert.equal(host.messages.length, 0)
})

test('a body bigger than one frame goes on a channel, announced with its size and deadline', () => {
  const host = new FakeCallHost()
  const { c, sink } = call(host)
  const body = new Uint8Array(5000).fill(7)
  c.start(body, 2500.7, true, undefined, false)
  assert.equal(host.messages.length, 0)
  const ch = host.channels[0]!
  assert.equal(ch.header.kind & KIND_MASK, MessageKind.REQUEST)
  assert.equal(ch.header.oneWay, true)
  assert.equal(ch.header.totalSize, 5000)
  assert.equal(ch.header.deadlineMs, 2501)
  assert.equal(ch.handler, c)
  assert.deepEqual(ch.writes, [{ data: body, fin: true }])
  c.reply(ok(7, 'done'))
  assert.equal(sink.value, 'done')
})

test('a request channel reset when the session ended: lost, written only if its OPEN had left', () => {
  const host = new FakeCallHost()
  const before = call(host, { id: 1 })
  before.c.start(new Uint8Array(5000), undefined, false, undefined, false)
  const after = call(host, { id: 2 })
  after.c.start(new Uint8Array(5000), undefined, false, undefined, false)
  host.channels[1]!.needsOpen = false
  host.sessionEnded = true
  before.c.onReset(wireCodeOf('CONNECTION_LOST'))
  after.c.onReset(wireCodeOf('CONNECTION_LOST'))
  assert.equal(lossOf(before.sink.error)?.written, false)
  assert.equal(lossOf(after.sink.error)?.written, true)
})

test('a reset by a live peer is its answer (not a loss); GOING_AWAY on the channel is a safe loss', () => {
  const host = new FakeCallHost()
  const reset = call(host, { id: 1 })
  reset.c.start(new Uint8Array(5000), undefined, false, undefined, false)
  reset.c.onReset(wireCodeOf('MESSAGE_TOO_LARGE'))
  assert.ok(isSwitchboardError(reset.sink.error, 'MESSAGE_TOO_LARGE'))
  assert.equal(lossOf(reset.sink.error), undefined)
  const away = call(host, { id: 2 })
  away.c.start(new Uint8Array(5000), undefined, false, undefined, false)
  away.c.onReset(wireCodeOf('GOING_AWAY'))
  assert.equal(lossOf(away.sink.error)?.written, false)
})

test('a big response on its channel is collected, its credit returned, then decoded', () => {
  const host = new FakeCallHost()
  const { c, sink } = call(host)
  c.start(1, undefined, false, undefined, false)
  const value = 'x'.repeat(3000)
  const bytes = msgpackCodec.encode(value)
  const ch = new FakeChannel({ kind: MessageKind.RESPONSE, method: 0, messageId: 7, totalSize: bytes.length })
  c.responseOn(ch.asChannel)
  assert.equal(ch.handler, c)
  c.onData(bytes.subarray(0, 1000), false)
  assert.equal(sink.outcomes.length, 0)
  c.onData(bytes.subarray(1000), true)
  assert.equal(ch.consumed, bytes.length)
  assert.equal(sink.value, value)
  const again = new FakeChannel({ kind: MessageKind.RESPONSE, method: 0, messageId: 7 })
  c.responseOn(again.asChannel)
  assert.deepEqual(again.resets, [wireCodeOf('CANCELLED')], 'a second response to a settled call is refused')
})

test('a response announced or grown past maxMessageBytes is refused with MESSAGE_TOO_LARGE', () => {
  const host = new FakeCallHost()
  host.localMaxMessageBytes = 100
  const announced = call(host, { id: 1 })
  announced.c.start(1, undefined, false, undefined, false)
  const big = new FakeChannel({ kind: MessageKind.RESPONSE, method: 0, messageId: 1, totalSize: 101 })
  announced.c.responseOn(big.asChannel)
  assert.deepEqual(big.resets, [wireCodeOf('MESSAGE_TOO_LARGE')])
  assert.ok(isSwitchboardError(announced.sink.error, 'MESSAGE_TOO_LARGE'))

  const grown = call(host, { id: 2 })
  grown.c.start(1, undefined, false, undefined, false)
  const liar = new FakeChannel({ kind: MessageKind.RESPONSE, method: 0, messageId: 2 })
  grown.c.responseOn(liar.asChannel)
  grown.c.onData(new Uint8Array(60), false)
  grown.c.onData(new Uint8Array(60), false)
  assert.deepEqual(liar.resets, [wireCodeOf('MESSAGE_TOO_LARGE')])
  assert.ok(isSwitchboardError(grown.sink.error, 'MESSAGE_TOO_LARGE'))
})

test('a streamed response resolves at once with an iterable; a default deadline stops, an explicit one keeps running', async () => {
  const host = new FakeCallHost()
  const implicit = call(host, { id: 1 })
  implicit.c.start(1, 30_000, false, undefined, false)
  const explicit = call(host, { id: 2 })
  explicit.c.start(1, 20, true, undefined, false)
  assert.equal(host.sweep.size, 2)
  const kind = MessageKind.RESPONSE | BodyFlag.STREAM | BodyFlag.RAW
  const ch1 = new FakeChannel({ kind, method: 0, messageId: 1 })
  const ch2 = new FakeChannel({ kind, method: 0, messageId: 2 })
  implicit.c.responseOn(ch1.asChannel)
  explicit.c.responseOn(ch2.asChannel)
  assert.equal(host.sweep.size, 1, 'only the explicit deadline is still watched')
  const stream = implicit.sink.value as AsyncIterable<Uint8Array>
  implicit.c.onData(Uint8Array.of(1), false)
  implicit.c.onData(Uint8Array.of(2), true)
  const got: number[] = []
  for await (const chunk of stream) got.push(...chunk)
  assert.deepEqual(got, [1, 2])

  // The explicit deadline fails the stream the caller is reading.
  const late = explicit.sink.value as AsyncIterable<Uint8Array>
  await assert.rejects(
    withTimeout(
      (async () => {
        for await (const _ of late) {
          // nothing arrives before the deadline
        }
      })(),
      2000,
      'the explicit deadline',
    ),
    (err: unknown) => isSwitchboardError(err, 'DEADLINE'),
  )
  assert.ok(ch2.resets.includes(wireCodeOf('DEADLINE')), 'the response channel is reset')
  host.sweep.stop()
})

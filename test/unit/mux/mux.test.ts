/**
 * The Mux without I/O: two instances wired by passing drained frames across (through the frame
 * codec), with `now` as plain numbers. Channels, round-robin, credit, limits, GOAWAY.
 * Liveness and control frames: mux-liveness.test.ts.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sbError, wireCodeOf } from '../../../src/errors.ts'
import type { Frame } from '../../../src/wire/frame.ts'
import { dataFrame, limits, makePair, openFrame, pattern, pump, Side, settle } from './harness.ts'

const KiB = 1024
const MiB = 1024 * KiB

function framesOf(frames: Frame[], channel: number): Frame[] {
  return frames.filter((f) => 'channel' in f && f.channel === channel)
}

test('open, data and fin round trip in both directions; both ends close the channel', () => {
  const p = makePair()
  p.b.incomingMode = 'echo'
  const trace = Uint8Array.of(1, 2, 3)
  const rec = p.a.open({ kind: 3, method: 7, messageId: 42, deadlineMs: 1500, trace, totalSize: 40 * KiB })
  const body = pattern(40 * KiB)
  rec.ch.write(body, true)
  const first = pump(p.a, p.b)
  assert.equal(first[0]?.type, 'open', 'the first frame of a channel is its OPEN')
  assert.ok(first.slice(1).every((f) => f.type === 'data'))
  const incoming = p.b.incoming[0]
  assert.ok(incoming !== undefined, 'the listener saw the channel')
  assert.equal(incoming.ch.id, rec.ch.id)
  assert.equal(rec.ch.id % 2, 1, 'dialer ids are odd')
  assert.deepEqual(
    { ...incoming.ch.header, trace: [...(incoming.ch.header.trace ?? [])] },
    {
      kind: 3,
      method: 7,
      messageId: 42,
      oneWay: false,
      deadlineMs: 1500,
      trace: [1, 2, 3],
      totalSize: 40 * KiB,
    },
  )
  settle(p)
  assert.ok(incoming.fin)
  assert.ok(incoming.body().equals(body))
  assert.ok(rec.fin, 'the echo ended with FIN')
  assert.ok(rec.body().equals(body))
  assert.deepEqual(rec.resets, [])
  for (const side of [p.a, p.b]) {
    assert.equal(side.mux.getStats().openChannels, 0)
    assert.equal(side.mux.getStats().queuedBytes, 0)
    assert.ok(side.mux.idle)
    assert.equal(side.fatal.length, 0)
  }
})

test('an empty body is one OPEN with FIN; END carries a status and detail', () => {
  const p = makePair()
  const empty = p.a.open()
  empty.ch.end()
  const frames = pump(p.a, p.b)
  assert.equal(frames.length, 1)
  assert.equal(frames[0]?.type, 'open')
  assert.ok(frames[0]?.type === 'open' && frames[0].fin && frames[0].data.length === 0)
  const incoming = p.b.incoming[0]!
  assert.ok(incoming.fin)
  incoming.ch.end(wireCodeOf('APP_ERROR'), Uint8Array.of(9, 9))
  settle(p)
  assert.deepEqual(empty.ends, [{ status: wireCodeOf('APP_ERROR'), detail: Uint8Array.of(9, 9) }])
  assert.ok(p.a.mux.idle && p.b.mux.idle)
})

test('OPENs go out in open order with increasing ids, even when a later channel writes first', () => {
  const p = makePair()
  const first = p.a.open()
  const second = p.a.open()
  second.ch.write(Buffer.from('second'), true)
  first.ch.write(Buffer.from('first'), true)
  settle(p)
  assert.equal(p.a.fatal.length, 0)
  assert.equal(p.b.fatal.length, 0)
  assert.equal(p.b.incoming.length, 2)
  // Channels take their turn in the line of messages where they were opened (v2): a request
  // opened after a subscription reaches the peer after it.
  assert.equal(p.b.incoming[0]!.body().toString(), 'first')
  assert.equal(p.b.incoming[1]!.body().toString(), 'second')
  assert.ok(p.b.incoming[0]!.ch.id < p.b.incoming[1]!.ch.id)
})

test('round-robin: a 1 KiB channel goes out after at most one chunk of a queued 1 MiB channel', () => {
  const chunk = limits().chunkBytes
  const p = makePair()
  p.b.incomingMode = 'consume'
  const big = p.a.open()
  big.ch.write(pattern(MiB, 2))
  const small = p.a.open()
  small.ch.write(pattern(KiB, 3), true)
  const frames = p.a.take()
  const smallAt = frames.findIndex((f) => f.type === 'open' && f.channel === small.ch.id)
  assert.ok(smallAt >= 0, 'the small channel is in the first drain')
  const bigBefore = framesOf(frames.slice(0, smallAt), big.ch.id)
  assert.ok(bigBefore.length <= 1, `${bigBefore.length} big chunks went before the small one`)
  for (const f of framesOf(frames, big.ch.id)) {
    assert.ok((f.type === 'open' || f.type === 'data') && f.data.length <= chunk, 'big frames are chunked')
  }

  // Mid-transfer: the big channel is already streaming when a second small one is opened.
  const q = makePair()
  const big2 = q.a.open()
  big2.ch.write(pattern(MiB, 4))
  pump(q.a, q.b)
  pump(q.b, q.a)
  const late = q.a.open()
  late.ch.write(pattern(KiB, 5), true)
  const next = q.a.take()
  const lateAt = next.findIndex((f) => f.type === 'open' && f.channel === late.ch.id)
  assert.ok(lateAt >= 0, 'the late small channel is in the next drain')
  assert.ok(framesOf(next.slice(0, lateAt), big2.ch.id).length <= 1)
})

test('credit: with no consume() the sender stops at channelWindow per channel and connectionWindow in all', () => {
  const lim = limits({ channelWindow: 64 * KiB, connectionWindow: 160 * KiB })
  const p = makePair(lim)
  p.b.incomingMode = 'hold'
  const bodies = [0, 1, 2, 3, 4, 5].map((i) => pattern(512 * KiB, 10 + i))
  const senders = bodies.map((body) => {
    const rec = p.a.open()
    rec.ch.write(body, true)
    return rec
  })
  const check = (): void => {
    let total = 0
    for (const r of p.b.incoming) {
      assert.ok(r.bytes <= lim.channelWindow, `channel ${r.ch.id} got ${r.bytes} > channelWindow`)
      total += r.bytes
    }
    assert.ok(total <= lim.connectionWindow, `${total} bytes outstanding > connectionWindow`)
  }
  settle(p, check)
  const total = p.b.incoming.reduce((n, r) => n + r.bytes, 0)
  assert.equal(total, lim.connectionWindow, 'the sender used exactly the connection window, then stalled')
  assert.equal(p.a.mux.getStats().sendCredit, 0)
  assert.ok(p.a.mux.getStats().queuedBytes > 0)
  assert.equal(p.b.mux.getStats().recvCredit, 0)
  assert.equal(pump(p.a, p.b).length, 0, 'nothing more is sent without credit')

  // Consuming sends CREDIT; the transfer then completes intact.
  for (const r of p.b.incoming) r.release()
  const credits = p.b.take()
  assert.ok(
    credits.some((f) => f.type === 'credit' && f.channel === 0),
    'connection credit granted',
  )
  assert.ok(
    credits.some((f) => f.type === 'credit' && f.channel !== 0),
    'channel credit granted',
  )
  p.a.feed(credits)
  settle(p)
  assert.equal(p.b.incoming.length, bodies.length)
  for (const [i, r] of p.b.incoming.entries()) {
    assert.ok(r.fin)
    assert.ok(r.body().equals(bodies[i]!), `body ${i} intact`)
  }
  assert.deepEqual(
    senders.map((s) => s.resets),
    senders.map(() => []),
  )
})

test('credit: one channel stops at its own window, below the connection window', () => {
  const lim = limits({ channelWindow: 32 * KiB, connectionWindow: 256 * KiB })
  const p = makePair(lim)
  p.b.incomingMode = 'hold'
  const rec = p.a.open()
  assert.equal(rec.ch.write(pattern(MiB), true), false, 'write() says stop above the high-water mark')
  settle(p)
  assert.equal(p.b.incoming[0]!.bytes, lim.channelWindow)
  assert.equal(p.a.mux.getStats().sendCredit, lim.connectionWindow - lim.channelWindow)
  p.b.incoming[0]!.release()
  settle(p)
  assert.equal(p.b.incoming[0]!.bytes, MiB)
  assert.ok(rec.writables >= 1, 'onWritable fired once the queue went below high water')
})

test('a DATA frame beyond the channel window fails the mux with FLOW_CONTROL', () => {
  const lim = limits({ channelWindow: 16 * KiB, connectionWindow: 64 * KiB })
  const p = makePair(lim)
  p.b.incomingMode = 'hold'
  const rec = p.a.open()
  rec.ch.write(Uint8Array.of(1))
  pump(p.a, p.b)
  const id = rec.ch.id
  p.b.feed([dataFrame(id, new Uint8Array(lim.channelWindow))])
  assert.equal(p.b.fatal.length, 1)
  assert.equal(p.b.fatal[0]!.code, 'FLOW_CONTROL')
  assert.equal(p.b.mux.state, 'closed')
  assert.deepEqual(p.b.incoming[0]!.resets, [wireCodeOf('FLOW_CONTROL')])
  const final = p.b.mux.takeFinalFrames()
  assert.deepEqual(
    final.map((f) => f.type === 'goaway' && f.code),
    [wireCodeOf('FLOW_CONTROL')],
    'a GOAWAY with the code is left to send',
  )
})

test('DATA within each channel window but beyond the connection window is FLOW_CONTROL', () => {
  const lim = limits({ channelWindow: 64 * KiB, connectionWindow: 96 * KiB })
  const b = new Side('listener', lim, lim)
  b.incomingMode = 'hold'
  b.feed([openFrame(1), openFrame(3)])
  b.feed([dataFrame(1, new Uint8Array(60 * KiB))])
  assert.equal(b.fatal.length, 0)
  b.feed([dataFrame(3, new Uint8Array(40 * KiB))])
  assert.equal(b.fatal[0]?.code, 'FLOW_CONTROL')
})

test('an OPEN carrying more than the channel window is FLOW_CONTROL', () => {
  const lim = limits({ channelWindow: 16 * KiB })
  const b = new Side('listener', lim, lim)
  b.feed([openFrame(1, new Uint8Array(16 * KiB + 1))])
  assert.equal(b.fatal[0]?.code, 'FLOW_CONTROL')
})

test('protocol errors: OPEN with our parity, out of order, repeated; DATA on a channel never opened', () => {
  const cases: Array<[string, Frame[]]> = [
    ['OPEN with the listener’s own (even) parity', [openFrame(2)]],
    ['OPEN out of order', [openFrame(3), openFrame(1)]],
    ['OPEN repeated', [openFrame(1), openFrame(1)]],
    ['DATA on a channel never opened', [dataFrame(5, Uint8Array.of(1))]],
  ]
  for (const [what, frames] of cases) {
    const b = new Side('listener', limits(), limits())
    b.feed(frames)
    assert.equal(b.fatal.length, 1, what)
    assert.equal(b.fatal[0]!.code, 'PROTOCOL_ERROR', what)
    assert.equal(b.mux.state, 'closed', what)
  }
  const a = new Side('dialer', limits(), limits())
  a.feed([openFrame(1)])
  assert.equal(a.fatal[0]?.code, 'PROTOCOL_ERROR', 'the dialer refuses odd ids from the listener')
})

test('DATA after FIN on the same channel is PROTOCOL_ERROR; a frame crossing our RESET is ignored', () => {
  const b = new Side('listener', limits(), limits())
  b.feed([openFrame(1, Uint8Array.of(1), true)])
  b.incoming[0]!.ch.write(Uint8Array.of(2)) // keep the channel alive: our direction is open
  b.feed([dataFrame(1, Uint8Array.of(3))])
  assert.equal(b.fatal[0]?.code, 'PROTOCOL_ERROR')

  const c = new Side('listener', limits(), limits())
  c.incomingMode = 'hold'
  c.feed([openFrame(1, Uint8Array.of(1))])
  c.incoming[0]!.ch.reset(wireCodeOf('CANCELLED'))
  const out = c.take()
  assert.deepEqual(
    out.map((f) => f.type),
    ['reset'],
  )
  c.feed([
    dataFrame(1, new Uint8Array(1000)),
    { type: 'end', channel: 1, status: 0, detail: new Uint8Array(0) },
  ])
  assert.equal(c.fatal.length, 0, 'late frames on a channel we reset are harmless')
})

test('channel limit: opens beyond maxChannels are RESET with CHANNEL_LIMIT and the mux survives', () => {
  const b = new Side('listener', limits({ maxChannels: 2 }), limits())
  b.incomingMode = 'echo'
  b.feed([openFrame(1), openFrame(3), openFrame(5, Uint8Array.of(7, 7))])
  assert.equal(b.fatal.length, 0)
  assert.equal(b.mux.state, 'open')
  assert.equal(b.incoming.length, 2)
  const out = b.take()
  const resets = out.filter((f) => f.type === 'reset')
  assert.deepEqual(resets, [{ type: 'reset', channel: 5, code: wireCodeOf('CHANNEL_LIMIT') }])

  // A dialer with a wrong idea of the listener's limit sees the RESET on its third channel.
  const a = new Side('dialer', limits(), limits({ maxChannels: 10 }))
  const l = new Side('listener', limits({ maxChannels: 2 }), limits())
  l.incomingMode = 'echo'
  const p = { a, b: l }
  const recs = [0, 1, 2].map(() => p.a.open())
  for (const r of recs) r.ch.write(Buffer.from('x'))
  pump(p.a, p.b)
  pump(p.b, p.a)
  assert.deepEqual(
    recs.map((r) => r.resets),
    [[], [], [wireCodeOf('CHANNEL_LIMIT')]],
  )
  // The first two finish; then a new channel is accepted.
  for (const r of recs.slice(0, 2)) r.ch.end()
  settle(p)
  assert.ok(recs[0]!.fin && recs[1]!.fin)
  const again = p.a.open()
  again.ch.write(Buffer.from('again'), true)
  settle(p)
  assert.equal(again.body().toString(), 'again')
  assert.deepEqual(again.resets, [])
  assert.equal(a.fatal.length, 0)
  assert.equal(l.fatal.length, 0)
})

test('local opens beyond the peer’s maxChannels wait and go out when one closes', () => {
  const lim = limits({ maxChannels: 2 })
  const p = makePair(lim)
  p.b.incomingMode = 'hold'
  const recs = [0, 1, 2].map((i) => {
    const r = p.a.open()
    r.ch.write(Buffer.from(`body ${i}`), true)
    return r
  })
  settle(p)
  assert.equal(p.b.incoming.length, 2, 'only maxChannels OPENs went out')
  assert.equal(p.a.mux.getStats().openChannels, 3, 'the third waits, counted as open locally')
  // The listener answers the first channel: both ends close it, and the third goes out.
  const first = p.b.incoming[0]!
  first.release()
  first.ch.write(Buffer.from('reply'), true)
  settle(p)
  assert.equal(recs[0]!.body().toString(), 'reply')
  assert.equal(p.b.incoming.length, 3)
  assert.equal(p.b.incoming[2]!.body().toString(), 'body 2')
  assert.deepEqual(
    recs.map((r) => r.resets),
    [[], [], []],
  )
  assert.equal(p.b.fatal.length, 0)
})

test('GOAWAY: channels above lastProcessed are reset with GOING_AWAY, those below finish', () => {
  const p = makePair()
  p.b.incomingMode = 'echo'
  const x = p.a.open()
  const y = p.a.open()
  x.ch.write(pattern(20 * KiB, 1))
  y.ch.write(pattern(20 * KiB, 2))
  settle(p)
  p.b.mux.goaway()
  assert.equal(p.b.mux.state, 'draining')
  // Crossing the GOAWAY: one channel's OPEN is already on the wire, another is still queued.
  const z = p.a.open()
  z.ch.write(Buffer.from('z'))
  pump(p.a, p.b)
  const w = p.a.open()
  w.ch.write(Buffer.from('w'))
  const fromB = pump(p.b, p.a)
  const goaway = fromB.find((f) => f.type === 'goaway')
  // x and y are the first two messages the listener counted: it processed those.
  assert.ok(goaway?.type === 'goaway' && goaway.lastProcessed === 2, 'GOAWAY counts x and y')
  assert.ok(
    fromB.some((f) => f.type === 'reset' && f.channel === z.ch.id && f.code === wireCodeOf('GOING_AWAY')),
    'the listener refused the OPEN above its goaway',
  )
  assert.deepEqual(p.a.goaways, [[2, 'GOING_AWAY']])
  assert.deepEqual(z.resets, [wireCodeOf('GOING_AWAY')], 'the crossing OPEN was reset once')
  assert.deepEqual(w.resets, [wireCodeOf('GOING_AWAY')], 'the queued OPEN was reset')
  assert.equal(p.a.mux.canOpen, false)
  assert.throws(() => p.a.open(), { code: 'GOING_AWAY' })
  // x and y finish normally.
  x.ch.write(pattern(10 * KiB, 3), true)
  y.ch.write(pattern(10 * KiB, 4), true)
  const sent = settle(p)
  assert.ok(sent > 0)
  assert.ok(x.fin && y.fin)
  assert.ok(x.body().equals(Buffer.concat([pattern(20 * KiB, 1), pattern(10 * KiB, 3)])))
  assert.ok(y.body().equals(Buffer.concat([pattern(20 * KiB, 2), pattern(10 * KiB, 4)])))
  assert.ok(p.a.mux.idle && p.b.mux.idle)
  assert.equal(p.b.incoming.length, 2, 'no channel above lastProcessed reached the handler')
  assert.equal(p.a.fatal.length, 0)
  assert.equal(p.b.fatal.length, 0)
})

test('after goaway() a remote OPEN above lastProcessed is refused, a late one on an old channel is not', () => {
  const b = new Side('listener', limits(), limits())
  b.incomingMode = 'consume'
  b.feed([openFrame(1, Uint8Array.of(1))])
  b.mux.goaway()
  b.feed([openFrame(3, Uint8Array.of(2)), dataFrame(1, Uint8Array.of(3))])
  const out = b.take()
  assert.deepEqual(
    out.filter((f) => f.type !== 'credit'),
    [
      { type: 'goaway', lastProcessed: 1, code: wireCodeOf('GOING_AWAY') },
      { type: 'reset', channel: 3, code: wireCodeOf('GOING_AWAY') },
    ],
  )
  assert.equal(b.incoming.length, 1)
  assert.equal(b.incoming[0]!.bytes, 2)
  assert.equal(b.fatal.length, 0)
})

test('a peer RESET drops our queue and reports its code; reset() sends RESET once', () => {
  const p = makePair()
  p.b.incomingMode = 'hold'
  const r = p.a.open()
  r.ch.write(pattern(600 * KiB))
  pump(p.a, p.b)
  p.b.incoming[0]!.ch.reset(wireCodeOf('CANCELLED'))
  p.b.incoming[0]!.ch.reset(wireCodeOf('CANCELLED'))
  const out = p.b.take()
  assert.equal(out.filter((f) => f.type === 'reset').length, 1)
  p.a.feed(out)
  assert.deepEqual(r.resets, [wireCodeOf('CANCELLED')])
  assert.equal(p.a.mux.getStats().queuedBytes, 0)
  assert.ok(p.a.mux.idle && p.b.mux.idle)
})

test('closeAll resets every channel with the error code and makes the mux inert', () => {
  const p = makePair()
  const r = p.a.open()
  r.ch.write(Buffer.from('x'))
  const unopened = p.a.open()
  pump(p.a, p.b)
  p.a.mux.closeAll(sbError('SESSION_CLOSED'))
  assert.equal(p.a.mux.state, 'closed')
  assert.deepEqual(r.resets, [wireCodeOf('SESSION_CLOSED')])
  assert.deepEqual(unopened.resets, [wireCodeOf('SESSION_CLOSED')])
  assert.equal(p.a.mux.getStats().openChannels, 0)
  assert.equal(p.a.mux.getStats().queuedBytes, 0)
  assert.throws(() => p.a.mux.open({ kind: 0, method: 0, messageId: 0 }), { code: 'SESSION_CLOSED' })
  p.a.feed([{ type: 'credit', channel: 0, increment: 5 }])
  assert.equal(p.a.fatal.length, 0)
})

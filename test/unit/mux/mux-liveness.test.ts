/**
 * The Mux's liveness and control frames with a fake clock (plain numbers): ping at half the
 * keepalive when idle, INACTIVITY_TIMEOUT after silence, KEEPALIVE_FLOOD, unknown frames skipped,
 * SETTINGS acknowledged, NAME reported.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { wireCodeOf } from '../../../src/errors.ts'
import { limits, makePair, ping, pump, Side } from './harness.ts'

const keepaliveMs = 1000

function idleSide(own = keepaliveMs, peer = keepaliveMs): Side {
  return new Side('dialer', limits({ keepaliveMs: own }), limits({ keepaliveMs: peer }))
}

test('an idle mux pings at half the keepalive, and the peer answers with the same bytes', () => {
  const p = makePair(limits({ keepaliveMs }))
  p.a.mux.tick(keepaliveMs / 2 - 1)
  assert.equal(p.a.mux.hasOutput, false, 'no ping before half the keepalive')
  p.a.mux.tick(keepaliveMs / 2)
  const sent = pump(p.a, p.b, keepaliveMs / 2)
  assert.equal(sent.length, 1)
  const pingFrame = sent[0]!
  assert.equal(pingFrame.type, 'ping')
  const answer = pump(p.b, p.a, keepaliveMs / 2)
  assert.equal(answer.length, 1)
  assert.equal(answer[0]!.type, 'pong')
  assert.deepEqual(
    answer[0]!.type === 'pong' && [...answer[0]!.data],
    pingFrame.type === 'ping' && [...pingFrame.data],
  )
  // The next ping is due half a keepalive after the last thing sent.
  p.a.mux.tick(keepaliveMs - 1)
  assert.equal(p.a.mux.hasOutput, false)
  p.a.mux.tick(keepaliveMs)
  assert.equal(p.a.take(keepaliveMs)[0]?.type, 'ping')
  assert.ok(p.a.mux.tickEveryMs > 0 && p.a.mux.tickEveryMs <= keepaliveMs / 4)
})

test('the ping interval is half of the smaller of both keepalives', () => {
  const a = idleSide(keepaliveMs, 400)
  a.mux.tick(199)
  assert.equal(a.mux.hasOutput, false)
  a.mux.tick(200)
  assert.equal(a.take(200)[0]?.type, 'ping')
})

test('sending anything postpones the ping', () => {
  const p = makePair(limits({ keepaliveMs }))
  p.b.incomingMode = 'consume'
  const r = p.a.open()
  r.ch.write(Buffer.from('work'))
  pump(p.a, p.b, 300)
  p.a.mux.tick(600)
  assert.equal(p.a.mux.hasOutput, false, 'only 300 ms since the last write')
  p.a.mux.tick(800)
  assert.equal(p.a.take(800)[0]?.type, 'ping')
})

test('silence past the keepalive fails with INACTIVITY_TIMEOUT; traffic from the peer defers it', () => {
  const a = idleSide()
  const r = a.open()
  a.mux.tick(keepaliveMs / 2)
  a.take(keepaliveMs / 2)
  a.mux.noteReceived(900)
  a.mux.tick(1500)
  assert.equal(a.fatal.length, 0, 'the peer spoke at 900 ms: 600 ms of silence is fine')
  a.mux.tick(1899)
  assert.equal(a.fatal.length, 0)
  a.mux.tick(1900)
  assert.equal(a.fatal.length, 1)
  assert.equal(a.fatal[0]!.code, 'INACTIVITY_TIMEOUT')
  assert.equal(a.mux.state, 'closed')
  assert.deepEqual(r.resets, [wireCodeOf('INACTIVITY_TIMEOUT')])
  const final = a.mux.takeFinalFrames()
  assert.ok(
    final.some((f) => f.type === 'goaway' && f.code === wireCodeOf('INACTIVITY_TIMEOUT')),
    'a GOAWAY with the code is left for the driver to send',
  )
  a.mux.tick(5000)
  assert.equal(a.fatal.length, 1, 'a closed mux reports once')
})

test('more than 3 pings faster than a quarter keepalive is KEEPALIVE_FLOOD', () => {
  const b = new Side('listener', limits({ keepaliveMs }), limits({ keepaliveMs }))
  for (const t of [0, 10, 20, 30]) b.feed([ping(t)], t)
  assert.equal(b.fatal.length, 0, 'three strikes are tolerated')
  assert.equal(b.take().filter((f) => f.type === 'pong').length, 4, 'each ping got its pong')
  b.feed([ping(40)], 40)
  assert.equal(b.fatal.length, 1)
  assert.equal(b.fatal[0]!.code, 'KEEPALIVE_FLOOD')
  const final = b.mux.takeFinalFrames()
  assert.ok(final.some((f) => f.type === 'goaway' && f.code === wireCodeOf('KEEPALIVE_FLOOD')))
})

test('pings a quarter keepalive apart, or with real work between them, are not a flood', () => {
  const b = new Side('listener', limits({ keepaliveMs }), limits({ keepaliveMs }))
  for (let i = 0; i < 20; i++) b.feed([ping(i)], i * (keepaliveMs / 4))
  assert.equal(b.fatal.length, 0)

  const c = new Side('listener', limits({ keepaliveMs }), limits({ keepaliveMs }))
  let t = 0
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 3; i++) c.feed([ping(i)], t++)
    c.feed([{ type: 'settings', ack: true, values: [] }], t++)
  }
  assert.equal(c.fatal.length, 0, 'any other frame clears the strikes')
  c.feed(
    [0, 1, 2, 3, 4].map((i) => ping(i)),
    t,
  )
  assert.equal(c.fatal[0]?.code, 'KEEPALIVE_FLOOD', 'five pings in one record still are')
})

test('an unknown frame type is skipped without output or error', () => {
  const b = new Side('listener', limits(), limits())
  b.feed([
    { type: 'unknown', typeByte: 0x7e, flags: 0x3, channel: 9, payload: Uint8Array.of(1, 2, 3) },
    { type: 'unknown', typeByte: 0xff, flags: 0, channel: 0, payload: new Uint8Array(0) },
  ])
  assert.equal(b.fatal.length, 0)
  assert.equal(b.mux.hasOutput, false)
  assert.equal(b.mux.state, 'open')
})

test('SETTINGS is acknowledged once; an ACK gets no answer; NAME is reported', () => {
  const b = new Side('listener', limits(), limits())
  b.feed([
    {
      type: 'settings',
      ack: false,
      values: [
        [1, 65536],
        [999, 7],
      ],
    },
  ])
  assert.deepEqual(b.take(), [{ type: 'settings', ack: true, values: [] }])
  b.feed([{ type: 'settings', ack: true, values: [] }])
  assert.equal(b.mux.hasOutput, false)
  b.feed([{ type: 'name', id: 3, name: 'echo.say' }])
  assert.deepEqual(b.names, [[3, 'echo.say']])
  assert.equal(b.fatal.length, 0)
})

test('PONG and unsolicited PONG are ignored; GOAWAY with an unknown code maps to INTERNAL', () => {
  const a = idleSide()
  a.feed([{ type: 'pong', data: new Uint8Array(8) }])
  assert.equal(a.fatal.length, 0)
  a.feed([{ type: 'goaway', lastProcessed: 0, code: 12345 }])
  assert.deepEqual(a.goaways, [[0, 'INTERNAL']])
  assert.equal(a.mux.canOpen, false)
})

/**
 * Bad input never crashes and never hangs (DESIGN.md §3 invariant 5): a scripted peer sends a
 * valid hello and then garbage, or garbage instead of a hello. Each case ends with a coded
 * error, the session closed, nothing thrown out of the event loop, and a healthy session beside
 * it unaffected.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type ErrorCode, SwitchboardError, wireCodeOf } from '../../../src/errors.ts'
import type { Channel } from '../../../src/mux/channel.ts'
import type { SessionOptions } from '../../../src/session/options.ts'
import { Session } from '../../../src/session/session.ts'
import { memoryPair } from '../../../src/testing/memory-pair.ts'
import { ScriptedPeer, type ScriptedPeerOptions } from '../../../src/testing/scripted-peer.ts'
import { FrameType, PREAMBLE_MAGIC, PROTOCOL_MAJOR, WireLimits } from '../../../src/wire/constants.ts'
import { encodeFrame } from '../../../src/wire/frame-encode.ts'
import { budget } from '../../budget.ts'
import { withTimeout } from '../../helpers/wait.ts'

const uncaught: unknown[] = []
const onUncaught = (err: unknown): void => {
  uncaught.push(err)
}
before(() => {
  process.on('uncaughtException', onUncaught)
  process.on('unhandledRejection', onUncaught)
})
after(() => {
  process.off('uncaughtException', onUncaught)
  process.off('unhandledRejection', onUncaught)
  assert.deepEqual(uncaught, [], 'nothing escaped to the process')
})

/** A record whose plaintext is `bytes` (flags byte first), with its u16 length header. */
function record(...bytes: number[]): Uint8Array {
  return Uint8Array.of(bytes.length >>> 8, bytes.length & 0xff, ...bytes)
}

/** A plain record (flags 0) holding the given encoded frames. */
function recordOf(...frames: Uint8Array[]): Uint8Array {
  const plain = concat(Uint8Array.of(0), ...frames)
  return concat(Uint8Array.of(plain.length >>> 8, plain.length & 0xff), plain)
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

/** Channel handler that keeps everything (never consumes). */
function holdAll(ch: Channel): void {
  ch.bind({ onData() {}, onEnd() {}, onReset() {}, onWritable() {} })
}

async function establishAgainst(
  peerOptions: ScriptedPeerOptions,
  sessionOptions: SessionOptions = {},
): Promise<{ session: Session; peer: ScriptedPeer; closed: Promise<SwitchboardError | undefined> }> {
  const [mine, theirs] = memoryPair()
  const peer = new ScriptedPeer(theirs, { role: 'listener', ...peerOptions })
  let resolveClosed!: (err: SwitchboardError | undefined) => void
  const closed = new Promise<SwitchboardError | undefined>((r) => {
    resolveClosed = r
  })
  const session = await Session.establish(mine, 'dialer', sessionOptions, {
    onChannel: holdAll,
    onClose: resolveClosed,
  })
  return { session, peer, closed }
}

/** Garbage sent after a valid hello, and the code the session must close with. */
const afterHello: Array<{ what: string; bytes: Uint8Array; code: ErrorCode; options?: SessionOptions }> = [
  { what: 'an empty record (length 0)', bytes: Uint8Array.of(0, 0), code: 'FRAME_MALFORMED' },
  { what: 'unknown record flags', bytes: record(0x80), code: 'FRAME_MALFORMED' },
  {
    what: 'a compressed record when no compression was negotiated',
    bytes: record(0x01, 1, 2, 3),
    code: 'COMPRESSION_ERROR',
  },
  {
    what: 'a frame whose length overruns its record',
    bytes: record(0, FrameType.DATA, 0, 2, 100, 1, 2, 3),
    code: 'FRAME_MALFORMED',
  },
  {
    what: 'a record ending inside a frame header',
    bytes: record(0, FrameType.DATA),
    code: 'FRAME_MALFORMED',
  },
  {
    what: 'a varint longer than allowed',
    bytes: record(0, FrameType.DATA, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
    code: 'FRAME_MALFORMED',
  },
  { what: 'DATA on channel 0', bytes: record(0, FrameType.DATA, 0, 0, 1, 7), code: 'FRAME_MALFORMED' },
  { what: 'a PING of 3 bytes', bytes: record(0, FrameType.PING, 0, 0, 3, 1, 2, 3), code: 'FRAME_MALFORMED' },
  {
    what: 'CREDIT with a zero increment',
    bytes: record(0, FrameType.CREDIT, 0, 0, 1, 0),
    code: 'FRAME_MALFORMED',
  },
  {
    what: 'an END detail over its limit',
    bytes: recordOf(
      encodeFrame({
        type: 'end',
        channel: 2,
        status: 1,
        detail: new Uint8Array(WireLimits.maxDetailBytes + 1),
      }),
    ),
    code: 'FRAME_TOO_LARGE',
  },
  {
    what: 'an OPEN trace field over its limit',
    bytes: record(0, FrameType.OPEN, 0x04, 2, 6, 0, 1, 1, 0x81, 0x04 /* 513 */, 0),
    code: 'FRAME_TOO_LARGE',
  },
  {
    what: 'an OPEN with the dialer’s (odd) parity from the listener',
    bytes: record(0, FrameType.OPEN, 0, 1, 3, 0, 1, 1),
    code: 'PROTOCOL_ERROR',
  },
  {
    what: 'DATA on a channel never opened',
    bytes: record(0, FrameType.DATA, 0, 4, 1, 9),
    code: 'PROTOCOL_ERROR',
  },
  {
    what: 'DATA beyond the announced channel window',
    bytes: concat(
      record(0, FrameType.OPEN, 0, 2, 3, 0, 1, 1),
      recordOf(encodeFrame({ type: 'data', channel: 2, fin: false, data: new Uint8Array(1100) })),
    ),
    code: 'FLOW_CONTROL',
    options: { limits: { channelWindow: 1024 } },
  },
  {
    what: 'a GOAWAY on a channel other than 0',
    bytes: record(0, FrameType.GOAWAY, 0, 3, 2, 0, 0),
    code: 'FRAME_MALFORMED',
  },
  {
    what: 'a SETTINGS frame with unknown flags',
    bytes: record(0, FrameType.SETTINGS, 0x80, 0, 0),
    code: 'FRAME_MALFORMED',
  },
]

for (const c of afterHello) {
  test(`after the hello, ${c.what} closes the session with ${c.code}`, async () => {
    const { session, peer, closed } = await establishAgainst({}, c.options)
    peer.sendRaw(c.bytes)
    const err = await withTimeout(closed, budget.waitTimeoutMs, `the session to fail with ${c.code}`)
    assert.ok(err instanceof SwitchboardError)
    assert.equal(err.code, c.code, err.message)
    assert.equal(session.state, 'closed')
    assert.equal(session.error, err)
    await withTimeout(peer.done, budget.waitTimeoutMs, 'the transport to close')
    assert.deepEqual(
      peer.framesOf('goaway').map((f) => f.code),
      [wireCodeOf(c.code)],
      'the peer was told the code in a GOAWAY',
    )
    assert.equal(session.getStats().openChannels, 0)
    assert.throws(() => session.open({ kind: 0, method: 0, messageId: 0 }), { code: 'SESSION_CLOSED' })
  })
}

test('garbage split into single bytes is still a coded error', async () => {
  const { peer, closed } = await establishAgainst({})
  const bytes = record(0, FrameType.DATA, 0, 2, 100, 1, 2, 3)
  for (const b of bytes) peer.sendRaw(Uint8Array.of(b))
  assert.equal((await withTimeout(closed, budget.waitTimeoutMs, 'the failure'))?.code, 'FRAME_MALFORMED')
})

test('an unknown frame type after the hello is skipped and the session stays usable', async () => {
  const { session, peer } = await establishAgainst({})
  peer.sendRaw(record(0, 0x70, 0x05, 3, 2, 0xaa, 0xbb))
  peer.sendFrames([{ type: 'ping', data: new Uint8Array(8) }])
  await withTimeout(
    new Promise<void>((resolve) => peer.on('frame', (f) => f.type === 'pong' && resolve())),
    budget.waitTimeoutMs,
    'the pong after the unknown frame',
  )
  assert.equal(session.state, 'open')
  session.abort()
})

/** Bytes instead of a valid preamble or hello, and the code establish() must reject with. */
const beforeHello: Array<{
  what: string
  bytes: () => Uint8Array[]
  code: ErrorCode
  options?: SessionOptions
}> = [
  {
    what: 'a wrong preamble',
    bytes: () => [Uint8Array.from('HTTP/1'.split('').map((c) => c.charCodeAt(0)))],
    code: 'BAD_PREAMBLE',
  },
  {
    what: 'a hello length over maxHelloBytes (checked before the body arrives)',
    bytes: () => [Uint8Array.of(...PREAMBLE_MAGIC, PROTOCOL_MAJOR, 0), Uint8Array.of(0x40, 0, 0, 0)],
    code: 'HELLO_TOO_LARGE',
  },
  {
    what: 'a hello over a small maxHelloBytes',
    bytes: () => [Uint8Array.of(...PREAMBLE_MAGIC, PROTOCOL_MAJOR, 0), Uint8Array.of(0, 0, 1, 0)],
    code: 'HELLO_TOO_LARGE',
    options: { maxHelloBytes: 128 },
  },
  {
    what: 'a hello whose keys go backwards',
    bytes: () => [
      Uint8Array.of(...PREAMBLE_MAGIC, PROTOCOL_MAJOR, 0),
      Uint8Array.of(0, 0, 0, 6, 2, 1, 0, 1, 1, 1),
    ],
    code: 'FRAME_MALFORMED',
  },
  {
    what: 'a hello field whose length overruns the hello',
    bytes: () => [Uint8Array.of(...PREAMBLE_MAGIC, PROTOCOL_MAJOR, 0), Uint8Array.of(0, 0, 0, 3, 9, 9, 9)],
    code: 'FRAME_TOO_LARGE',
  },
  {
    // A hello length of 0 is a refusal; the u16 wire code after it is the reason (protocol §6).
    what: 'a refusal in the hello slot (HANDSHAKE_BUSY)',
    bytes: () => [Uint8Array.of(...PREAMBLE_MAGIC, PROTOCOL_MAJOR, 0), Uint8Array.of(0, 0, 0, 0, 0, 45)],
    code: 'HANDSHAKE_BUSY',
  },
  {
    what: 'a refusal with a wire code this version does not know',
    bytes: () => [Uint8Array.of(...PREAMBLE_MAGIC, PROTOCOL_MAJOR, 0), Uint8Array.of(0, 0, 0, 0, 0x7f, 0xff)],
    code: 'INTERNAL',
  },
]

for (const c of beforeHello) {
  test(`before the hello, ${c.what} fails establish() with ${c.code}`, async () => {
    const [mine, theirs] = memoryPair()
    const peer = new ScriptedPeer(theirs, { greet: false })
    peer.sendRaw(...c.bytes())
    const result = await withTimeout(
      Session.establish(
        mine,
        'dialer',
        { handshakeTimeoutMs: budget.waitTimeoutMs, ...c.options },
        {
          onChannel: () => {},
        },
      ).then(
        () => assert.fail('establish() resolved'),
        (err: unknown) => err,
      ),
      budget.waitTimeoutMs,
      'establish() to reject',
    )
    assert.ok(result instanceof SwitchboardError)
    assert.equal(result.code, c.code, result.message)
    await withTimeout(peer.done, budget.waitTimeoutMs, 'the transport to close')
  })
}

test('a peer claiming the same role is refused with PROTOCOL_ERROR', async () => {
  const [mine, theirs] = memoryPair()
  const peer = new ScriptedPeer(theirs, { role: 'dialer' })
  await assert.rejects(Session.establish(mine, 'dialer', {}, { onChannel: () => {} }), {
    code: 'PROTOCOL_ERROR',
  })
  await withTimeout(peer.done, budget.waitTimeoutMs, 'the transport to close')
})

test('a peer that sends half a hello and stalls hits HANDSHAKE_TIMEOUT', async () => {
  const [mine, theirs] = memoryPair()
  const peer = new ScriptedPeer(theirs, { greet: false })
  peer.sendRaw(Uint8Array.of(...PREAMBLE_MAGIC, PROTOCOL_MAJOR, 0), Uint8Array.of(0, 0, 0, 50, 1))
  await assert.rejects(
    Session.establish(
      mine,
      'dialer',
      { handshakeTimeoutMs: budget.handshakeTimeoutMs },
      { onChannel: () => {} },
    ),
    { code: 'HANDSHAKE_TIMEOUT' },
  )
  await withTimeout(peer.done, budget.waitTimeoutMs, 'the transport to close')
})

test('a healthy session beside the hostile ones is unaffected', async () => {
  const hostile = await establishAgainst({})
  const [a, b] = memoryPair()
  const [client, server] = await Promise.all([
    Session.establish(a, 'dialer', {}, { onChannel: () => {} }),
    Session.establish(
      b,
      'listener',
      {},
      {
        onChannel(ch) {
          ch.bind({
            onData(data, fin) {
              ch.consume(data.length)
              if (data.length > 0) ch.write(data.slice())
              if (fin) ch.end()
            },
            onEnd() {},
            onReset() {},
            onWritable() {},
          })
        },
      },
    ),
  ])
  hostile.peer.sendRaw(Uint8Array.of(0, 0))
  const ch = client.open({ kind: 0, method: 1, messageId: 1 })
  const reply = new Promise<string>((resolve, reject) => {
    const parts: Uint8Array[] = []
    ch.bind({
      onData(data, fin) {
        parts.push(data.slice())
        ch.consume(data.length)
        if (fin) resolve(Buffer.concat(parts).toString())
      },
      onEnd: () => reject(new Error('end')),
      onReset: (code) => reject(new Error(`reset ${code}`)),
      onWritable() {},
    })
  })
  ch.write(Buffer.from('still here'), true)
  assert.equal(
    (await withTimeout(hostile.closed, budget.waitTimeoutMs, 'the hostile session'))?.code,
    'FRAME_MALFORMED',
  )
  assert.equal(await withTimeout(reply, budget.waitTimeoutMs, 'the echo'), 'still here')
  await client.close()
  await server.closed
})

/**
 * Conformance of the real server with docs/protocol.md, checked by a peer written only from that
 * document (spec-peer.ts: no import from src/ but `listen`, which starts the server in-process,
 * and `defineProtocol` for the contracts test).
 *
 * - Every golden frame vector (test/fixtures/golden/frames.json) and the golden session
 *   transcript go through the spec peer's own decoder and encoder, byte for byte, so the spec,
 *   the fixtures and the implementation cannot drift apart.
 * - Over a raw unix socket the spec peer establishes a session (preamble, hello, SETTINGS, ACK)
 *   and exercises requests (raw, msgpack, a missing method), a one-way message, CANCEL, unknown
 *   frame types, PING, a request and a response big enough for channels (whole-size CREDIT,
 *   connection credit), a subscription with event credit, and a clean close with GOAWAY both ways.
 * - Connection errors: an unbound name id, a name id bound twice, and a refusal (PAIR_FULL) after
 *   the hello exchange.
 *
 * Every wait has a timeout (the spec peer's default 5 s); nothing sleeps for a fixed time.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { defineProtocol, listen } from '../../src/index.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { withTimeout } from '../helpers/wait.ts'
import {
  decodeFrames,
  decodeHello,
  encodeFrame,
  encodeHello,
  type FrameOf,
  frameFromGolden,
  frameHello,
  hex,
  K,
  mp,
  record,
  S,
  SpecError,
  type SpecFrame,
  SpecPeer,
  unhex,
  varintBytes,
  W,
} from './spec-peer.ts'

type Server = Awaited<ReturnType<typeof listen>>
/** What this test needs of a server-side connection (typed here: nothing else comes from src/). */
interface ServerConnection {
  once(event: 'close', listener: (err: unknown) => void): unknown
}

interface GoldenVector {
  name: string
  frame: Record<string, unknown>
  hex: string
  notes: string[]
}
interface TranscriptUnit {
  what: string
  hex: string
  notes: string[]
}

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/golden/${name}`, import.meta.url), 'utf8'))

/** §20: the bytes a note annotates are its leading `ab` / `ab*N` tokens. */
function noteHex(note: string): string {
  let out = ''
  for (const token of note.split(' ')) {
    const m = /^([0-9a-f]{2})(?:\*(\d+))?$/.exec(token)
    if (m === null) break
    out += m[1]!.repeat(m[2] === undefined ? 1 : Number(m[2]))
  }
  return out
}

function assertSpecError(fn: () => unknown, code: string, what: string): void {
  assert.throws(fn, (err: unknown) => err instanceof SpecError && err.code === code, what)
}

let dir: RuntimeDir
let server: Server
let socketPath = ''
const serverConnections: ServerConnection[] = []
/** What the server's handlers saw. */
const notes: unknown[] = []
const cancelled: string[] = []
/** Whether the server opened its RESPONSE channel with ONE_WAY (checked by the last test). */
let responseOneWay: boolean | undefined

before(async () => {
  dir = await makeRuntimeDir('sb-spec-')
  process.env['SWITCHBOARD_RUNTIME_DIR'] = dir.path
  server = await listen('spec-peer')
  assert.match(server.address, /^unix:\//)
  socketPath = server.address.slice('unix:'.length)
  server.on('connection', (conn) => serverConnections.push(conn))
  server.handle('echo', (value) => value)
  server.handle('note', (value) => {
    notes.push(value)
  })
  server.handle('notes', () => notes)
  server.handle(
    'slow',
    (_value, ctx) =>
      new Promise((resolve) => {
        ctx.signal.addEventListener(
          'abort',
          () => {
            cancelled.push(String((ctx.signal.reason as { code?: unknown } | undefined)?.code))
            resolve('too late')
          },
          { once: true },
        )
      }),
  )
  server.handle('cancelled', () => cancelled)
})

after(async () => {
  await server?.close()
  await dir?.cleanup()
})

// ---------------------------------------------------------------- golden vectors (§20)

test('golden frames: the spec peer decodes and re-encodes every vector, and refuses every truncation', () => {
  const vectors = fixture('frames.json') as GoldenVector[]
  assert.ok(vectors.length >= 30, 'the golden file lists every frame type')
  const types = new Set<string>()
  for (const v of vectors) {
    assert.equal(v.notes.map(noteHex).join(''), v.hex, `${v.name}: notes spell the hex`)
    const expected = frameFromGolden(v.frame)
    types.add(expected.type)
    const bytes = unhex(v.hex)
    assert.deepEqual(decodeFrames(bytes), [expected], `${v.name}: decodes to its frame`)
    assert.equal(hex(encodeFrame(expected)), v.hex, `${v.name}: encodes to its hex`)
    for (let n = 1; n < bytes.length; n++) {
      assertSpecError(
        () => decodeFrames(bytes.subarray(0, n)),
        'FRAME_MALFORMED',
        `${v.name}: prefix of ${n} bytes`,
      )
    }
  }
  const all = ['open', 'data', 'end', 'reset', 'credit', 'ping', 'pong', 'goaway', 'settings', 'name']
  for (const type of [...all, 'msg', 'reply', 'cancel', 'unknown'])
    assert.ok(types.has(type), `a ${type} vector`)
})

test('golden session transcript: the spec peer reads both sides unit by unit', () => {
  const transcript = fixture('session-transcript.json') as {
    dialer: TranscriptUnit[]
    listener: TranscriptUnit[]
  }
  for (const [side, units] of [
    ['dialer', transcript.dialer],
    ['listener', transcript.listener],
  ] as const) {
    const [preamble, hello, ...records] = units
    assert.ok(preamble && hello, side)
    for (const u of units) assert.equal(u.notes.map(noteHex).join(''), u.hex, `${side} ${u.what}: notes`)
    assert.equal(preamble.hex, '535742440300', `${side}: preamble SWBD 3.0`)
    const helloBytes = unhex(hello.hex)
    const length = new DataView(helloBytes.buffer).getUint32(0)
    assert.equal(length, helloBytes.length - 4, `${side}: hello length`)
    const decoded = decodeHello(helloBytes.subarray(4))
    assert.deepEqual(decoded.versions, [3])
    assert.equal(decoded.role, side === 'dialer' ? 0 : 1)
    assert.equal(hex(frameHello(encodeHello(decoded))), hello.hex, `${side}: hello re-encodes`)
    const frames: SpecFrame[][] = []
    for (const u of records) {
      const bytes = unhex(u.hex)
      assert.equal((bytes[0]! << 8) | bytes[1]!, bytes.length - 2, `${side} ${u.what}: record length`)
      assert.equal(bytes[2], 0, `${side} ${u.what}: record flags`)
      const fs = decodeFrames(bytes.subarray(3))
      assert.equal(hex(record(fs)), u.hex, `${side} ${u.what}: re-encodes`)
      frames.push(fs)
    }
    // §15: the first frame is SETTINGS, the second record acknowledges the peer's.
    assert.deepEqual(frames[0], [{ type: 'settings', ack: false, values: [] }])
    assert.deepEqual(frames[1], [{ type: 'settings', ack: true, values: [] }])
    // §13: each side's GOAWAY counts the messages (MSG frames) the other side sent.
    const other = side === 'dialer' ? transcript.listener : transcript.dialer
    const otherMessages = other
      .slice(2)
      .flatMap((u) => decodeFrames(unhex(u.hex).subarray(3)))
      .filter((f) => f.type === 'msg' || (f.type === 'open' && (f.kind & K.MASK) !== K.RESPONSE)).length
    const goaway = frames.flat().find((f): f is FrameOf<'goaway'> => f.type === 'goaway')
    assert.deepEqual(goaway, { type: 'goaway', lastProcessed: otherMessages, code: W.GOING_AWAY })
  }
})

// ---------------------------------------------------------------- connection errors (§14, §15)

test('an unbound name id is a connection error: GOAWAY PROTOCOL_ERROR, then close', async () => {
  const peer = new SpecPeer({ path: socketPath })
  try {
    await peer.establish()
    peer.sentCount++
    peer.send([{ type: 'msg', kind: K.REQUEST, method: 7, messageId: 1, data: mp.nil }])
    const goaway = await peer.take((f): f is FrameOf<'goaway'> => f.type === 'goaway', 'GOAWAY')
    assert.equal(goaway.code, W.PROTOCOL_ERROR)
    assert.ok(goaway.lastProcessed <= 1)
    assert.equal(peer.inbox.filter((f) => f.type === 'reply').length, 0, 'no REPLY for it')
    await peer.waitEnd()
  } finally {
    peer.destroy()
  }
})

test('OFFER frames are read; more than 1024 protocols from one peer is PROTOCOL_ERROR', async () => {
  const peer = new SpecPeer({ path: socketPath })
  try {
    await peer.establish()
    // The same protocol offered again replaces it: no limit reached.
    const same = Array.from({ length: 1100 }, () => ({
      type: 'offer' as const,
      offer: { name: 'p', version: 1, methods: ['m'], events: [] },
    }))
    peer.send(same)
    const echoed = await peer.reply(peer.message(K.REQUEST, 'echo', mp.str('still here')))
    assert.equal(echoed.status, 0)
    const many = Array.from({ length: 1025 }, (_, i) => ({
      type: 'offer' as const,
      offer: { name: `p${i}`, version: 1, methods: [], events: [] },
    }))
    peer.send(many.slice(0, 600))
    peer.send(many.slice(600))
    const goaway = await peer.take((f): f is FrameOf<'goaway'> => f.type === 'goaway', 'GOAWAY')
    assert.equal(goaway.code, W.PROTOCOL_ERROR)
    await peer.waitEnd()
  } finally {
    peer.destroy()
  }
})

test('binding a name id twice is a connection error: GOAWAY PROTOCOL_ERROR, then close', async () => {
  const peer = new SpecPeer({ path: socketPath })
  try {
    await peer.establish()
    peer.send([
      { type: 'name', id: 1, name: 'echo' },
      { type: 'name', id: 1, name: 'notes' },
    ])
    const goaway = await peer.take((f): f is FrameOf<'goaway'> => f.type === 'goaway', 'GOAWAY')
    assert.deepEqual(goaway, { type: 'goaway', lastProcessed: 0, code: W.PROTOCOL_ERROR })
    await peer.waitEnd()
  } finally {
    peer.destroy()
  }
})

test('a refusal after the hello exchange is a GOAWAY with its code (PAIR_FULL), not an ACK', async () => {
  const pairServer = await listen('spec-pair', { maxConnections: 1 })
  const path = pairServer.address.slice('unix:'.length)
  const first = new SpecPeer({ path })
  const second = new SpecPeer({ path })
  try {
    await first.establish()
    // The second dialer sends its hello and SETTINGS, and gets the refusal instead of the ACK.
    await second.start()
    const goaway = await second.take((f): f is FrameOf<'goaway'> => f.type === 'goaway', 'the refusal')
    assert.deepEqual(goaway, { type: 'goaway', lastProcessed: 0, code: W.PAIR_FULL })
    assert.ok(
      !second.received.some((f) => f.type === 'settings' && f.ack),
      'a refusing listener does not acknowledge the SETTINGS',
    )
    await second.waitEnd()
    // The first connection is unaffected: close it cleanly.
    first.send([{ type: 'goaway', lastProcessed: first.receivedCount, code: W.GOING_AWAY }])
    first.end()
    await first.waitEnd()
    assert.deepEqual(first.violations, [])
  } finally {
    first.destroy()
    second.destroy()
    await withTimeout(pairServer.close(), 10_000, 'the pair server to close')
  }
})

// ---------------------------------------------------------------- a whole session (§9–§15)

test('a session with the real server, driven by the spec alone', async (t) => {
  const peer = new SpecPeer({
    path: socketPath,
    // Small windows, so the server has to wait for our CREDIT frames (§10).
    limits: [
      [S.CHANNEL_WINDOW, 65536],
      [S.CONNECTION_WINDOW, 65536],
    ],
  })
  const reply = (messageId: number): Promise<FrameOf<'reply'>> => peer.reply(messageId)
  try {
    await t.test('establishment: preamble, hello, SETTINGS first, ACK', async () => {
      await peer.establish()
      assert.equal(hex(peer.serverPreamble!), '535742440300')
      const hello = peer.serverHello!
      assert.deepEqual(hello.versions, [3])
      assert.equal(hello.role, 1)
      assert.equal(hello.linkId.length, 16)
      assert.ok(hello.codecs.includes('msgpack'))
      const first = peer.received[0]
      assert.ok(first?.type === 'settings' && !first.ack, 'the server’s first frame is SETTINGS')
    })

    await t.test('a request with raw bytes: REQUEST|RAW, answered by REPLY RAW', async () => {
      const bytes = Uint8Array.of(0, 1, 2, 0xfe, 0xff)
      const id = peer.message(K.REQUEST | K.RAW, 'echo', bytes)
      assert.equal(id, 1, 'message ids start at 1')
      const r = await reply(id)
      assert.deepEqual(r, { type: 'reply', messageId: id, status: 0, raw: true, data: bytes })
    })

    await t.test('a msgpack value with a deadline and a trace: the same bytes come back', async () => {
      const value = mp.map([
        ['a', mp.int(1)],
        ['b', mp.arr(mp.true, mp.nil)],
      ])
      assert.equal(hex(value), '82a16101a16292c3c0')
      const id = peer.message(K.REQUEST, 'echo', value, {
        deadlineMs: 5000,
        trace: Uint8Array.of(0xde, 0xad),
      })
      const r = await reply(id)
      assert.deepEqual(r, { type: 'reply', messageId: id, status: 0, raw: false, data: value })
    })

    await t.test('a method without handler: REPLY METHOD_NOT_FOUND with its JSON detail', async () => {
      const id = peer.message(K.REQUEST, 'nope', new Uint8Array(0))
      const r = await reply(id)
      assert.equal(r.status, W.METHOD_NOT_FOUND)
      assert.equal(r.raw, false)
      const detail = JSON.parse(Buffer.from(r.data).toString('utf8')) as Record<string, unknown>
      assert.equal(detail['code'], 'METHOD_NOT_FOUND')
      assert.equal(typeof detail['message'], 'string')
    })

    await t.test('a one-way MSG, then a request that observes it', async () => {
      const noteId = peer.message(K.NOTIFY, 'note', mp.str('x'))
      const id = peer.message(K.REQUEST, 'notes', new Uint8Array(0))
      const r = await reply(id)
      assert.equal(hex(r.data), hex(mp.arr(mp.str('x'))))
      assert.ok(
        !peer.inbox.some((f) => f.type === 'reply' && f.messageId === noteId),
        'nothing answers a NOTIFY',
      )
    })

    await t.test('CANCEL: the handler is aborted and no REPLY follows', async () => {
      const slow = peer.message(K.REQUEST, 'slow', new Uint8Array(0))
      peer.send([{ type: 'cancel', messageId: slow, code: W.CANCELLED }])
      const r = await reply(peer.message(K.REQUEST, 'cancelled', new Uint8Array(0)))
      assert.equal(hex(r.data), hex(mp.arr(mp.str('CANCELLED'))))
      // Anything the server sent about `slow` would be before the PONG.
      peer.send([{ type: 'ping', data: Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1) }])
      await peer.take((f) => f.type === 'pong' && hex(f.data) === '0101010101010101', 'PONG')
      assert.ok(
        !peer.received.some((f) => f.type === 'reply' && f.messageId === slow),
        'no REPLY after CANCEL',
      )
    })

    await t.test('an unknown frame type is skipped; PING is answered by PONG with its data', async () => {
      peer.send([
        { type: 'unknown', typeByte: 0x7f, flags: 3, channel: 9, payload: Uint8Array.of(1, 2, 3) },
        { type: 'ping', data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) },
      ])
      await peer.take((f) => f.type === 'pong' && hex(f.data) === '0102030405060708', 'PONG')
    })

    await t.test('a request and a response bigger than a frame travel on channels', async () => {
      const body = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff)
      const { id: method, frames } = peer.name('echo')
      assert.deepEqual(frames, [], 'echo is already bound')
      const messageId = peer.nextMessageId()
      const serverWindow = peer.serverLimit(S.CHANNEL_WINDOW)
      assert.ok(body.length > serverWindow, 'bigger than the server’s channel window')
      const channel = await peer.channel(
        { kind: K.REQUEST | K.RAW, method, messageId, oneWay: true, totalSize: body.length },
        body,
      )
      assert.equal(channel, 1, 'the dialer’s first channel id is 1')
      // §10: the server granted the whole announced size at once.
      const grant = peer.received.find((f) => f.type === 'credit' && f.channel === channel)
      assert.deepEqual(grant, { type: 'credit', channel, increment: body.length - serverWindow })
      const open = await peer.take(
        (f): f is FrameOf<'open'> =>
          f.type === 'open' && (f.kind & K.MASK) === K.RESPONSE && f.messageId === messageId,
        'the RESPONSE channel',
        15_000,
      )
      responseOneWay = open.oneWay
      assert.equal(open.channel % 2, 0, 'the listener opens even channel ids')
      assert.equal(open.kind, K.RESPONSE | K.RAW)
      assert.equal(open.method, 0)
      assert.equal(open.totalSize, body.length)
      const { body: got, end } = await peer.collect(open.channel, open.data)
      assert.ok(end.type === 'data' && end.fin, 'the response ends with FIN')
      assert.equal(Buffer.compare(got, body), 0, 'the same 300000 bytes came back')
      // §9: a RESPONSE OPEN without ONE_WAY: end our direction so the channel closes.
      if (!open.oneWay)
        peer.send([{ type: 'data', channel: open.channel, fin: true, data: new Uint8Array(0) }])
      assert.ok(!peer.inbox.some((f) => f.type === 'reply' && f.messageId === messageId), 'one response only')
    })

    await t.test('a subscription: acknowledgement, numbered events as MSG frames, event credit', async () => {
      const { id: method, frames } = peer.name('ticks')
      peer.send(frames)
      const window = 2
      const channel = await peer.channel(
        { kind: K.SUBSCRIBE, method, messageId: peer.nextMessageId(), oneWay: false },
        // window, policy 0 (block), flags 0 (a new subscription), resumeAfter 0, an empty label
        Uint8Array.from([...varintBytes(window), 0, 0, 0, 0]),
        false,
      )
      await peer.take(
        (f) => f.type === 'data' && f.channel === channel && hex(f.data) === '01',
        'the publisher’s acknowledgement byte',
      )
      const published = ['e1', 'e2', 'e3'].map((e) => server.publish('ticks', e))
      const event = async (what: string): Promise<FrameOf<'msg'>> => {
        const f = await peer.take(
          (x): x is FrameOf<'msg'> => x.type === 'msg' && (x.kind & K.MASK) === K.EVENT,
          what,
        )
        assert.equal(peer.serverNames.get(f.method), 'ticks', 'method = the publisher’s name id of the topic')
        return f
      }
      const first = await event('event 1')
      assert.equal(hex(first.data), hex(mp.str('e1')))
      assert.equal(first.messageId, 1, 'the message id of an event is its sequence number, from 1')
      const second = await event('event 2')
      assert.equal(hex(second.data), hex(mp.str('e2')))
      assert.equal(second.messageId, 2)
      // The window is 2: the third event waits for credit. Had it been sent, it would be ahead
      // of the PONG.
      peer.send([{ type: 'ping', data: Uint8Array.of(2, 2, 2, 2, 2, 2, 2, 2) }])
      await peer.take((f) => f.type === 'pong' && hex(f.data) === '0202020202020202', 'PONG')
      assert.ok(!peer.inbox.some((f) => f.type === 'msg'), 'no event beyond the window')
      peer.send([{ type: 'credit', channel, increment: 2 }])
      const third = await event('event 3, after credit')
      assert.equal(hex(third.data), hex(mp.str('e3')))
      assert.equal(third.messageId, 3)
      await withTimeout(Promise.all(published), 5000, 'publish() to resolve')
      // Unsubscribe: FIN from us, FIN back.
      peer.send([{ type: 'data', channel, fin: true, data: new Uint8Array(0) }])
      const fin = await peer.take(
        (f) => (f.type === 'data' || f.type === 'end' || f.type === 'reset') && f.channel === channel,
        'the end of the subscription',
      )
      assert.deepEqual(fin, { type: 'data', channel, fin: true, data: new Uint8Array(0) })
    })

    await t.test(
      'a clean close: GOAWAY with the message counts from each side, then the socket ends',
      async () => {
        // Ours: 7 MSG frames, the big request's channel and the SUBSCRIBE; theirs: 3 events.
        assert.equal(peer.sentCount, 9)
        assert.equal(peer.receivedCount, 3)
        const conn = serverConnections.at(-1)
        assert.ok(conn !== undefined)
        const closeError = new Promise<unknown>((resolve) => conn.once('close', resolve))
        peer.send([{ type: 'goaway', lastProcessed: peer.receivedCount, code: W.GOING_AWAY }])
        const closing = server.close()
        const goaway = await peer.take(
          (f): f is FrameOf<'goaway'> => f.type === 'goaway',
          'the server’s GOAWAY',
        )
        assert.deepEqual(goaway, { type: 'goaway', lastProcessed: peer.sentCount, code: W.GOING_AWAY })
        // Nothing is in flight, so the server closes at once (well before its 5 s close timeout).
        await peer.waitEnd('the server to end the socket', 4000)
        peer.end()
        assert.equal(
          await withTimeout(closeError, 5000, 'the server connection to close'),
          undefined,
          'a clean close',
        )
        await withTimeout(closing, 5000, 'server.close()')
      },
    )

    assert.deepEqual(peer.violations, [], 'the server broke no rule the spec peer checks')
  } finally {
    peer.destroy()
  }
})

// ---------------------------------------------------------------- contracts (§4 PROTOCOLS, §8 OFFER)

test('contracts: PROTOCOLS in the hello, OFFER for one implemented later, INPUT_INVALID', async () => {
  const contracts = await listen('spec-contracts')
  // A Standard Schema written by hand (the spec peer knows no schema library): a string.
  const text = {
    '~standard': {
      version: 1 as const,
      vendor: 'spec-test',
      validate: (v: unknown) =>
        typeof v === 'string' ? { value: v } : { issues: [{ message: 'not a string', path: ['x'] }] },
      types: undefined as unknown as { input: string; output: string },
    },
  }
  contracts.implement(
    defineProtocol({
      name: 'p1',
      version: '1.2',
      requests: { echo: { input: text, output: text } },
      events: { tick: text },
    }),
    {
      echo: (s) => s,
    },
  )
  const peer = new SpecPeer({ path: contracts.address.slice('unix:'.length) })
  try {
    await peer.establish()
    assert.deepEqual(peer.serverHello!.protocols, [
      { name: 'p1', version: 65536 + 2, methods: ['echo'], events: ['tick'] },
    ])
    contracts.implement(
      defineProtocol({ name: 'p2', version: '3.0', requests: { up: { input: text, output: text } } }),
      {
        up: (s) => s.toUpperCase(),
      },
    )
    const offer = await peer.take((f): f is FrameOf<'offer'> => f.type === 'offer', 'the OFFER')
    assert.deepEqual(offer.offer, { name: 'p2', version: 3 * 65536, methods: ['up'], events: [] })
    // A contract's method is the name `protocol/method`. The hello bound p1's names (§14):
    // p1/echo is id 1 and p1/tick id 2 of our table, without NAME; p2 came later, with NAME.
    assert.deepEqual(peer.name('p1/echo'), { id: 1, frames: [] })
    const ok = await peer.reply(peer.message(K.REQUEST, 'p2/up', mp.str('ab')))
    assert.deepEqual(
      peer.name('p2/up'),
      { id: 3, frames: [] },
      'bound by its NAME, after the hello-bound ids',
    )
    assert.deepEqual(ok, {
      type: 'reply',
      messageId: ok.messageId,
      status: 0,
      raw: false,
      data: mp.str('AB'),
    })
    const echoed = await peer.reply(peer.message(K.REQUEST, 'p1/echo', mp.str('hi')))
    assert.deepEqual(echoed.data, mp.str('hi'))
    const bad = await peer.reply(peer.message(K.REQUEST, 'p1/echo', mp.int(5)))
    assert.equal(bad.status, W.INPUT_INVALID)
    const detail = JSON.parse(Buffer.from(bad.data).toString('utf8')) as Record<string, unknown>
    assert.equal(detail['code'], 'INPUT_INVALID')
    assert.deepEqual(detail['details'], { issues: [{ path: ['x'], message: 'not a string' }], truncated: 0 })
    // A 2.0 peer binds its names from 1 with NAME: that rebinds the hello-bound ids, once.
    const legacy = new SpecPeer({ path: contracts.address.slice('unix:'.length), helloBound: false })
    try {
      await legacy.establish()
      const up = await legacy.reply(legacy.message(K.REQUEST, 'p2/up', mp.str('x')))
      assert.deepEqual(up.data, mp.str('X'))
      const again = await legacy.reply(legacy.message(K.REQUEST, 'p1/echo', mp.str('y')))
      assert.deepEqual(again.data, mp.str('y'))
      assert.deepEqual(legacy.name('p2/up'), { id: 1, frames: [] }, 'the 2.0 peer bound p2/up as id 1')
      assert.deepEqual(legacy.violations, [])
    } finally {
      legacy.destroy()
    }
    assert.deepEqual(peer.violations, [])
  } finally {
    peer.destroy()
    await withTimeout(contracts.close(), 10_000, 'the contracts server to close')
  }
})

test('a RESPONSE channel is opened with ONE_WAY (§9)', () => {
  assert.equal(responseOneWay, true)
})

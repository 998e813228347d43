import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FrameType } from '../../../src/wire/constants.ts'
import { Cursor } from '../../../src/wire/cursor.ts'
import type { Frame } from '../../../src/wire/frame.ts'
import { readFrame, readFrames } from '../../../src/wire/frame-decode.ts'
import {
  bodyOf,
  encodeFrame,
  frameHeaderSize,
  frameSize,
  writeFrameHeader,
} from '../../../src/wire/frame-encode.ts'
import { UnitReader } from '../../../src/wire/unit-reader.ts'
import {
  assertCode,
  concat,
  frameFromJson,
  fromHex,
  loadGolden,
  noteBytes,
  record,
  toHex,
} from './helpers.ts'

const golden = loadGolden()

/** Builds a frame by hand: u8 type, u8 flags, varint channel (< 128), varint length (< 128), payload. */
function raw(type: number, flags: number, channel: number, payloadHex: string): Uint8Array {
  const payload = fromHex(payloadHex)
  assert.ok(channel < 128 && payload.length < 128)
  return concat(Uint8Array.of(type, flags, channel, payload.length), payload)
}

function takeRecordFrames(reader: UnitReader): Frame[] | undefined {
  const body = reader.takeUnit(2, 0xffff, 'FRAME_TOO_LARGE')
  if (body === undefined) return undefined
  assert.equal(body[0], 0, 'record flags')
  return readFrames(body, 1)
}

// ---------------------------------------------------------------- golden vectors

test('golden: the notes annotate exactly the bytes of each vector, in order', () => {
  const names = new Set<string>()
  for (const v of golden) {
    assert.ok(!names.has(v.name), `duplicate name ${v.name}`)
    names.add(v.name)
    assert.equal(v.notes.map(noteBytes).join(''), v.hex, v.name)
  }
})

test('golden: the vectors cover every frame type and every OPEN optional field and flag', () => {
  const types = new Set(golden.map((v) => v.frame['type']))
  for (const t of [
    'open',
    'data',
    'end',
    'reset',
    'credit',
    'ping',
    'pong',
    'goaway',
    'settings',
    'name',
    'offer',
  ]) {
    assert.ok(types.has(t), `no vector for ${t}`)
  }
  assert.ok(types.has('unknown'), 'no vector for an unknown frame type')
  const opens = golden.filter((v) => v.frame['type'] === 'open').map((v) => v.frame)
  for (const field of ['deadlineMs', 'trace', 'totalSize']) {
    assert.ok(
      opens.some((f) => field in f),
      `no OPEN vector with ${field}`,
    )
  }
  assert.ok(opens.some((f) => f['fin'] === true))
  assert.ok(opens.some((f) => f['oneWay'] === true))
  assert.ok(golden.some((v) => v.frame['type'] === 'settings' && v.frame['ack'] === true))
  assert.ok(golden.some((v) => v.frame['type'] === 'data' && v.frame['fin'] === true))
})

test('golden: the encoder produces each vector byte for byte', () => {
  for (const v of golden) {
    const frame = frameFromJson(v.frame)
    assert.equal(toHex(encodeFrame(frame)), v.hex, v.name)
    assert.equal(frameSize(frame), v.hex.length / 2, `${v.name} frameSize`)
    assert.equal(frameHeaderSize(frame) + (bodyOf(frame)?.length ?? 0), frameSize(frame), v.name)
  }
})

test('golden: writeFrameHeader at an offset, body appended by the caller, gives the same bytes', () => {
  for (const v of golden) {
    const frame = frameFromJson(v.frame)
    const buf = new Uint8Array(frameSize(frame) + 5).fill(0xee)
    const end = writeFrameHeader(frame, buf, 3)
    assert.equal(end, 3 + frameHeaderSize(frame), v.name)
    const body = bodyOf(frame)
    if (body !== undefined) buf.set(body, end)
    assert.equal(toHex(buf.subarray(3, 3 + frameSize(frame))), v.hex, v.name)
    assert.equal(buf[2], 0xee)
    assert.equal(buf[3 + frameSize(frame)], 0xee)
  }
})

test('golden: the decoder reads each vector back to its description', () => {
  for (const v of golden) {
    assert.deepEqual(readFrames(fromHex(v.hex)), [frameFromJson(v.frame)], v.name)
  }
})

test('golden: each vector inside a record, fed one byte at a time through UnitReader', () => {
  for (const v of golden) {
    const wire = record(fromHex(v.hex))
    const reader = new UnitReader()
    for (let i = 0; i < wire.length; i++) {
      assert.equal(takeRecordFrames(reader), undefined, `${v.name}: unit before byte ${i}`)
      reader.push(wire.subarray(i, i + 1))
    }
    assert.deepEqual(takeRecordFrames(reader), [frameFromJson(v.frame)], v.name)
    assert.equal(reader.buffered, 0)
    assert.equal(takeRecordFrames(reader), undefined)
  }
})

test('golden: all vectors in one record, then one record each, as one byte-at-a-time stream', () => {
  const frames = golden.map((v) => frameFromJson(v.frame))
  const all = concat(...golden.map((v) => fromHex(v.hex)))
  const stream = concat(record(all), ...golden.map((v) => record(fromHex(v.hex))))
  const reader = new UnitReader()
  const got: Frame[][] = []
  for (let i = 0; i < stream.length; i++) {
    reader.push(Uint8Array.of(stream[i]!))
    const unit = takeRecordFrames(reader)
    if (unit !== undefined) got.push(unit)
  }
  assert.deepEqual(got, [frames, ...frames.map((f) => [f])])
})

// ---------------------------------------------------------------- truncation

test('truncation: every cut of a golden frame is FRAME_MALFORMED', () => {
  for (const v of golden) {
    const bytes = fromHex(v.hex)
    for (let cut = 1; cut < bytes.length; cut++) {
      assertCode(() => readFrames(bytes.subarray(0, cut)), 'FRAME_MALFORMED', `${v.name} cut at ${cut}`)
    }
  }
})

test('truncation: a record body cut inside a frame is FRAME_MALFORMED; cut between frames it is the prefix', () => {
  const parts = golden.map((v) => fromHex(v.hex))
  const frames = golden.map((v) => frameFromJson(v.frame))
  const body = concat(Uint8Array.of(0), ...parts)
  const boundaries = new Map<number, number>()
  let pos = 1
  boundaries.set(pos, 0)
  parts.forEach((p, i) => {
    pos += p.length
    boundaries.set(pos, i + 1)
  })
  for (let cut = 1; cut < body.length; cut++) {
    // Deliver the cut body as a complete record: its header says `cut` bytes.
    const reader = new UnitReader()
    reader.push(concat(Uint8Array.of(cut >> 8, cut & 0xff), body.subarray(0, cut)))
    const count = boundaries.get(cut)
    if (count === undefined) {
      assertCode(() => takeRecordFrames(reader), 'FRAME_MALFORMED', `cut at ${cut}`)
    } else {
      assert.deepEqual(takeRecordFrames(reader), frames.slice(0, count), `cut at ${cut}`)
    }
  }
})

// ---------------------------------------------------------------- forward compatibility

test('unknown frame types are returned as unknown, and decoding goes on after them', () => {
  const unknownTypes = [0x00, 0x0f, 0x40, 0xff]
  for (const type of unknownTypes) {
    const bytes = concat(raw(type, 0xff, 5, 'c0ffee'), raw(FrameType.DATA, 0x01, 1, '6869'))
    const frames = readFrames(bytes)
    assert.deepEqual(frames, [
      { type: 'unknown', typeByte: type, flags: 0xff, channel: 5, payload: fromHex('c0ffee') },
      { type: 'data', channel: 1, fin: true, data: fromHex('6869') },
    ])
  }
  // An unknown frame with an empty payload on channel 0.
  assert.deepEqual(readFrames(raw(0x20, 0, 0, '')), [
    { type: 'unknown', typeByte: 0x20, flags: 0, channel: 0, payload: new Uint8Array(0) },
  ])
})

test('unknown flags on known frame types are FRAME_MALFORMED', () => {
  const cases: [string, number, number, number, string][] = [
    // name, type, allowed flags, channel, valid payload with no optional fields
    ['OPEN', FrameType.OPEN, 0x1f, 1, '000101'],
    ['DATA', FrameType.DATA, 0x01, 1, ''],
    ['END', FrameType.END, 0, 1, '00'],
    ['RESET', FrameType.RESET, 0, 1, '00'],
    ['CREDIT', FrameType.CREDIT, 0, 1, '01'],
    ['PING', FrameType.PING, 0, 0, '0000000000000000'],
    ['PONG', FrameType.PONG, 0, 0, '0000000000000000'],
    ['GOAWAY', FrameType.GOAWAY, 0, 0, '0000'],
    ['SETTINGS', FrameType.SETTINGS, 0x01, 0, ''],
    ['NAME', FrameType.NAME, 0, 0, '0161'],
  ]
  for (const [name, type, allowed, channel, payload] of cases) {
    // With no unknown flag the frame is accepted (OPEN's HAS_* bits need fields, so use 0 here).
    assert.equal(readFrames(raw(type, 0, channel, payload)).length, 1, name)
    for (let bit = 0; bit < 8; bit++) {
      const flag = 1 << bit
      if ((allowed & flag) !== 0) continue
      assertCode(
        () => readFrames(raw(type, flag, channel, payload)),
        'FRAME_MALFORMED',
        `${name} flag ${flag}`,
      )
    }
  }
})

test('known flags that are allowed decode to their fields', () => {
  assert.deepEqual(readFrames(raw(FrameType.SETTINGS, 0x01, 0, '')), [
    { type: 'settings', ack: true, values: [] },
  ])
  const open = readFrame(new Cursor(raw(FrameType.OPEN, 0x11, 1, '010203')))
  assert.deepEqual(open, {
    type: 'open',
    channel: 1,
    fin: true,
    oneWay: true,
    kind: 1,
    method: 2,
    messageId: 3,
    data: new Uint8Array(0),
  })
})

// ---------------------------------------------------------------- channel rules

test('channel 0: OPEN, DATA, END and RESET on channel 0 are FRAME_MALFORMED', () => {
  assertCode(() => readFrames(raw(FrameType.OPEN, 0, 0, '000101')), 'FRAME_MALFORMED')
  assertCode(() => readFrames(raw(FrameType.DATA, 0, 0, '00')), 'FRAME_MALFORMED')
  assertCode(() => readFrames(raw(FrameType.END, 0, 0, '00')), 'FRAME_MALFORMED')
  assertCode(() => readFrames(raw(FrameType.RESET, 0, 0, '00')), 'FRAME_MALFORMED')
})

test('channel 0: PING, PONG, GOAWAY, SETTINGS and NAME on any other channel are FRAME_MALFORMED', () => {
  for (const channel of [1, 2, 127]) {
    assertCode(() => readFrames(raw(FrameType.PING, 0, channel, '0000000000000000')), 'FRAME_MALFORMED')
    assertCode(() => readFrames(raw(FrameType.PONG, 0, channel, '0000000000000000')), 'FRAME_MALFORMED')
    assertCode(() => readFrames(raw(FrameType.GOAWAY, 0, channel, '0000')), 'FRAME_MALFORMED')
    assertCode(() => readFrames(raw(FrameType.SETTINGS, 0, channel, '')), 'FRAME_MALFORMED')
    assertCode(() => readFrames(raw(FrameType.NAME, 0, channel, '0161')), 'FRAME_MALFORMED')
    assertCode(() => readFrames(raw(FrameType.MSG, 0, channel, '010101')), 'FRAME_MALFORMED')
    assertCode(() => readFrames(raw(FrameType.REPLY, 0, channel, '0100')), 'FRAME_MALFORMED')
    assertCode(() => readFrames(raw(FrameType.CANCEL, 0, channel, '011e')), 'FRAME_MALFORMED')
  }
})

test('channel 0: CREDIT is valid on channel 0 (connection, with the processed count) and on any channel', () => {
  assert.deepEqual(readFrames(raw(FrameType.CREDIT, 0, 0, '0503')), [
    { type: 'credit', channel: 0, increment: 5, processed: 3 },
  ])
  // A connection CREDIT may grant nothing and only acknowledge; a channel CREDIT may not.
  assert.deepEqual(readFrames(raw(FrameType.CREDIT, 0, 0, '0003')), [
    { type: 'credit', channel: 0, increment: 0, processed: 3 },
  ])
  assertCode(() => readFrames(raw(FrameType.CREDIT, 0, 9, '00')), 'FRAME_MALFORMED')
  assertCode(() => readFrames(raw(FrameType.CREDIT, 0, 0, '05')), 'FRAME_MALFORMED')
  assert.deepEqual(readFrames(raw(FrameType.CREDIT, 0, 9, '05')), [
    { type: 'credit', channel: 9, increment: 5 },
  ])
})

// ---------------------------------------------------------------- payload rules and limits

test('malformed payloads are FRAME_MALFORMED', () => {
  const bad: [string, Uint8Array][] = [
    ['OPEN missing message id', raw(FrameType.OPEN, 0, 1, '0001')],
    ['OPEN HAS_DEADLINE without the field', raw(FrameType.OPEN, 0x02, 1, '000101')],
    ['OPEN HAS_SIZE without the field', raw(FrameType.OPEN, 0x08, 1, '000101')],
    ['OPEN trace longer than the payload', raw(FrameType.OPEN, 0x04, 1, '00010105aabb')],
    ['END without a status', raw(FrameType.END, 0, 1, '')],
    ['RESET without a code', raw(FrameType.RESET, 0, 1, '')],
    ['RESET with trailing bytes', raw(FrameType.RESET, 0, 1, '0100')],
    ['CREDIT with zero increment', raw(FrameType.CREDIT, 0, 1, '00')],
    ['CREDIT with trailing bytes', raw(FrameType.CREDIT, 0, 1, '0101')],
    ['PING with 7 bytes', raw(FrameType.PING, 0, 0, '00000000000000')],
    ['PONG with 9 bytes', raw(FrameType.PONG, 0, 0, '000000000000000000')],
    ['GOAWAY without a code', raw(FrameType.GOAWAY, 0, 0, '07')],
    ['GOAWAY with trailing bytes', raw(FrameType.GOAWAY, 0, 0, '070000')],
    ['SETTINGS with a key and no value', raw(FrameType.SETTINGS, 0, 0, '01')],
    ['NAME without an id', raw(FrameType.NAME, 0, 0, '')],
    ['NAME with invalid UTF-8', raw(FrameType.NAME, 0, 0, '01ff')],
    ['NAME with a lone surrogate (CESU)', raw(FrameType.NAME, 0, 0, '01eda080')],
    ['frame length past the record', concat(raw(FrameType.DATA, 0, 1, '00'), Uint8Array.of(2, 0, 1, 5, 0))],
    ['varint with a redundant zero in the header', fromHex('0200018000')],
  ]
  for (const [name, bytes] of bad) assertCode(() => readFrames(bytes), 'FRAME_MALFORMED', name)
})

test('limits: trace above 512 bytes, END detail above 16 KiB, NAME above 1024 bytes are FRAME_TOO_LARGE', () => {
  const open = (traceLength: number): Frame => ({
    type: 'open',
    channel: 1,
    fin: false,
    oneWay: false,
    kind: 0,
    method: 1,
    messageId: 1,
    trace: new Uint8Array(traceLength),
    data: new Uint8Array(0),
  })
  assert.equal(readFrames(encodeFrame(open(512))).length, 1)
  assertCode(() => readFrames(encodeFrame(open(513))), 'FRAME_TOO_LARGE')

  const end = (n: number): Frame => ({ type: 'end', channel: 1, status: 33, detail: new Uint8Array(n) })
  assert.equal(readFrames(encodeFrame(end(16 * 1024))).length, 1)
  assertCode(() => readFrames(encodeFrame(end(16 * 1024 + 1))), 'FRAME_TOO_LARGE')

  const name = (n: number): Frame => ({ type: 'name', id: 1, name: 'a'.repeat(n) })
  assert.equal(readFrames(encodeFrame(name(1024))).length, 1)
  assertCode(() => readFrames(encodeFrame(name(1025))), 'FRAME_TOO_LARGE')
})

test('NAME keeps a leading U+FEFF (it is not a byte-order mark to strip)', () => {
  const frame: Frame = { type: 'name', id: 3, name: '\ufeffx' }
  assert.deepEqual(readFrames(encodeFrame(frame)), [frame])
})

test('encoder refuses PING/PONG data that is not 8 bytes', () => {
  assertCode(() => encodeFrame({ type: 'ping', data: new Uint8Array(7) }), 'INVALID_ARGUMENT')
  assertCode(() => encodeFrame({ type: 'pong', data: new Uint8Array(9) }), 'INVALID_ARGUMENT')
})

test('decoded byte fields are views into the record (zero copy)', () => {
  const v = golden.find((g) => g.name === 'open-all-fields')!
  const bytes = fromHex(v.hex)
  const [frame] = readFrames(bytes)
  assert.ok(frame?.type === 'open')
  assert.equal(frame.data.buffer, bytes.buffer)
  assert.equal(frame.trace?.buffer, bytes.buffer)
  assert.equal(frame.data.byteOffset, bytes.length - 3)
})

test('readFrames honours start and end', () => {
  const bytes = concat(Uint8Array.of(0xff), fromHex('02010100'), Uint8Array.of(0xff))
  assert.deepEqual(readFrames(bytes, 1, 5), [
    { type: 'data', channel: 1, fin: true, data: new Uint8Array(0) },
  ])
  assert.deepEqual(readFrames(bytes, 1, 1), [])
})

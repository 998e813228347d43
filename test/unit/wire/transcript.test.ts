/**
 * A whole session written by hand from docs/protocol.md (test/fixtures/golden/session-transcript.json):
 * each side's byte stream is fed one byte at a time through the UnitReader, every unit is decoded
 * and re-encoded, and the result must match the fixture byte for byte.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { decode } from '@msgpack/msgpack'
import { negotiate } from '../../../src/handshake/negotiate.ts'
import type { Frame } from '../../../src/wire/frame.ts'
import { readFrames } from '../../../src/wire/frame-decode.ts'
import { encodeFrame } from '../../../src/wire/frame-encode.ts'
import {
  decodeHello,
  decodePreamble,
  encodeHello,
  encodePreamble,
  frameHello,
  type Hello,
} from '../../../src/wire/hello.ts'
import { UnitReader } from '../../../src/wire/unit-reader.ts'
import { concat, fromHex, noteBytes, record, toHex } from './helpers.ts'

interface Unit {
  what: string
  hex: string
  notes: string[]
}
interface Transcript {
  dialer: Unit[]
  listener: Unit[]
}

const transcript = JSON.parse(
  readFileSync(new URL('../../fixtures/golden/session-transcript.json', import.meta.url), 'utf8'),
) as Transcript

interface Side {
  hello: Hello
  records: Frame[][]
}

/** Feeds `stream` one byte at a time; returns each unit once complete (undefined until then). */
function feedUntil<T>(
  reader: UnitReader,
  stream: Uint8Array,
  pos: { i: number },
  take: () => T | undefined,
): T {
  for (;;) {
    const unit = take()
    if (unit !== undefined) return unit
    assert.ok(pos.i < stream.length, 'stream ended inside a unit')
    reader.push(stream.subarray(pos.i, pos.i + 1))
    pos.i++
  }
}

function replay(name: string, units: Unit[]): Side {
  const stream = concat(...units.map((u) => fromHex(u.hex)))
  const reader = new UnitReader()
  const pos = { i: 0 }
  const [preambleUnit, helloUnit, ...recordUnits] = units
  assert.ok(preambleUnit && helloUnit, `${name}: preamble and hello`)

  const preambleBytes = feedUntil(reader, stream, pos, () => reader.take(6))
  const preamble = decodePreamble(preambleBytes)
  assert.deepEqual(preamble, { major: 3, minor: 0 })
  assert.equal(toHex(encodePreamble(preamble)), preambleUnit.hex, `${name}: preamble`)

  const helloBody = feedUntil(reader, stream, pos, () => reader.takeUnit(4, 65536, 'HELLO_TOO_LARGE'))
  const hello = decodeHello(helloBody)
  assert.equal(toHex(frameHello(encodeHello(hello))), helloUnit.hex, `${name}: hello`)

  const records: Frame[][] = []
  for (const unit of recordUnits) {
    const body = feedUntil(reader, stream, pos, () => reader.takeUnit(2, 65535, 'FRAME_TOO_LARGE'))
    assert.equal(body[0], 0, `${name}: record flags`)
    const frames = readFrames(body, 1)
    assert.equal(toHex(record(concat(...frames.map(encodeFrame)))), unit.hex, `${name}: ${unit.what}`)
    records.push(frames)
  }
  assert.equal(pos.i, stream.length, `${name}: bytes left unread`)
  assert.equal(reader.buffered, 0, `${name}: bytes left buffered`)
  return { hello, records }
}

test('transcript: every note annotates exactly its unit’s bytes', () => {
  for (const unit of [...transcript.dialer, ...transcript.listener]) {
    assert.equal(unit.notes.map(noteBytes).join(''), unit.hex, unit.what)
  }
})

test('transcript: each side decodes byte by byte and re-encodes to the same bytes', () => {
  const dialer = replay('dialer', transcript.dialer)
  const listener = replay('listener', transcript.listener)

  assert.equal(dialer.hello.role, 'dialer')
  assert.deepEqual(
    [...dialer.hello.linkId],
    Array.from({ length: 16 }, (_, i) => i),
  )
  assert.deepEqual(
    [...dialer.hello.limits],
    [
      [1, 262144],
      [6, 30000],
    ],
  )
  assert.equal(listener.hello.role, 'listener')
  assert.deepEqual(
    [...listener.hello.linkId],
    Array.from({ length: 16 }, (_, i) => 0x10 + i),
  )
  assert.deepEqual(listener.hello.compression, [])
  assert.deepEqual(listener.hello.protocols, [])

  const settings = [{ type: 'settings', ack: false, values: [] }]
  const settingsAck = [{ type: 'settings', ack: true, values: [] }]
  assert.deepEqual(dialer.records, [
    settings,
    settingsAck,
    [
      { type: 'name', id: 1, name: 'echo' },
      { type: 'msg', kind: 0, method: 1, messageId: 1, data: fromHex('a26869') },
      { type: 'name', id: 2, name: 'nope' },
      { type: 'msg', kind: 0, method: 2, messageId: 2, data: fromHex('') },
    ],
    [
      { type: 'credit', channel: 0, increment: 11, processed: 2 },
      { type: 'goaway', lastProcessed: 2, code: 40 },
    ],
  ])
  const detail = JSON.stringify({ code: 'METHOD_NOT_FOUND', message: "no handler for 'nope'" })
  assert.deepEqual(listener.records, [
    settings,
    settingsAck,
    [
      { type: 'name', id: 1, name: 'log' },
      { type: 'msg', kind: 1, method: 1, messageId: 1, data: fromHex('a27570') },
      { type: 'msg', kind: 0x11, method: 1, messageId: 2, data: fromHex('00ff') },
    ],
    [
      { type: 'reply', messageId: 1, status: 0, raw: false, data: fromHex('a26869') },
      { type: 'reply', messageId: 2, status: 32, raw: false, data: new TextEncoder().encode(detail) },
      { type: 'credit', channel: 0, increment: 9, processed: 2 },
    ],
    [{ type: 'goaway', lastProcessed: 2, code: 40 }],
  ])
  // The value bodies are real MessagePack (read by an independent decoder), the error detail JSON.
  assert.equal(decode(fromHex('a26869')), 'hi')
  assert.equal(decode(fromHex('a27570')), 'up')
  assert.deepEqual(JSON.parse(detail), { code: 'METHOD_NOT_FOUND', message: "no handler for 'nope'" })
})

test('transcript: both sides negotiate msgpack, no compression, no security', () => {
  const dialer = replay('dialer', transcript.dialer)
  const listener = replay('listener', transcript.listener)
  for (const agreement of [
    negotiate(dialer.hello, listener.hello),
    negotiate(listener.hello, dialer.hello),
  ]) {
    assert.equal(agreement.version, 3)
    assert.equal(agreement.codec, 'msgpack')
    assert.equal(agreement.compression, 'none')
    assert.equal(agreement.security, 'none')
  }
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { SwitchboardError } from '../../../src/errors.ts'
import { Cursor } from '../../../src/wire/cursor.ts'
import { MAX_VARINT_BYTES, readVarint, varintSize, writeVarint } from '../../../src/wire/varint.ts'
import { assertCode, fromHex, toHex } from './helpers.ts'

function encode(value: number): Uint8Array {
  const buf = new Uint8Array(varintSize(value))
  assert.equal(writeVarint(buf, 0, value), buf.length)
  return buf
}

/** Both decoders: the streaming readVarint and the unit Cursor. */
function decodeBoth(bytes: Uint8Array): number {
  const read = readVarint(bytes, 0)
  assert.ok(read !== undefined)
  assert.equal(read.next, bytes.length)
  const cur = new Cursor(bytes)
  const value = cur.varint()
  assert.equal(cur.remaining, 0)
  assert.equal(value, read.value)
  return value
}

const boundaries: [number, string][] = [
  [0, '00'],
  [1, '01'],
  [127, '7f'],
  [128, '8001'],
  [300, 'ac02'],
  [2 ** 14 - 1, 'ff7f'],
  [2 ** 14, '808001'],
  [2 ** 21 - 1, 'ffff7f'],
  [2 ** 21, '80808001'],
  [2 ** 28 - 1, 'ffffff7f'],
  [2 ** 28, '8080808001'],
  [2 ** 35, '808080808001'],
  [2 ** 49 - 1, 'ffffffffffff7f'],
  [2 ** 49, '8080808080808001'],
  [2 ** 53 - 1, 'ffffffffffffff0f'],
]

test('varint: boundary values encode to the expected bytes and decode back', () => {
  for (const [value, hex] of boundaries) {
    const bytes = encode(value)
    assert.equal(toHex(bytes), hex, `encode ${value}`)
    assert.equal(varintSize(value), hex.length / 2, `size of ${value}`)
    assert.equal(decodeBoth(fromHex(hex)), value, `decode ${hex}`)
  }
})

test('varint: 2^53 - 1 takes exactly MAX_VARINT_BYTES', () => {
  assert.equal(varintSize(Number.MAX_SAFE_INTEGER), MAX_VARINT_BYTES)
})

test('varint: readVarint honours offset and end', () => {
  const buf = fromHex('ff8001ff')
  assert.deepEqual(readVarint(buf, 1), { value: 128, next: 3 })
  assert.equal(readVarint(buf, 1, 2), undefined)
})

test('varint: need-more returns undefined at every prefix, never throws', () => {
  for (const [, hex] of boundaries) {
    const bytes = fromHex(hex)
    for (let n = 0; n < bytes.length; n++) {
      assert.equal(readVarint(bytes.subarray(0, n), 0), undefined, `${hex} cut at ${n}`)
      assert.equal(readVarint(bytes, 0, n), undefined, `${hex} ended at ${n}`)
    }
  }
  // Seven continuation bytes: still "need more", the eighth byte decides.
  assert.equal(readVarint(fromHex('80808080808080'), 0), undefined)
})

test('varint: the Cursor treats a truncated varint as FRAME_MALFORMED', () => {
  assertCode(() => new Cursor(fromHex('8080')).varint(), 'FRAME_MALFORMED')
  assertCode(() => new Cursor(new Uint8Array(0)).varint(), 'FRAME_MALFORMED')
})

test('varint: over-long (more than 8 bytes) is FRAME_MALFORMED', () => {
  const overlong = fromHex('808080808080808001')
  assertCode(() => readVarint(overlong, 0), 'FRAME_MALFORMED')
  assertCode(() => new Cursor(overlong).varint(), 'FRAME_MALFORMED')
  // Eight continuation bytes fail without waiting for a ninth.
  assertCode(() => readVarint(fromHex('8080808080808080'), 0), 'FRAME_MALFORMED')
})

test('varint: a redundant trailing zero byte is FRAME_MALFORMED', () => {
  for (const hex of ['8000', '818000', '80808000', 'ff8000', 'ffffffffffffff00']) {
    assertCode(() => readVarint(fromHex(hex), 0), 'FRAME_MALFORMED', hex)
    assertCode(() => new Cursor(fromHex(hex)).varint(), 'FRAME_MALFORMED', hex)
  }
})

test('varint: values above 2^53 - 1 are FRAME_MALFORMED', () => {
  for (const hex of ['8080808080808010', 'ffffffffffffff7f', '808080808080807f']) {
    assertCode(() => readVarint(fromHex(hex), 0), 'FRAME_MALFORMED', hex)
    assertCode(() => new Cursor(fromHex(hex)).varint(), 'FRAME_MALFORMED', hex)
  }
})

test('varint: writeVarint refuses negative, fractional and unsafe values', () => {
  for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) {
    assertCode(() => writeVarint(new Uint8Array(8), 0, bad), 'INVALID_ARGUMENT', String(bad))
  }
})

test('varint: property: every safe integer round-trips with its computed size', () => {
  fc.assert(
    fc.property(fc.maxSafeNat(), (value) => {
      const bytes = encode(value)
      assert.ok(bytes.length <= MAX_VARINT_BYTES)
      assert.equal(decodeBoth(bytes), value)
    }),
    { numRuns: 2000 },
  )
})

test('varint: property: arbitrary bytes decode, need more, or throw a SwitchboardError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
      try {
        const read = readVarint(bytes, 0)
        if (read !== undefined) assert.deepEqual(encode(read.value), bytes.subarray(0, read.next))
      } catch (err) {
        assert.ok(err instanceof SwitchboardError && err.code === 'FRAME_MALFORMED')
      }
    }),
    { numRuns: 2000 },
  )
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { defaultHandshakeLimits } from '../../../src/session/handshake-limits.ts'
import { UnitReader } from '../../../src/wire/unit-reader.ts'
import { assertCode, concat, fromHex, toHex } from './helpers.ts'

const u16Unit = (r: UnitReader) => r.takeUnit(2, 0xffff, 'FRAME_TOO_LARGE')
const helloUnit = (r: UnitReader) => r.takeUnit(4, defaultHandshakeLimits.maxHelloBytes, 'HELLO_TOO_LARGE')

test('a unit inside one chunk is returned as a view of that chunk (zero copy)', () => {
  const chunk = fromHex('0003aabbcc0002ddee')
  const reader = new UnitReader()
  reader.push(chunk)
  const first = u16Unit(reader)!
  const second = u16Unit(reader)!
  assert.equal(toHex(first), 'aabbcc')
  assert.equal(toHex(second), 'ddee')
  assert.equal(first.buffer, chunk.buffer)
  assert.equal(first.byteOffset, 2)
  assert.equal(second.buffer, chunk.buffer)
  assert.equal(second.byteOffset, 7)
  assert.equal(reader.buffered, 0)
})

test('a unit whose body lies in one chunk is a view even when its header was split', () => {
  const reader = new UnitReader()
  reader.push(fromHex('00'))
  reader.push(fromHex('03'))
  const body = fromHex('112233')
  reader.push(body)
  const unit = u16Unit(reader)!
  assert.equal(unit.buffer, body.buffer)
  assert.equal(toHex(unit), '112233')
})

test('a unit split across chunks is copied correctly', () => {
  const reader = new UnitReader()
  const parts = [fromHex('0005aa'), fromHex('bb'), fromHex('cc'), fromHex('ddee0001')]
  for (const p of parts) reader.push(p)
  const unit = u16Unit(reader)!
  assert.equal(toHex(unit), 'aabbccddee')
  for (const p of parts) assert.notEqual(unit.buffer, p.buffer)
  assert.equal(reader.buffered, 2)
  assert.equal(u16Unit(reader), undefined)
  reader.push(fromHex('ff'))
  assert.equal(toHex(u16Unit(reader)!), 'ff')
})

test('need more bytes returns undefined, never throws, at every prefix', () => {
  const wire = fromHex('00040102030400000002aabb')
  for (let n = 0; n < 6; n++) {
    const reader = new UnitReader()
    reader.push(wire.subarray(0, n))
    assert.equal(u16Unit(reader), undefined, `u16 prefix ${n}`)
    assert.equal(reader.buffered, n, 'nothing consumed')
  }
  for (let n = 0; n < 6; n++) {
    const reader = new UnitReader()
    reader.push(wire.subarray(6, 6 + n))
    assert.equal(helloUnit(reader), undefined, `u32 prefix ${n}`)
  }
})

test('an empty unit (length 0) is FRAME_MALFORMED', () => {
  const reader = new UnitReader()
  reader.push(fromHex('0000'))
  assertCode(() => u16Unit(reader), 'FRAME_MALFORMED')
  const hello = new UnitReader()
  hello.push(fromHex('00000000'))
  assertCode(() => helloUnit(hello), 'FRAME_MALFORMED')
})

test('oversize: a hello length above 64 KiB is refused from the header alone, before the body', () => {
  const reader = new UnitReader()
  reader.push(fromHex('00010001')) // 65537
  assertCode(() => helloUnit(reader), 'HELLO_TOO_LARGE')
  assert.equal(reader.buffered, 4)

  const huge = new UnitReader()
  huge.push(fromHex('ffffffff')) // 4 GiB - 1: the u32 is read unsigned
  assertCode(() => helloUnit(huge), 'HELLO_TOO_LARGE')

  const high = new UnitReader()
  high.push(fromHex('80000000')) // top bit set must not read as negative
  assertCode(() => helloUnit(high), 'HELLO_TOO_LARGE')
})

test('oversize: the limit applies as soon as the last header byte arrives, one byte at a time', () => {
  const reader = new UnitReader()
  const header = fromHex('00010001')
  for (let i = 0; i < 3; i++) {
    reader.push(header.subarray(i, i + 1))
    assert.equal(helloUnit(reader), undefined)
  }
  reader.push(header.subarray(3))
  assertCode(() => helloUnit(reader), 'HELLO_TOO_LARGE')
})

test('oversize: a hello of exactly 64 KiB is accepted', () => {
  const reader = new UnitReader()
  reader.push(fromHex('00010000'))
  assert.equal(helloUnit(reader), undefined)
  const body = new Uint8Array(65536).fill(7)
  reader.push(body.subarray(0, 40000))
  assert.equal(helloUnit(reader), undefined)
  reader.push(body.subarray(40000))
  assert.deepEqual(helloUnit(reader), body)
})

test('oversize: a u16 unit above a smaller limit is FRAME_TOO_LARGE from the header alone', () => {
  const reader = new UnitReader()
  reader.push(fromHex('0401'))
  assertCode(() => reader.takeUnit(2, 1024, 'FRAME_TOO_LARGE'), 'FRAME_TOO_LARGE')
})

test('take returns exact byte counts across chunks, undefined when short, empty for 0', () => {
  const reader = new UnitReader()
  assert.deepEqual(reader.take(0), new Uint8Array(0))
  reader.push(fromHex('535742'))
  assert.equal(reader.take(6), undefined)
  reader.push(fromHex('440100ff'))
  assert.equal(toHex(reader.take(6)!), '535742440100')
  assert.deepEqual(reader.take(0), new Uint8Array(0))
  assert.equal(reader.buffered, 1)
  assert.equal(toHex(reader.take(1)!), 'ff')
  assert.equal(reader.buffered, 0)
})

test('empty chunks are ignored', () => {
  const reader = new UnitReader()
  reader.push(new Uint8Array(0))
  reader.push(fromHex('0001'))
  reader.push(new Uint8Array(0))
  reader.push(fromHex('09'))
  assert.equal(toHex(u16Unit(reader)!), '09')
})

test('property: any sequence of units, any split, comes back unchanged', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
      (units, sizes) => {
        const wire = concat(...units.map((u) => concat(Uint8Array.of(u.length >> 8, u.length & 0xff), u)))
        const reader = new UnitReader()
        const got: Uint8Array[] = []
        let pos = 0
        let i = 0
        while (pos < wire.length) {
          const size = sizes[i++ % sizes.length]!
          reader.push(wire.subarray(pos, pos + size))
          pos += size
          for (let unit = u16Unit(reader); unit !== undefined; unit = u16Unit(reader)) got.push(unit)
        }
        assert.deepEqual(got, units)
        assert.equal(reader.buffered, 0)
      },
    ),
    { numRuns: 500 },
  )
})

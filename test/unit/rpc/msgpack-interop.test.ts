/**
 * The msgpack codec speaks standard MessagePack: what it writes, an independent decoder
 * (@msgpack/msgpack) reads with the right types, and what that encoder writes, our codec reads.
 * The second half pins down what round-trips through our own codec (docs/protocol.md §21).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Decoder, decode, Encoder, ExtData, encode } from '@msgpack/msgpack'
import fc from 'fast-check'
import { msgpackCodec } from '../../../src/rpc/codec.ts'
import { encodeBody } from '../../../src/rpc/outgoing-call.ts'
import { budget } from '../../budget.ts'

/** Reads int64/uint64 as bigint, so an integer on the wire is told apart from a float64. */
const strict = new Decoder({ useBigInt64: true })
const ours = (v: unknown): Uint8Array => msgpackCodec.encode(v)
const roundTrip = (v: unknown): unknown => msgpackCodec.decode(msgpackCodec.encode(v))

test('safe integers beyond int32 are written as 64-bit integers, not floats', () => {
  for (const n of [2 ** 40, -(2 ** 40), 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 32, -(2 ** 31) - 1]) {
    const bytes = ours(n)
    assert.equal(bytes[0], 0xd3, `${n} is an int64 (0xd3), got 0x${bytes[0]?.toString(16)}`)
    assert.equal(strict.decode(bytes), BigInt(n))
    assert.equal(decode(bytes), n)
  }
  // Inside 32 bits the smallest integer form is used.
  assert.deepEqual([...ours(2 ** 32 - 1)], [0xce, 0xff, 0xff, 0xff, 0xff])
  assert.deepEqual([...ours(-(2 ** 31))], [0xd2, 0x80, 0, 0, 0])
  assert.deepEqual([...ours(127)], [0x7f])
  assert.deepEqual([...ours(-32)], [0xe0])
})

test('floats stay float64, including integral numbers beyond the safe range', () => {
  for (const f of [1.5, -0.1, 2 ** 53, 1e20, 1e300, Number.MAX_VALUE, Number.MIN_VALUE]) {
    const bytes = ours(f)
    assert.equal(bytes[0], 0xcb, `${f} is a float64`)
    assert.equal(strict.decode(bytes), f)
    assert.equal(roundTrip(f), f)
  }
  for (const f of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    assert.equal(ours(f)[0], 0xcb)
    assert.ok(Object.is(decode(ours(f)), f))
  }
})

test('strings, binary, booleans, nil, arrays, maps and nesting decode with their types', () => {
  const value = {
    s: 'héllo ✓',
    long: 'x'.repeat(70_000),
    bin: new Uint8Array([0, 1, 254, 255]),
    yes: true,
    no: false,
    nothing: null,
    missing: undefined,
    list: [1, 'two', [3, { four: 2 ** 40 }]],
    map: new Map<string, unknown>([['k', -(2 ** 40)]]),
  }
  const got = strict.decode(ours(value)) as Record<string, unknown>
  assert.equal(got['s'], 'héllo ✓')
  assert.equal(got['long'], 'x'.repeat(70_000))
  assert.ok(got['bin'] instanceof Uint8Array, 'binary arrives as bin')
  assert.deepEqual([...(got['bin'] as Uint8Array)], [0, 1, 254, 255])
  assert.equal(got['yes'], true)
  assert.equal(got['no'], false)
  assert.equal(got['nothing'], null)
  assert.equal(got['missing'], null, 'undefined is written as nil')
  assert.deepEqual(got['list'], [1, 'two', [3, { four: 2n ** 40n }]])
  assert.deepEqual(got['map'], { k: -(2n ** 40n) })
  assert.deepEqual([...ours(undefined)], [0xc0])
  assert.deepEqual([...ours(null)], [0xc0])
  assert.equal(ours(new Uint8Array(3))[0], 0xc4, 'bin 8, not an extension')
})

test('the only extension type written is the standard timestamp (-1)', () => {
  const bytes = ours({
    when: new Date(1_700_000_000_123),
    set: new Set([1, 2 ** 40]),
    re: /a+/g,
    err: new Error('boom'),
    typed: new Float64Array([0.5]),
    big: 2n ** 63n,
  })
  const seen: ExtData[] = []
  const walk = (v: unknown): void => {
    if (v instanceof ExtData) seen.push(v)
    else if (v instanceof Date || v instanceof Uint8Array) return
    else if (Array.isArray(v)) v.forEach(walk)
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk)
  }
  const decoded = strict.decode(bytes) as Record<string, unknown>
  walk(decoded)
  assert.deepEqual(seen, [], 'no extension the independent decoder does not know')
  assert.ok(decoded['when'] instanceof Date)
  assert.equal((decoded['when'] as Date).getTime(), 1_700_000_000_123)
  assert.deepEqual(decoded['set'], [1, 2n ** 40n])
  assert.equal(decoded['big'], 2n ** 63n)
})

test('any JSON value survives our encoder and the independent decoder unchanged', () => {
  const noNegativeZero = (v: unknown): unknown =>
    Object.is(v, -0)
      ? 0
      : Array.isArray(v)
        ? v.map(noNegativeZero)
        : typeof v === 'object' && v !== null
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, noNegativeZero(x)]))
          : v
  fc.assert(
    fc.property(
      // a `__proto__` key is renamed by our decoder and refused by theirs: tested on its own below
      fc.jsonValue().filter((v) => !JSON.stringify(v).includes('"__proto__"')),
      fc.maxSafeInteger(),
      (json, int) => {
        const value = { json, int }
        assert.deepEqual(decode(ours(value)), noNegativeZero(value))
      },
    ),
    { numRuns: budget.propertyRuns },
  )
})

test('bytes written by the independent encoder decode in our codec', () => {
  const encoder = new Encoder({ useBigInt64: true })
  const bytes = encoder.encode({
    int: 2 ** 40,
    neg: -(2 ** 40),
    i64: 2n ** 60n,
    u64: 2n ** 64n - 1n,
    f: 1.5,
    s: 'é',
    b: new Uint8Array([1, 2]),
    a: [null, true, false],
    m: { x: { y: 'z' } },
    ts: new Date(1_700_000_000_123),
  })
  assert.deepEqual(msgpackCodec.decode(bytes), {
    int: 2 ** 40,
    neg: -(2 ** 40),
    i64: 2n ** 60n, // int64 beyond the safe range stays exact, as a BigInt
    u64: 2n ** 64n - 1n,
    f: 1.5,
    s: 'é',
    b: new Uint8Array([1, 2]),
    a: [null, true, false],
    m: { x: { y: 'z' } },
    ts: new Date(1_700_000_000_123),
  })
  // float32 from another language reads as a number.
  assert.equal(msgpackCodec.decode(new Encoder({ forceFloat32: true }).encode(0.5)), 0.5)
  assert.equal(msgpackCodec.decode(encode(2 ** 40)), 2 ** 40)
})

test('bad MessagePack from a peer is a coded CODEC_ERROR', () => {
  // truncated str 8, truncated array, trailing bytes, an extension type we do not know
  for (const bad of [
    [0xd9, 0x05, 0x61],
    [0x92, 0x01],
    [0x01, 0x02],
    [0xc7, 0x01, 0x05, 0x00],
  ]) {
    assert.throws(
      () => msgpackCodec.decode(Uint8Array.from(bad)),
      (e: { code?: string }) => e.code === 'CODEC_ERROR',
    )
  }
})

// ---- what round-trips through our own codec (both ends switchboard) ----------------------------

test('Date round-trips as a Date; an invalid Date becomes null', () => {
  for (const ms of [0, -1, 1_700_000_000_000, 1_700_000_000_123, Date.UTC(2200, 0, 1)]) {
    const back = roundTrip(new Date(ms))
    assert.ok(back instanceof Date)
    assert.equal(back.getTime(), ms)
  }
  assert.equal(roundTrip(new Date(Number.NaN)), null)
  assert.equal(decode(ours(new Date(Number.NaN))), null, 'standard bytes, not a 1-byte timestamp')
})

test('Map arrives as a plain object; Set as an array', () => {
  assert.deepEqual(
    roundTrip(
      new Map<unknown, unknown>([
        ['a', 1],
        [2, 'b'],
      ]),
    ),
    { a: 1, 2: 'b' },
  )
  assert.deepEqual(roundTrip(new Map([['big', 2 ** 40]])), { big: 2 ** 40 })
  assert.throws(
    () => roundTrip(new Map([[{ k: 1 }, 1]])),
    (e: { code?: string }) => e.code === 'CODEC_ERROR',
    'a map with an object key cannot be read back as an object',
  )
  assert.deepEqual(roundTrip(new Set(['x', 2 ** 40])), ['x', 2 ** 40])
})

test('BigInt: int64/uint64 range as integers, safe ones read back as numbers, wider ones refused', () => {
  assert.equal(roundTrip(5n), 5)
  assert.equal(roundTrip(2n ** 60n), 2n ** 60n)
  assert.equal(roundTrip(-(2n ** 63n)), -(2n ** 63n))
  assert.equal(roundTrip(2n ** 64n - 1n), 2n ** 64n - 1n)
  assert.equal(ours(2n ** 64n - 1n)[0], 0xcf, 'uint64')
  assert.throws(
    () => ours(2n ** 64n),
    (e: { code?: string }) => e.code === 'CODEC_ERROR',
  )
})

test('typed arrays are sent as their bytes and arrive as a Uint8Array (the element type is lost)', () => {
  const f64 = new Float64Array([0.5, -2])
  const back = roundTrip(f64)
  assert.ok(back instanceof Uint8Array)
  assert.deepEqual(new Float64Array(new Uint8Array(back).buffer), f64)
  const i16 = new Int16Array([1, -1, 300])
  assert.deepEqual([...(roundTrip(i16) as Uint8Array)], [...new Uint8Array(i16.buffer)])
  // A view into a larger buffer sends only its own bytes.
  const window = new Uint32Array(new Uint32Array([7, 8, 9]).buffer, 4, 1)
  assert.deepEqual([...(roundTrip(window) as Uint8Array)], [...new Uint8Array(Uint32Array.of(8).buffer)])
  const dv = new DataView(Uint8Array.of(1, 2, 3).buffer, 1, 2)
  assert.deepEqual([...(roundTrip(dv) as Uint8Array)], [2, 3])
  assert.deepEqual([...(roundTrip(Uint8Array.of(4, 5).buffer) as Uint8Array)], [4, 5])
})

test('typed arrays never carry stale bytes of earlier messages', () => {
  // Regression: msgpackr wrote a non-Uint8 typed array as a bin of byteLength but copied its
  // elements, so the bin's tail was whatever an earlier pack() left in the shared buffer.
  ours({ secret: 'S'.repeat(64) })
  const bytes = ours(new Float32Array([1.5, 2.5]))
  assert.deepEqual([...bytes], [0xc4, 8, ...new Uint8Array(new Float32Array([1.5, 2.5]).buffer)])
})

test('undefined: nil inside values (read back as null); a top-level undefined is an empty body', () => {
  assert.deepEqual(roundTrip({ a: undefined, b: [undefined, 1] }), { a: null, b: [null, 1] })
  assert.equal(roundTrip(undefined), null)
  // request()/send() never encode a top-level undefined: the body is empty and reads as undefined.
  assert.equal(encodeBody(msgpackCodec, undefined).bytes.length, 0)
})

test('the never-used byte 0xc1, extensions other than the timestamp, and trailing bytes are CODEC_ERROR', () => {
  const refused = [
    [0x91, 0xc1], // 0xc1 inside an array
    [0xd4, 0x00, 0x00], // msgpackr's "undefined" extension
    [0xd4, 0x65, 0x00], // msgpackr's Error extension
    [0xd5, 0x42, 0x01, 0xff], // msgpackr's BigInt extension
    [0xd4, 0xff, 0x01], // a 1-byte timestamp (only 4, 8 or 12 bytes exist)
    [0x01, 0x02], // two values
    [0x92, 0x01], // an array that ends early
  ]
  for (const bytes of refused) {
    assert.throws(
      () => msgpackCodec.decode(Uint8Array.from(bytes)),
      (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'CODEC_ERROR',
      Buffer.from(bytes).toString('hex'),
    )
  }
  // The timestamp in each of its three forms still reads.
  for (const ms of [0, 1_700_000_000_123, -1]) {
    const d = new Date(ms)
    assert.equal((msgpackCodec.decode(msgpackCodec.encode(d)) as Date).getTime(), ms)
  }
})

test("a peer's __proto__ key cannot change a decoded object's prototype", () => {
  const bytes = new Encoder().encode(
    Object.fromEntries([
      ['__proto__', { polluted: true }],
      ['a', 1],
    ]),
  )
  const got = msgpackCodec.decode(bytes) as Record<string, unknown>
  assert.equal(Object.getPrototypeOf(got), Object.prototype)
  assert.equal(got['polluted'], undefined)
  assert.deepEqual(Object.keys(got), ['__proto_', 'a'], 'msgpackr renames the key to __proto_')
})

test('other JS-only values: what our codec writes for them', () => {
  assert.ok(Object.is(roundTrip(-0), 0), '-0 is written as the integer 0')
  assert.deepEqual(roundTrip(/a+/g), ['a+', 'g'])
  assert.deepEqual(roundTrip(new Error('boom')), ['Error', 'boom', null])
  assert.deepEqual(roundTrip({ f: () => 1 }), { f: null })
  assert.deepEqual(
    roundTrip(
      new (class Point {
        x = 1
        y = 2 ** 40
      })(),
    ),
    { x: 1, y: 2 ** 40 },
  )
  // toJSON is used for class instances, not for plain objects (msgpackr's rule).
  assert.deepEqual(
    roundTrip(
      new (class Money {
        toJSON() {
          return 'EUR 5'
        }
      })(),
    ),
    'EUR 5',
  )
  assert.deepEqual(roundTrip({ toJSON: () => 'custom' }), { toJSON: null })
  assert.throws(
    () => ours(Symbol('s')),
    (e: { code?: string }) => e.code === 'CODEC_ERROR',
  )
})

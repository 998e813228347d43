/**
 * msgpack-roundtrip: values built from the input's bytes (each byte a choice: type, length,
 * number, character, key), encoded with the msgpack codec and decoded again. The result must be
 * what docs/protocol.md §21 promises (msgpack-values.ts `expected`), values the table refuses
 * must be CODEC_ERROR, and an independent decoder (@msgpack/msgpack) must read every encoding
 * (the codec writes standard MessagePack).
 */
import { Decoder } from '@msgpack/msgpack'
import { msgpackCodec } from '../../../src/rpc/codec.ts'
import { attempt, check, fail, OracleFailure } from '../harness/oracle.ts'
import type { FuzzTarget } from '../harness/target.ts'
import { hex, mustNotThrow } from './common.ts'
import { difference, expected, REFUSED } from './msgpack-values.ts'

/** Where choices come from: an Rng, or the input's bytes. */
export interface Choices {
  below(n: number): number
  u32(): number
}

/** Reads choices from bytes; 0 once they run out (so every value ends). */
export class ByteChoices implements Choices {
  #at = 0
  readonly #bytes: Uint8Array
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
  }
  #byte(): number {
    return this.#at < this.#bytes.length ? this.#bytes[this.#at++]! : 0
  }
  below(n: number): number {
    if (n <= 1) return 0
    if (n <= 256) return this.#byte() % n
    return this.u32() % n
  }
  u32(): number {
    return ((this.#byte() << 24) | (this.#byte() << 16) | (this.#byte() << 8) | this.#byte()) >>> 0
  }
}

const NUMBERS = [
  0,
  -1,
  1,
  127,
  128,
  -32,
  -33,
  255,
  256,
  65535,
  65536,
  2 ** 31 - 1,
  -(2 ** 31),
  -(2 ** 31) - 1,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 40,
  -(2 ** 40),
  2 ** 53 - 1,
  -(2 ** 53 - 1),
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e20,
  -1e20,
  2 ** 63,
  -(2 ** 63),
  2 ** 64,
  1.5,
  -0.1,
  0.1,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  Number.MIN_VALUE,
  Number.MAX_VALUE,
  Number.EPSILON,
  3.4028234663852886e38,
  1.401298464324817e-45,
]
const BIGINTS = [
  0n,
  1n,
  -1n,
  2n ** 31n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  -(2n ** 53n) - 1n,
  2n ** 63n - 1n,
  2n ** 63n,
  -(2n ** 63n),
  -(2n ** 63n) - 1n,
  2n ** 64n - 1n,
  2n ** 64n,
  -(2n ** 64n),
  10n ** 30n,
]
const KEYS = [
  'a',
  'b',
  '',
  '0',
  '1',
  '-1',
  '1.5',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'é',
  '𝄞',
  'k'.repeat(40),
]
/** Code point ranges for strings: ASCII, Latin-1, BMP, astral, surrogates (lone ones too), specials. */
const RANGES: readonly [number, number][] = [
  [0x20, 0x7e],
  [0x00, 0x1f],
  [0x80, 0xff],
  [0x100, 0x7ff],
  [0x800, 0xd7ff],
  [0xe000, 0xfffd],
  [0x10000, 0x10ffff],
  [0xd800, 0xdfff],
  [0xfeff, 0xfeff],
  [0xfffe, 0xffff],
]

function str(c: Choices, maxLength: number): string {
  const n = c.below(maxLength + 1)
  let s = ''
  for (let i = 0; i < n; i++) {
    const [lo, hi] = RANGES[c.below(8) < 6 ? 0 : c.below(RANGES.length)]!
    s += String.fromCodePoint(lo + c.below(hi - lo + 1))
  }
  return s
}

class Point {
  x: unknown
  y: unknown
  constructor(x: unknown, y: unknown) {
    this.x = x
    this.y = y
  }
}

/** A value from choices: every type §21's table lists, nested up to a few levels. */
export function randomValue(c: Choices, depth = 0): unknown {
  const kind = c.below(depth >= 4 ? 14 : 22)
  switch (kind) {
    case 0:
      return null
    case 1:
      return c.below(4) === 0 ? () => 1 : undefined
    case 2:
      return c.below(2) === 1
    case 3:
      return c.below(256) - 128
    case 4:
      return NUMBERS[c.below(NUMBERS.length)]
    case 5:
      return c.u32() | 0
    case 6: {
      const hi = c.u32() % 0x200000
      const n = hi * 0x100000000 + c.u32()
      return c.below(2) === 0 ? n : -n
    }
    case 7: {
      const view = new DataView(new ArrayBuffer(8))
      view.setUint32(0, c.u32())
      view.setUint32(4, c.u32())
      return view.getFloat64(0)
    }
    case 8:
      if (c.below(3) > 0) return BIGINTS[c.below(BIGINTS.length)]
      return (BigInt(c.u32()) << 32n) | BigInt(c.u32())
    case 9:
      return str(c, 40)
    case 10: {
      const n = c.below(64)
      const b = new Uint8Array(n)
      for (let i = 0; i < n; i++) b[i] = c.below(256)
      return b
    }
    case 11: {
      const n = c.below(16)
      const words = Array.from({ length: n }, () => c.u32())
      switch (c.below(6)) {
        case 0:
          return new Int16Array(words.map((w) => w & 0xffff))
        case 1:
          return new Uint32Array(words)
        case 2:
          return new Float64Array(words.map((w) => w / 7))
        case 3:
          return new DataView(new Uint32Array(words).buffer)
        case 4:
          return new Uint32Array(words).buffer
        default:
          return Buffer.from(new Uint32Array(words).buffer)
      }
    }
    case 12: {
      const choice = c.below(4)
      if (choice === 0) return new Date(Number.NaN)
      const ms = (c.u32() * 0x100000 + (c.u32() % 0x100000)) % 8.64e15
      return new Date(choice === 1 ? -ms : choice === 2 ? ms : c.u32() - 2 ** 31)
    }
    case 13:
      return c.below(8) === 0 ? (c.below(2) === 0 ? Symbol('s') : /ab+c/gi) : str(c, 8)
    case 14:
    case 15:
      return Array.from({ length: c.below(6) }, () => randomValue(c, depth + 1))
    case 16: {
      const obj: Record<string, unknown> = {}
      for (let i = c.below(6); i > 0; i--) {
        const key = c.below(4) === 0 ? str(c, 6) : KEYS[c.below(KEYS.length)]!
        Object.defineProperty(obj, key, {
          value: randomValue(c, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        })
      }
      return obj
    }
    case 17: {
      const map = new Map<unknown, unknown>()
      for (let i = c.below(5); i > 0; i--) {
        const key = c.below(3) === 0 ? c.below(1000) - 500 : KEYS[c.below(KEYS.length)]!
        map.set(key, randomValue(c, depth + 1))
      }
      return map
    }
    case 18:
      return new Set(Array.from({ length: c.below(5) }, () => randomValue(c, depth + 1)))
    case 19:
      return new Point(randomValue(c, depth + 1), randomValue(c, depth + 1))
    case 20: {
      // Long: a string, bytes or list past the 8- and 16-bit length forms.
      const n = [255, 256, 65535, 65536, 70000][c.below(5)]!
      const k = c.below(3)
      return k === 0
        ? 'é'.repeat(n >> 1)
        : k === 1
          ? new Uint8Array(n)
          : Array.from({ length: n >> 4 }, (_, i) => i)
    }
    default: {
      // Deep: arrays and maps nested past the recursion of a naive reader.
      let v: unknown = randomValue(c, 4)
      for (let i = c.below(200); i > 0; i--) v = i % 2 === 0 ? [v] : { v }
      return v
    }
  }
}

const independent = new Decoder({ useBigInt64: true })

export const target: FuzzTarget = {
  name: 'msgpack-roundtrip',
  about:
    "msgpackCodec.encode then decode of values built from the input: equal to §21's promise; refusals are CODEC_ERROR; @msgpack/msgpack reads every encoding",
  maxLength: 1024,
  lenientCauses: true,
  seeds: () => [
    Uint8Array.of(16, 3, 7, 1, 4, 9, 9, 12, 1, 20, 2),
    Uint8Array.of(14, 5, 4, 1, 4, 2, 4, 3, 4, 4, 4, 5),
    Uint8Array.of(17, 4, 0, 7, 1, 2, 3),
  ],
  generate: (rng) => rng.bytes(rng.length(256)),
  run(input) {
    const value = randomValue(new ByteChoices(input))
    const want = expected(value)
    const encoded = attempt(() => msgpackCodec.encode(value), true)
    if (want === REFUSED) {
      check(!encoded.ok && encoded.error.code === 'CODEC_ERROR', 'msgpack-encoded-refusable', () =>
        hex(input, 64),
      )
      return false
    }
    if (!encoded.ok)
      fail('msgpack-encode-refused', `${encoded.error.message} (${String(encoded.error.cause)})`)
    const bytes = encoded.value
    const decoded = mustNotThrow('msgpack-decode-own-encoding', () => msgpackCodec.decode(bytes))
    const d = difference(want, decoded)
    if (d !== undefined) {
      const bom = d.includes('leading U+FEFF dropped')
      fail(`msgpack-roundtrip-mismatch${bom ? ' (leading U+FEFF dropped)' : ''}`, d)
    }
    try {
      independent.decode(bytes)
    } catch (err) {
      // @msgpack/msgpack refuses the key __proto__ by policy; §21 reads it as '__proto_'.
      if (!String(err).includes('__proto__'))
        throw new OracleFailure('msgpack-not-standard', String(err), { cause: err })
    }
    return true
  },
}

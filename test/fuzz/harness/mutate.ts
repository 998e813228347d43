/**
 * The mutator: turns one corpus input into a new one with 1 to 8 stacked byte-level edits (bit
 * flips, interesting bytes and varint/u16/u32 lengths, inserts, deletes, duplicated and repeated
 * ranges, splices with other corpus inputs, truncation, dictionary tokens). Structure-blind on
 * purpose: each target adds structure through its seeds, dictionary and generator.
 */
import type { Rng } from './rng.ts'

export interface MutatorConfig {
  /** Outputs are cut to this many bytes. */
  readonly maxLength: number
  /** Byte strings worth inserting (magic values, field encodings) for this target. */
  readonly dictionary: readonly Uint8Array[]
}

/** LEB128 of `value` (values up to 2^53 - 1, as the wire's varints). */
export function varint(value: number): Uint8Array {
  const out: number[] = []
  let rest = value
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  out.push(rest)
  return Uint8Array.from(out)
}

const VARINT_VALUES = [
  0,
  1,
  2,
  0x7f,
  0x80,
  0xff,
  0x100,
  0x3fff,
  0x4000,
  0xffff,
  0x10000,
  0x1fffff,
  0x200000,
  0xfffffff,
  0x10000000,
  0x7fffffff,
  0x80000000,
  0xffffffff,
  0x100000000,
  2 ** 35,
  2 ** 49,
  2 ** 52,
  Number.MAX_SAFE_INTEGER,
]

/** Varints that sit on size boundaries, plus malformed ones (redundant zero, too long, too big). */
export const INTERESTING_VARINTS: readonly Uint8Array[] = [
  ...VARINT_VALUES.map(varint),
  Uint8Array.of(0x80, 0x00),
  Uint8Array.of(0x81, 0x80, 0x00),
  Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
  Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
  Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f),
  Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10),
  Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
  Uint8Array.of(0x80),
]

const U16_VALUES = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x1000, 0x1001, 0x7fff, 0x8000, 0xffef, 0xfffe, 0xffff]
const U32_VALUES = [0, 1, 0xffff, 0x10000, 0x10001, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]

/** Big-endian u16 and u32 lengths on the boundaries the length-prefixed units check. */
export const INTERESTING_LENGTHS: readonly Uint8Array[] = [
  ...U16_VALUES.map((v) => Uint8Array.of(v >>> 8, v & 0xff)),
  ...U32_VALUES.map((v) => Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff)),
]

const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x0f, 0x10, 0x20, 0x7e, 0x7f, 0x80, 0x81, 0xc0, 0xc1, 0xfe, 0xff]

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Random bytes of a small-biased length. */
export function randomInput(rng: Rng, maxLength: number): Uint8Array {
  return rng.bytes(rng.length(maxLength))
}

/**
 * A copy as a plain Uint8Array. Not `bytes.slice()`: on a Buffer that is a view, so editing it
 * would write into the corpus (and into whatever buffer the Buffer views, an encoder's scratch).
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes)
}

function insertAt(input: Uint8Array, at: number, bytes: Uint8Array): Uint8Array {
  return concat(input.subarray(0, at), bytes, input.subarray(at))
}

function overwriteAt(input: Uint8Array, at: number, bytes: Uint8Array): Uint8Array {
  const out = copyBytes(input)
  out.set(bytes.subarray(0, Math.max(0, out.length - at)), at)
  return out
}

/** One edit. `other` is another corpus input, for splices. */
function mutateOnce(rng: Rng, input: Uint8Array, other: Uint8Array, cfg: MutatorConfig): Uint8Array {
  const n = input.length
  const pos = () => rng.below(n)
  const gap = () => rng.below(n + 1)
  const op = rng.below(16)
  switch (op) {
    case 0: {
      if (n === 0) return rng.bytes(1)
      const out = copyBytes(input)
      out[pos()]! ^= 1 << rng.below(8)
      return out
    }
    case 1: {
      if (n === 0) return rng.bytes(1)
      const out = copyBytes(input)
      out[pos()] = rng.below(256)
      return out
    }
    case 2: {
      if (n === 0) return Uint8Array.of(rng.pick(INTERESTING_BYTES))
      const out = copyBytes(input)
      out[pos()] = rng.pick(INTERESTING_BYTES)
      return out
    }
    case 3: {
      if (n === 0) return rng.bytes(1)
      const out = copyBytes(input)
      const at = pos()
      out[at] = out[at]! + (rng.chance(0.5) ? 1 : -1) * rng.int(1, 16)
      return out
    }
    case 4:
      return insertAt(input, gap(), rng.bytes(rng.chance(0.8) ? rng.int(1, 8) : rng.int(1, 64)))
    case 5: {
      if (n === 0) return input
      const at = pos()
      const len = rng.int(1, Math.max(1, Math.min(n - at, rng.chance(0.7) ? 4 : n >> 2)))
      return concat(input.subarray(0, at), input.subarray(at + len))
    }
    case 6: {
      if (n === 0) return input
      const from = pos()
      const len = rng.int(1, Math.min(n - from, 64))
      return insertAt(input, gap(), copyBytes(input.subarray(from, from + len)))
    }
    case 7: {
      if (n < 2) return input
      const from = pos()
      const len = rng.int(1, Math.min(n - from, 32))
      return overwriteAt(input, pos(), copyBytes(input.subarray(from, from + len)))
    }
    case 8:
      return concat(input.subarray(0, gap()), other.subarray(rng.below(other.length + 1)))
    case 9: {
      if (other.length === 0) return input
      const from = rng.below(other.length)
      const len = rng.int(1, Math.min(other.length - from, 128))
      return insertAt(input, gap(), other.subarray(from, from + len))
    }
    case 10:
      return input.subarray(0, gap())
    case 11:
    case 12: {
      if (cfg.dictionary.length === 0) return mutateOnce(rng, input, other, cfg)
      const token = rng.pick(cfg.dictionary)
      return op === 11 ? insertAt(input, gap(), token) : overwriteAt(input, gap(), token)
    }
    case 13:
    case 14: {
      const value = rng.pick(rng.chance(0.6) ? INTERESTING_VARINTS : INTERESTING_LENGTHS)
      return op === 13 ? insertAt(input, gap(), value) : overwriteAt(input, gap(), value)
    }
    default: {
      // A short range repeated many times: long runs, deep nesting, long lists.
      if (n === 0) return input
      const from = pos()
      const len = rng.int(1, Math.min(n - from, 8))
      const times = rng.chance(0.8) ? rng.int(2, 16) : rng.int(17, 2000)
      const unit = input.subarray(from, from + len)
      const run = new Uint8Array(Math.min(len * times, cfg.maxLength))
      for (let i = 0; i < run.length; i += len) run.set(unit.subarray(0, run.length - i), i)
      return insertAt(input, from, run)
    }
  }
}

/** 1 to 8 stacked edits (half the time 1), cut to maxLength. */
export function mutate(
  rng: Rng,
  input: Uint8Array,
  corpus: readonly Uint8Array[],
  cfg: MutatorConfig,
): Uint8Array {
  let out = input
  let edits = 1
  while (edits < 8 && rng.chance(0.5)) edits++
  for (let i = 0; i < edits; i++) {
    const other = corpus.length > 0 ? rng.pick(corpus) : out
    out = mutateOnce(rng, out, other, cfg)
    if (out.length > cfg.maxLength) out = out.subarray(0, cfg.maxLength)
  }
  return out
}

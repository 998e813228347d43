/**
 * A small, fast, seedable PRNG (sfc32) for the fuzzer. Deterministic: the same seed gives the
 * same inputs, so a run can be repeated with `--seed`.
 */

/** FNV-1a over the parts' text: a 32-bit seed from a run seed, a target name and a chunk index. */
export function hashSeed(...parts: ReadonlyArray<string | number>): number {
  let h = 0x811c9dc5
  for (const part of parts) {
    const s = `${part}\u0000`
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i)
      h = Math.imul(h, 0x01000193)
    }
  }
  return h >>> 0
}

export class Rng {
  #a: number
  #b: number
  #c: number
  #d: number

  constructor(seed: number) {
    this.#a = 0x9e3779b9
    this.#b = 0x243f6a88
    this.#c = 0xb7e15162
    this.#d = seed >>> 0
    for (let i = 0; i < 12; i++) this.u32()
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0
    this.#d = (this.#d + 1) | 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) | 0
    this.#c = (this.#c << 21) | (this.#c >>> 11)
    this.#c = (this.#c + t) | 0
    return t >>> 0
  }

  /** A uniform integer in [0, n) for 0 < n <= 2^32 (0 when n <= 0). */
  below(n: number): number {
    if (n <= 1) return 0
    return Math.floor((this.u32() / 0x1_0000_0000) * n)
  }

  /** A uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + this.below(max - min + 1)
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() < p * 0x1_0000_0000
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick from an empty list')
    return items[this.below(items.length)]!
  }

  /** A length biased to small values: mostly under 32, sometimes up to `max`. */
  length(max: number): number {
    const r = this.below(10)
    if (r < 6) return this.below(Math.min(max, 32) + 1)
    if (r < 9) return this.below(Math.min(max, 512) + 1)
    return this.below(max + 1)
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i += 4) {
      const v = this.u32()
      out[i] = v
      if (i + 1 < n) out[i + 1] = v >>> 8
      if (i + 2 < n) out[i + 2] = v >>> 16
      if (i + 3 < n) out[i + 3] = v >>> 24
    }
    return out
  }
}

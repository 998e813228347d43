/**
 * The in-thread fuzz loop: makes inputs (random bytes, the target's generator, mutations of the
 * corpus), runs each through the target, times it and classifies the outcome. The worker runs it
 * under a watchdog (harness/pool.ts); the regression test calls runOne directly.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { copyBytes, mutate, randomInput } from './mutate.ts'
import { classify, describe, type Outcome, signature } from './oracle.ts'
import { hashSeed, Rng } from './rng.ts'
import type { FuzzTarget } from './target.ts'

export interface ChunkSpec {
  /** Seed of this chunk's input sequence. */
  readonly seed: number
  /** Inputs to try. */
  readonly count: number
  /** Stop early at this Date.now() (0: no deadline). */
  readonly deadline: number
  /** Time mode: stop this many ms after the chunk starts running (after the target loaded). */
  readonly windowMs?: number | undefined
  /** An input slower than this (confirmed by two re-runs) is a hang, ms. */
  readonly hangMs: number
  /**
   * Signatures of failures already saved in corpus/pending/ (found before, not fixed yet): they
   * are counted as `known`, not as crashes or hangs, and not reported again.
   */
  readonly known?: readonly string[] | undefined
}

export interface Failure {
  readonly target: string
  readonly kind: 'crash' | 'hang'
  readonly signature: string
  /** The input, lowercase hex. */
  readonly hex: string
  /** What went wrong, one line. */
  readonly message: string
  /** The error's stack (captured on a re-run with stack traces on), or the timings of a hang. */
  readonly detail: string
}

export interface ChunkStats {
  tried: number
  accepted: number
  rejected: number
  crashes: number
  hangs: number
  /** Failures whose signature is a known, pending one (not in crashes or hangs). */
  known: number
  /** Inputs over the hang budget once whose re-runs were fast (a GC pause, a busy machine). */
  slowOnce: number
  /** Busy time of the loop, ms. */
  ms: number
}

export function emptyStats(): ChunkStats {
  return { tried: 0, accepted: 0, rejected: 0, crashes: 0, hangs: 0, known: 0, slowOnce: 0, ms: 0 }
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/**
 * Reads a corpus file: hex, whitespace ignored, lines starting with '#' are comments, and a
 * token `HEX*N` stands for HEX repeated N times (so a deeply nested input stays a short file).
 */
export function readHexFile(path: string): Uint8Array {
  const text = readFileSync(path, 'utf8')
  const tokens = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join(' ')
    .split(/\s+/)
    .filter((t) => t !== '')
  let hex = ''
  for (const token of tokens) {
    const m = /^((?:[0-9a-fA-F]{2})+)(?:\*(\d+))?$/.exec(token)
    if (m === null) throw new Error(`${path}: not hex: ${token.slice(0, 40)}`)
    hex += m[2] === undefined ? m[1]! : m[1]!.repeat(Number(m[2]))
  }
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

/** Every *.hex input under `dir` (no error when it does not exist). */
export function readCorpusDir(dir: string): { file: string; input: Uint8Array }[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  return names
    .filter((n) => n.endsWith('.hex'))
    .sort()
    .map((n) => ({ file: join(dir, n), input: readHexFile(join(dir, n)) }))
}

/** Most failures of one signature a chunk reports in full (all are counted). */
const REPORTS_PER_SIGNATURE = 3

export class TargetRunner {
  readonly target: FuzzTarget
  readonly #corpus: Uint8Array[]
  readonly #dictionary: readonly Uint8Array[]
  readonly #reported = new Map<string, number>()

  /** `extra`: more corpus inputs (saved regressions), mutated like the seeds. */
  constructor(target: FuzzTarget, extra: readonly Uint8Array[] = []) {
    this.target = target
    const corpus = [...target.seeds(), ...extra]
    if (target.generate !== undefined) {
      const rng = new Rng(hashSeed('corpus', target.name))
      for (let i = 0; i < 64; i++) corpus.push(target.generate(rng))
    }
    // Plain copies: seeds are often Buffers that view shared memory (zlib output, an encoder's scratch).
    this.#corpus = corpus.map((c) => copyBytes(c.subarray(0, target.maxLength)))
    if (this.#corpus.length === 0) this.#corpus.push(new Uint8Array(0))
    this.#dictionary = target.dictionary ?? []
  }

  get corpusSize(): number {
    return this.#corpus.length
  }

  /** The next input of a sequence. */
  next(rng: Rng): Uint8Array {
    const { target } = this
    const r = rng.below(100)
    if (r < 6) return randomInput(rng, target.maxLength)
    const cfg = { maxLength: target.maxLength, dictionary: this.#dictionary }
    if (r < 22 && target.generate !== undefined) {
      const fresh = copyBytes(target.generate(rng))
      return r < 16 ? fresh : mutate(rng, fresh, this.#corpus, cfg)
    }
    return mutate(rng, rng.pick(this.#corpus), this.#corpus, cfg)
  }

  /** Runs one input: its outcome and how long it took. */
  runOne(input: Uint8Array): { outcome: Outcome; ms: number } {
    let threw = false
    let thrown: unknown
    let returned: boolean | undefined
    const t0 = performance.now()
    try {
      returned = this.target.run(input)
    } catch (err) {
      threw = true
      thrown = err
    }
    const ms = performance.now() - t0
    if (!threw && returned === false) return { outcome: { kind: 'rejected', code: 'refused' }, ms }
    return { outcome: classify(thrown, threw, this.target.lenientCauses === true), ms }
  }

  /**
   * Runs a chunk of inputs. `onInput` sees each input before it runs (the worker copies it where
   * the watchdog can read it); `onFailure` gets the first few failures of each signature.
   */
  runChunk(
    spec: ChunkSpec,
    onFailure: (f: Failure) => void,
    onInput?: (input: Uint8Array) => void,
  ): ChunkStats {
    const stats = emptyStats()
    const known = new Set(spec.known ?? [])
    const rng = new Rng(spec.seed)
    const started = performance.now()
    const window = spec.windowMs === undefined || spec.windowMs <= 0 ? 0 : Date.now() + spec.windowMs
    const stopAt =
      spec.deadline === 0 ? window : window === 0 ? spec.deadline : Math.min(window, spec.deadline)
    for (let i = 0; i < spec.count; i++) {
      if (stopAt !== 0 && (i & 31) === 0 && Date.now() >= stopAt) break
      const input = this.next(rng)
      onInput?.(input)
      const { outcome, ms } = this.runOne(input)
      stats.tried++
      if (outcome.kind === 'crash') {
        const failure = this.#crashFailure(input, outcome)
        if (known.has(failure.signature)) stats.known++
        else {
          stats.crashes++
          this.#report(failure, onFailure)
        }
        continue
      }
      if (outcome.kind === 'accepted') stats.accepted++
      else stats.rejected++
      if (ms > spec.hangMs) {
        const hang = this.#confirmHang(input, ms, spec.hangMs)
        if (hang === undefined) stats.slowOnce++
        else if (known.has(hang.signature)) stats.known++
        else {
          stats.hangs++
          this.#report(hang, onFailure)
        }
      }
    }
    stats.ms = performance.now() - started
    return stats
  }

  /** A crash, re-run once with stack traces on so the report says where it happened. */
  #crashFailure(input: Uint8Array, first: Extract<Outcome, { kind: 'crash' }>): Failure {
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 40
    let outcome: Outcome = first
    try {
      const again = this.runOne(input).outcome
      if (again.kind === 'crash') outcome = again
    } finally {
      Error.stackTraceLimit = limit
    }
    const crash = outcome.kind === 'crash' ? outcome : first
    return {
      target: this.target.name,
      kind: 'crash',
      signature: signature(this.target.name, 'crash', crash.error),
      hex: toHex(input),
      message: crash.reason,
      detail: stackOf(crash.error),
    }
  }

  /** Two re-runs: a hang only when every run was over the budget. */
  #confirmHang(input: Uint8Array, firstMs: number, hangMs: number): Failure | undefined {
    const times = [firstMs]
    for (let k = 0; k < 2; k++) {
      const ms = this.runOne(input).ms
      times.push(ms)
      if (ms <= hangMs) return undefined
    }
    const shown = times.map((t) => t.toFixed(0)).join(', ')
    return {
      target: this.target.name,
      kind: 'hang',
      signature: signature(this.target.name, 'hang', undefined),
      hex: toHex(input),
      message: `took ${shown} ms (3 runs), over the ${hangMs} ms budget`,
      detail: `runs: ${shown} ms`,
    }
  }

  #report(f: Failure, onFailure: (f: Failure) => void): void {
    const n = (this.#reported.get(f.signature) ?? 0) + 1
    this.#reported.set(f.signature, n)
    if (n <= REPORTS_PER_SIGNATURE) onFailure(f)
  }
}

/**
 * The signature of a saved failing input: a hang file's is its target's hang signature (it is not
 * run: it may never return); a crash file is run, with stack traces, and its failure's signature
 * taken. Undefined when the input no longer fails (fixed: it belongs in regressions/).
 */
export function savedSignature(runner: TargetRunner, file: string, input: Uint8Array): string | undefined {
  const name = runner.target.name
  if (/(^|\/)hang-[^/]*$/.test(file)) return signature(name, 'hang', undefined)
  const { outcome } = runner.runOne(input)
  return outcome.kind === 'crash' ? signature(name, 'crash', outcome.error) : undefined
}

/** The stack of an error and of its causes. */
export function stackOf(err: unknown): string {
  const lines: string[] = []
  let cur: unknown = err
  for (let depth = 0; cur !== undefined && depth < 5; depth++) {
    lines.push(
      `${depth === 0 ? '' : 'caused by: '}${cur instanceof Error ? (cur.stack ?? describe(cur)) : describe(cur)}`,
    )
    cur = cur instanceof Error ? cur.cause : undefined
  }
  return lines.join('\n')
}

/**
 * The fuzzer's oracle: what counts as a rejected input (fine) and what counts as a crash.
 *
 * - A SwitchboardError is a rejection: the decoder refused the input the way it promises to.
 *   Except: code INTERNAL (the library's own "this cannot happen"), and, unless the target says
 *   its decoder wraps a third-party parser (`lenientCauses`), a SwitchboardError caused by an
 *   engine error (TypeError, ReferenceError, SyntaxError, a RangeError without a Node `code`):
 *   that is a bug the decoder papered over.
 * - Anything else thrown is a crash: a bare Error, a TypeError, a stack overflow.
 * - A target's own checks throw OracleFailure: a decoder returned something malformed, or a
 *   round trip did not give back what went in.
 */
import { isSwitchboardError, type SwitchboardError } from '../../../src/errors.ts'

/** A target's check failed. `id` is short and stable (it names the failure in reports). */
export class OracleFailure extends Error {
  readonly id: string
  constructor(id: string, detail?: string, options?: { cause?: unknown }) {
    super(detail === undefined ? id : `${id}: ${detail}`, options)
    this.name = 'OracleFailure'
    this.id = id
  }
}

/** Throws an OracleFailure. */
export function fail(id: string, detail?: string): never {
  throw new OracleFailure(id, detail)
}

/** Throws an OracleFailure unless `condition` holds. */
export function check(condition: unknown, id: string, detail?: () => string): asserts condition {
  if (!condition) throw new OracleFailure(id, detail?.())
}

const ENGINE_ERRORS = [TypeError, ReferenceError, SyntaxError, EvalError, URIError]

/** True for an error thrown by the engine (a programming error), not by Node or the library. */
export function isEngineError(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  if (ENGINE_ERRORS.some((E) => err instanceof E)) return (err as { code?: unknown }).code === undefined
  return err instanceof RangeError && (err as { code?: unknown }).code === undefined
}

/** Why a SwitchboardError is really a crash, or undefined when it is a fine rejection. */
export function auditRejection(err: SwitchboardError, lenientCauses: boolean): string | undefined {
  if (err.code === 'INTERNAL') return `INTERNAL error: ${err.message}`
  if (lenientCauses) return undefined
  let cause: unknown = err.cause
  for (let depth = 0; cause !== undefined && depth < 10; depth++) {
    if (isEngineError(cause)) return `${err.code} hides an engine error: ${String(cause)}`
    cause = (cause as { cause?: unknown } | null)?.cause
  }
  return undefined
}

export type Outcome =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'rejected'; readonly code: string }
  | { readonly kind: 'crash'; readonly error: unknown; readonly reason: string }

/** Classifies what a target's run threw (or `undefined` when it returned). */
export function classify(thrown: unknown, threw: boolean, lenientCauses: boolean): Outcome {
  if (!threw) return { kind: 'accepted' }
  if (thrown instanceof OracleFailure) return { kind: 'crash', error: thrown, reason: thrown.message }
  if (isSwitchboardError(thrown)) {
    const why = auditRejection(thrown, lenientCauses)
    return why === undefined
      ? { kind: 'rejected', code: thrown.code }
      : { kind: 'crash', error: badRejection(why, thrown), reason: why }
  }
  return { kind: 'crash', error: thrown, reason: `threw ${describe(thrown)}` }
}

/** Numbers blanked, so one bug gives one key whatever the input's lengths and values. */
function normalize(text: string): string {
  return text.replace(/0x[0-9a-f]+|\d+/gi, 'N').slice(0, 160)
}

function badRejection(why: string, err: unknown): OracleFailure {
  return new OracleFailure(`bad-rejection (${normalize(why)})`, why, { cause: err })
}

/** A one-line description of any thrown value. */
export function describe(thrown: unknown): string {
  if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`
  try {
    return `a non-Error value: ${String(thrown)}`
  } catch {
    return 'a non-Error value'
  }
}

export type Attempt<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: SwitchboardError }

/**
 * Runs one decoder call inside a target: a fine rejection comes back as `{ ok: false }`, so the
 * target can go on (call another decoder, check state afterwards); anything that is a crash by
 * the rules above is thrown on, as is.
 */
export function attempt<T>(fn: () => T, lenientCauses = false): Attempt<T> {
  try {
    return { ok: true, value: fn() }
  } catch (err) {
    if (err instanceof OracleFailure || !isSwitchboardError(err)) throw err
    const why = auditRejection(err, lenientCauses)
    if (why !== undefined) throw badRejection(why, err)
    return { ok: false, error: err }
  }
}

/** Like attempt, and the rejection must carry one of `codes`. */
export function attemptCodes<T>(fn: () => T, codes: readonly string[], lenientCauses = false): Attempt<T> {
  const r = attempt(fn, lenientCauses)
  if (!r.ok && !codes.includes(r.error.code)) {
    throw new OracleFailure(
      `unexpected-code ${r.error.code}`,
      `rejected with ${r.error.code} (${r.error.message}), expected one of ${codes.join(', ')}`,
      {
        cause: r.error,
      },
    )
  }
  return r
}

/**
 * A short, stable key for a failure, so that the same bug found by many inputs is reported and
 * saved once: the error's kind and message with numbers blanked, and where it was thrown.
 */
export function signature(target: string, kind: 'crash' | 'hang', error: unknown): string {
  if (kind === 'hang') return `${target}|hang`
  if (error instanceof OracleFailure) return `${target}|oracle|${error.id}`
  const text = normalize(describe(error))
  const frame = error instanceof Error ? firstFrame(error.stack) : ''
  return `${target}|${text}${frame === '' ? '' : `|${frame}`}`
}

function firstFrame(stack: string | undefined): string {
  if (stack === undefined) return ''
  for (const line of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?[^()\s]+):(\d+):\d+\)?\s*$/.exec(line.trim())
    if (m !== null) return `${m[1]!.replace(/^.*\/(src|node_modules|test)\//, '$1/')}:${m[2]}`
  }
  return ''
}

/**
 * What the msgpack codec promises to give back (docs/protocol.md §21), as code: `expected(v)` is
 * the value a peer reads for a value `v` we write, and `difference(a, b)` compares two decoded
 * values (bytes by content, numbers with Object.is, Dates by time, objects by own keys).
 */

/** A value the codec must refuse with CODEC_ERROR (a BigInt beyond 64 bits, a symbol). */
export const REFUSED: unique symbol = Symbol('refused')

const INT64_MIN = -(2n ** 63n)
const UINT64_MAX = 2n ** 64n - 1n
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** Lone surrogates become U+FFFD: UTF-8 cannot carry them (not in §21's table; inherent). */
export function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
}

/** A map key as the reader's object has it: '__proto__' is read as '__proto_'. */
function propertyName(key: string): string {
  return key === '__proto__' ? '__proto_' : key
}

function viewBytes(v: ArrayBufferView | ArrayBuffer): Uint8Array {
  return v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
}

/** msgpackr's marker object for the byte 0xc1 (§21: read as an opaque marker, written back as 0xc1). */
export function isMarker(v: unknown): boolean {
  return typeof v === 'object' && v !== null && v.constructor?.name === 'C1Type'
}

/** The value a switchboard peer reads back for `v` (§21's table), or REFUSED. */
export function expected(v: unknown): unknown {
  switch (typeof v) {
    case 'undefined':
    case 'function':
      return null
    case 'number':
      return Object.is(v, -0) ? 0 : v
    case 'bigint':
      if (v < INT64_MIN || v > UINT64_MAX) return REFUSED
      // msgpackr's int64AsType 'auto' gives a number up to ±2^53 (exact there), one past §21's "safe".
      return v >= -MAX_SAFE - 1n && v <= MAX_SAFE + 1n ? Number(v) : v
    case 'string':
      return wellFormed(v)
    case 'symbol':
      return REFUSED
    case 'boolean':
      return v
  }
  if (v === null) return null
  if (isMarker(v)) return v
  if (v instanceof RegExp) return [v.source, v.flags]
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return viewBytes(v).slice()
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : new Date(v.getTime())
  const list = (items: readonly unknown[]): unknown => {
    const out = items.map(expected)
    return out.includes(REFUSED) ? REFUSED : out
  }
  if (Array.isArray(v)) return list(v)
  if (v instanceof Set) return list([...v])
  const entries: [string, unknown][] =
    v instanceof Map
      ? [...v].map(([k, x]) => [propertyName(wellFormed(String(k))), x])
      : Object.keys(v as object).map((k) => [propertyName(wellFormed(k)), (v as Record<string, unknown>)[k]])
  const out: Record<string, unknown> = {}
  for (const [k, x] of entries) {
    const e = expected(x)
    if (e === REFUSED) return REFUSED
    Object.defineProperty(out, k, { value: e, enumerable: true, writable: true, configurable: true })
  }
  return out
}

/**
 * The first value inside a decoded `v` that is not of a type §21 says a peer reads (null,
 * boolean, number, string, Uint8Array, array, plain object, Date with a time, the 0xc1 marker, and
 * BigInt only for 64-bit integers beyond ±2^53), or undefined when there is none. Such a value can
 * only come from an extension §21 says is CODEC_ERROR (msgpackr's own BigInt, Error, Set, typed
 * array, undefined... extensions). Iterative: decoded values nest deep.
 */
export function foreignType(v: unknown): string | undefined {
  const stack: unknown[] = [v]
  while (stack.length > 0) {
    const x = stack.pop()
    switch (typeof x) {
      case 'boolean':
      case 'number':
      case 'string':
        continue
      case 'bigint':
        if (x >= -(2n ** 63n) && x <= 2n ** 64n - 1n && (x > MAX_SAFE + 1n || x < -MAX_SAFE - 1n)) continue
        return 'a BigInt that no 64-bit integer reads as'
      case 'object':
        break
      default:
        return typeof x
    }
    if (x === null || isMarker(x)) continue
    if (x instanceof Date) {
      if (Number.isNaN(x.getTime())) return 'an invalid Date'
      continue
    }
    if (x instanceof Uint8Array) {
      if (x.constructor !== Uint8Array && x.constructor !== Buffer) return x.constructor.name
      continue
    }
    if (Array.isArray(x)) {
      for (const item of x) stack.push(item)
      continue
    }
    const proto = Object.getPrototypeOf(x)
    if (proto !== Object.prototype && proto !== null)
      return (x as object).constructor?.name ?? 'an object with a foreign prototype'
    for (const k of Object.keys(x as object)) stack.push((x as Record<string, unknown>)[k])
  }
  return undefined
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function show(v: unknown): string {
  try {
    const s =
      typeof v === 'bigint'
        ? `${v}n`
        : v instanceof Uint8Array
          ? `bytes(${v.length})`
          : typeof v === 'string'
            ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)
            : Object.is(v, -0)
              ? '-0'
              : String(v)
    return s.length > 80 ? `${s.slice(0, 80)}…` : s
  } catch {
    return typeof v
  }
}

/** Where `actual` differs from `want`, or undefined when equal. */
export function difference(want: unknown, actual: unknown, path = '$'): string | undefined {
  if (want === null || typeof want !== 'object') {
    if (typeof want === 'number' ? Object.is(want, actual) : want === actual) return undefined
    if (typeof want === 'string' && want.startsWith('\ufeff') && actual === want.slice(1)) {
      return `${path}: leading U+FEFF dropped from a string of ${want.length} characters`
    }
    return `${path}: want ${show(want)} (${typeof want}), got ${show(actual)} (${typeof actual})`
  }
  if (isMarker(want))
    return isMarker(actual) ? undefined : `${path}: want the 0xc1 marker, got ${show(actual)}`
  if (want instanceof Uint8Array) {
    if (actual instanceof Uint8Array && bytesEqual(want, actual)) return undefined
    return `${path}: want bytes(${want.length}), got ${show(actual)}`
  }
  if (want instanceof Date) {
    if (actual instanceof Date && Object.is(actual.getTime(), want.getTime())) return undefined
    return `${path}: want Date ${want.getTime()}, got ${show(actual)}`
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(actual)) return `${path}: want an array, got ${show(actual)}`
    if (actual.length !== want.length) return `${path}: want ${want.length} items, got ${actual.length}`
    for (let i = 0; i < want.length; i++) {
      const d = difference(want[i], actual[i], `${path}[${i}]`)
      if (d !== undefined) return d
    }
    return undefined
  }
  if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) {
    return `${path}: want an object, got ${show(actual)}`
  }
  const proto = Object.getPrototypeOf(actual)
  if (proto !== Object.prototype && proto !== null) return `${path}: an object with a foreign prototype`
  const wantKeys = Object.keys(want)
  const gotKeys = Object.keys(actual)
  if (wantKeys.length !== gotKeys.length || wantKeys.some((k) => !Object.hasOwn(actual, k))) {
    return `${path}: want keys ${show(wantKeys.join(','))}, got ${show(gotKeys.join(','))}`
  }
  for (const k of wantKeys) {
    const d = difference(
      (want as Record<string, unknown>)[k],
      (actual as Record<string, unknown>)[k],
      `${path}.${k}`,
    )
    if (d !== undefined) return d
  }
  return undefined
}

/**
 * Helpers shared by the fuzz targets: hex, concatenation, the golden vectors and session
 * transcript as seeds, u16-framed units, and the frame-list oracle (a decoded record re-encodes
 * to exactly its bytes: every field is a canonical varint or raw bytes, so decode ∘ encode is
 * the identity on whatever the decoder accepts).
 */
import { readFileSync } from 'node:fs'
import { isDeepStrictEqual } from 'node:util'
import type { Frame, OfferFrame } from '../../../src/wire/frame.ts'
import { encodeFrame } from '../../../src/wire/frame-encode.ts'
import { check, fail, OracleFailure } from '../harness/oracle.ts'

export const utf8 = new TextEncoder()

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

export function hex(bytes: Uint8Array, max = 256): string {
  const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
  return s.length > max * 2 ? `${s.slice(0, max * 2)}… (${bytes.length} bytes)` : s
}

export function concat(...parts: Uint8Array[]): Uint8Array {
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

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** A u16 big-endian length, then the bytes (a record, a handshake unit). */
export function u16Unit(body: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(body.length >>> 8, body.length & 0xff), body)
}

/**
 * Splits bytes into u16-length-prefixed pieces, leniently (a short last piece is kept): how
 * targets that take several messages cut one input into them.
 */
export function splitUnits(bytes: Uint8Array, max = Number.POSITIVE_INFINITY): Uint8Array[] {
  const out: Uint8Array[] = []
  let at = 0
  while (at + 2 <= bytes.length && out.length < max) {
    const len = (bytes[at]! << 8) | bytes[at + 1]!
    out.push(bytes.subarray(at + 2, Math.min(bytes.length, at + 2 + len)))
    at += 2 + len
  }
  return out
}

const fixtures = new URL('../../fixtures/golden/', import.meta.url)

/** Each golden frame's bytes (test/fixtures/golden/frames.json), whatever frame types it has. */
export function goldenFrames(): Uint8Array[] {
  const vectors = JSON.parse(readFileSync(new URL('frames.json', fixtures), 'utf8')) as { hex?: unknown }[]
  return vectors.flatMap((v) => (typeof v.hex === 'string' ? [fromHex(v.hex)] : []))
}

export interface TranscriptUnit {
  what: string
  bytes: Uint8Array
}

/** The units of the golden session transcript, both sides. */
export function transcriptUnits(): TranscriptUnit[] {
  const t = JSON.parse(readFileSync(new URL('session-transcript.json', fixtures), 'utf8')) as Record<
    string,
    unknown
  >
  const out: TranscriptUnit[] = []
  for (const side of ['dialer', 'listener']) {
    const units = t[side]
    if (!Array.isArray(units)) continue
    for (const u of units as { what?: unknown; hex?: unknown }[]) {
      if (typeof u.hex === 'string') out.push({ what: String(u.what), bytes: fromHex(u.hex) })
    }
  }
  return out
}

/** The record bodies (flags byte + frames) of the transcript. */
export function transcriptRecordBodies(): Uint8Array[] {
  return transcriptUnits()
    .filter((u) => u.what.startsWith('record'))
    .map((u) => u.bytes.subarray(2))
}

/** The hello bodies (after the u32 length) of the transcript. */
export function transcriptHelloBodies(): Uint8Array[] {
  return transcriptUnits()
    .filter((u) => u.what === 'hello')
    .map((u) => u.bytes.subarray(4))
}

/** Runs `fn`; anything it throws is an oracle failure with this id (the step must not fail). */
export function mustNotThrow<T>(id: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw new OracleFailure(id, String(err), { cause: err })
  }
}

/** An OFFER's protocol entry: a name, a version that is a safe integer, lists of strings. */
function checkOffer(offer: OfferFrame['offer'], index: number): void {
  check(
    typeof offer === 'object' &&
      offer !== null &&
      typeof offer.name === 'string' &&
      Number.isSafeInteger(offer.version) &&
      offer.version >= 0 &&
      Array.isArray(offer.methods) &&
      offer.methods.every((m) => typeof m === 'string') &&
      Array.isArray(offer.events) &&
      offer.events.every((e) => typeof e === 'string'),
    'frame-malformed',
    () => `frame ${index} offer is not a well-typed protocol entry: ${JSON.stringify(offer)}`,
  )
}

/** Every field of a decoded frame is well-typed: counts are safe non-negative integers. */
function checkFrameFields(frame: Frame, index: number): void {
  check(typeof frame.type === 'string', 'frame-malformed', () => `frame ${index} has no type`)
  for (const [key, value] of Object.entries(frame)) {
    if (value === undefined || typeof value === 'string' || typeof value === 'boolean') continue
    if (typeof value === 'number') {
      check(
        Number.isSafeInteger(value) && value >= 0,
        'frame-bad-number',
        () => `frame ${index} ${key} = ${value}`,
      )
    } else if (value instanceof Uint8Array) {
    } else if (key === 'offer' && frame.type === 'offer') {
      checkOffer(frame.offer, index)
    } else if (Array.isArray(value)) {
      for (const item of value.flat()) {
        check(
          typeof item === 'number' && Number.isSafeInteger(item) && item >= 0,
          'frame-bad-number',
          () => `frame ${index} ${key} holds ${String(item)}`,
        )
      }
    } else {
      fail('frame-malformed', `frame ${index} field ${key} is ${typeof value}`)
    }
  }
}

/**
 * The oracle for a decoded frame list: well-typed fields, and encoding the frames again gives
 * back exactly the bytes they were decoded from.
 */
export function checkFrames(bytes: Uint8Array, frames: readonly Frame[]): void {
  check(Array.isArray(frames), 'frame-malformed', () => 'readFrames did not return an array')
  frames.forEach(checkFrameFields)
  const again = concat(...frames.map((f) => mustNotThrow('frame-reencode-throws', () => encodeFrame(f))))
  if (!bytesEqual(again, bytes)) {
    fail('frame-roundtrip-mismatch', `decoded ${hex(bytes)} re-encodes as ${hex(again)}`)
  }
}

export { isDeepStrictEqual }

/**
 * Payload codecs: how values become bytes. Negotiated in the hello (CODECS); the dialer's first
 * choice that the listener also offers wins.
 *
 * msgpack is standard MessagePack that other languages read (docs/protocol.md §21 has the exact table):
 * msgpackr's records/structures extension is off, integers outside int32 that are still safe
 * JS integers are written as 64-bit integers (msgpackr alone would write 2^40 as a float64),
 * `undefined` is written as nil. msgpackr is imported only through its pure entry points.
 */
import { Packr } from 'msgpackr/pack'
import { Unpackr } from 'msgpackr/unpack'
import { sbError } from '../errors.ts'
import { checkMsgpack } from './msgpack-check.ts'

export interface Codec {
  readonly name: string
  encode(value: unknown): Uint8Array
  decode(bytes: Uint8Array): unknown
}

const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'auto', mapsAsObjects: true })

/** A safe integer msgpackr alone would write as a float64 (it writes only 32-bit ints as ints). */
function isLargeInt(v: number): boolean {
  return Number.isSafeInteger(v) && (v > 0xffffffff || v < -0x80000000)
}

/**
 * Returns `value` made ready for msgpackr, copy-on-write (a value needing no change is returned
 * as is, so the common case allocates nothing):
 * - every safe integer outside int32/uint32 range becomes a BigInt, so msgpackr writes it as a
 *   64-bit integer (a non-safe integral number such as 1e300 stays a float64);
 * - every typed array other than Uint8Array, and every DataView, becomes a Uint8Array over the
 *   same bytes: msgpackr 2.1 writes those with a bin header of byteLength but copies their
 *   elements, not their bytes, so the rest of the bin held stale bytes of earlier messages;
 * - a Set is walked like an array (msgpackr writes it as one) and a Map's keys and values, and
 *   the own fields of a class instance without toJSON, like a plain object's;
 * - an invalid Date becomes nil (as in JSON): msgpackr would write a 1-byte timestamp extension,
 *   which the MessagePack spec does not define and other decoders reject.
 */
function prepare(value: unknown): unknown {
  if (typeof value === 'number') return isLargeInt(value) ? BigInt(value) : value
  if (typeof value !== 'object' || value === null) return value
  if (ArrayBuffer.isView(value)) {
    return value instanceof Uint8Array
      ? value
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  }
  if (Array.isArray(value)) return prepareList(value) ?? value
  if (value instanceof Set) return prepareList([...value]) ?? value
  if (value instanceof Map) {
    let changed = false
    const entries: [unknown, unknown][] = []
    for (const [k, v] of value) {
      const pk = prepare(k)
      const pv = prepare(v)
      if (pk !== k || pv !== v) changed = true
      entries.push([pk, pv])
    }
    return changed ? new Map(entries) : value
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value
  if (
    value instanceof RegExp ||
    value instanceof Error ||
    value instanceof ArrayBuffer ||
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    return value
  }
  let copy: Record<string, unknown> | undefined
  const obj = value as Record<string, unknown>
  for (const key of Object.keys(obj)) {
    const v = obj[key]
    const w = prepare(v)
    if (w !== v) {
      copy ??= { ...obj }
      copy[key] = w
    }
  }
  return copy ?? value
}

/** The prepared list, or undefined when no element changed. */
function prepareList(list: readonly unknown[]): unknown[] | undefined {
  let copy: unknown[] | undefined
  for (let i = 0; i < list.length; i++) {
    const v = list[i]
    const w = prepare(v)
    if (w !== v) {
      copy ??= list.slice()
      copy[i] = w
    }
  }
  return copy
}

export const msgpackCodec: Codec = {
  name: 'msgpack',
  encode(value) {
    try {
      return packr.pack(prepare(value))
    } catch (cause) {
      throw sbError('CODEC_ERROR', 'value cannot be encoded as MessagePack', { cause })
    }
  },
  decode(bytes) {
    checkMsgpack(bytes)
    try {
      return unpackr.unpack(bytes)
    } catch (cause) {
      throw sbError('CODEC_ERROR', 'payload is not valid MessagePack', { cause })
    }
  },
}

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export const jsonCodec: Codec = {
  name: 'json',
  encode(value) {
    let text: string | undefined
    try {
      text = JSON.stringify(value)
    } catch (cause) {
      throw sbError('CODEC_ERROR', 'value cannot be encoded as JSON', { cause })
    }
    return text === undefined ? new Uint8Array(0) : utf8.encode(text)
  },
  decode(bytes) {
    try {
      return bytes.length === 0 ? undefined : JSON.parse(utf8Decoder.decode(bytes))
    } catch (cause) {
      throw sbError('CODEC_ERROR', 'payload is not valid JSON', { cause })
    }
  },
}

export const builtinCodecs: ReadonlyMap<string, Codec> = new Map([
  [msgpackCodec.name, msgpackCodec],
  [jsonCodec.name, jsonCodec],
])

export function codecByName(name: string, extra: readonly Codec[] = []): Codec {
  const codec = extra.find((c) => c.name === name) ?? builtinCodecs.get(name)
  if (codec === undefined) throw sbError('NEGOTIATION_FAILED', `codec '${name}' is not available`)
  return codec
}

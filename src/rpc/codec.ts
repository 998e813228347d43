/**
 * Payload codecs: how values become bytes. Negotiated in the hello (CODECS); the dialer's first
 * choice that the listener also offers wins.
 *
 * msgpack is standard MessagePack that other languages read (docs/protocol.md §Payloads):
 * msgpackr's records/structures extension is off, integers outside int32 that are still safe
 * JS integers are written as 64-bit integers (msgpackr alone would write 2^40 as a float64),
 * `undefined` is written as nil. msgpackr is imported only through its pure entry points.
 */
import { Packr } from 'msgpackr/pack'
import { Unpackr } from 'msgpackr/unpack'
import { sbError } from '../errors.ts'

export interface Codec {
  readonly name: string
  encode(value: unknown): Uint8Array
  decode(bytes: Uint8Array): unknown
}

const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'auto', mapsAsObjects: true })

function isLargeInt(v: number): boolean {
  return Number.isInteger(v) && (v > 0xffffffff || v < -0x80000000)
}

/**
 * Returns `value` with every safe integer outside int32 range replaced by a BigInt, so msgpackr
 * writes it as an integer. Copy-on-write: a value with no such integer is returned as is.
 */
function widenLargeInts(value: unknown): unknown {
  if (typeof value === 'number') return isLargeInt(value) ? BigInt(value) : value
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const v = value[i]
      const w = widenLargeInts(v)
      if (w !== v) {
        copy ??= value.slice()
        copy[i] = w
      }
    }
    return copy ?? value
  }
  if (value instanceof Map) {
    let copy: Map<unknown, unknown> | undefined
    for (const [k, v] of value) {
      const w = widenLargeInts(v)
      if (w !== v) {
        copy ??= new Map(value)
        copy.set(k, w)
      }
    }
    return copy ?? value
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value
  let copy: Record<string, unknown> | undefined
  const obj = value as Record<string, unknown>
  for (const key in obj) {
    const v = obj[key]
    const w = widenLargeInts(v)
    if (w !== v) {
      copy ??= { ...obj }
      copy[key] = w
    }
  }
  return copy ?? value
}

export const msgpackCodec: Codec = {
  name: 'msgpack',
  encode(value) {
    try {
      return packr.pack(widenLargeInts(value))
    } catch (cause) {
      throw sbError('CODEC_ERROR', 'value cannot be encoded as MessagePack', { cause })
    }
  },
  decode(bytes) {
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

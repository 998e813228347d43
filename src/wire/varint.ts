/**
 * Unsigned LEB128 varints, up to 2^53 - 1 (8 bytes carry 56 bits; values above
 * Number.MAX_SAFE_INTEGER are refused so every decoded value is an exact JS number).
 */
import { sbError } from '../errors.ts'

/** Most bytes a varint may take. */
export const MAX_VARINT_BYTES = 8

/** Bytes `value` takes as a varint. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1
  if (value < 0x4000) return 2
  if (value < 0x200000) return 3
  if (value < 0x10000000) return 4
  let size = 4
  let rest = Math.floor(value / 0x10000000)
  while (rest > 0) {
    size++
    rest = Math.floor(rest / 0x80)
  }
  return size
}

/** Writes `value` at `offset`; returns the offset after it. The caller sized the buffer. */
export function writeVarint(buf: Uint8Array, offset: number, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw sbError('INVALID_ARGUMENT', `varint out of range: ${value}`)
  }
  let pos = offset
  let rest = value
  while (rest >= 0x80) {
    buf[pos++] = (rest % 0x80) | 0x80
    rest = Math.floor(rest / 0x80)
  }
  buf[pos++] = rest
  return pos
}

/**
 * Result of reading a varint: the value and the offset after it, or `undefined` when the buffer
 * ends first ("need more bytes": not an error). A varint longer than MAX_VARINT_BYTES or above
 * 2^53 - 1 throws FRAME_MALFORMED.
 */
export interface VarintRead {
  value: number
  next: number
}

export function readVarint(
  buf: Uint8Array,
  offset: number,
  end: number = buf.length,
): VarintRead | undefined {
  let value = 0
  let scale = 1
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    const pos = offset + i
    if (pos >= end) return undefined
    const byte = buf[pos]!
    value += (byte & 0x7f) * scale
    if ((byte & 0x80) === 0) {
      if (i > 0 && byte === 0) throw sbError('FRAME_MALFORMED', 'varint has a redundant trailing zero byte')
      if (value > Number.MAX_SAFE_INTEGER) throw sbError('FRAME_MALFORMED', 'varint above 2^53 - 1')
      return { value, next: pos + 1 }
    }
    scale *= 0x80
  }
  throw sbError('FRAME_MALFORMED', `varint longer than ${MAX_VARINT_BYTES} bytes`)
}

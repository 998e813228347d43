/**
 * A read cursor over one complete unit (a record's plaintext, a hello body). The unit's length
 * was already checked when its header was read, so running past the end here means the unit is
 * malformed, never "need more bytes".
 */
import { sbError } from '../errors.ts'
import { MAX_VARINT_BYTES } from './varint.ts'

export class Cursor {
  pos: number
  end: number
  buf: Uint8Array

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf
    this.pos = start
    this.end = end
  }

  /** Points this cursor at another unit (a decoder reuses one cursor instead of making one per unit). */
  reset(buf: Uint8Array, start: number, end: number): this {
    this.buf = buf
    this.pos = start
    this.end = end
    return this
  }

  get remaining(): number {
    return this.end - this.pos
  }

  u8(): number {
    if (this.pos >= this.end) throw sbError('FRAME_MALFORMED', 'unit ends inside a field')
    return this.buf[this.pos++]!
  }

  varint(): number {
    let value = 0
    let scale = 1
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = this.u8()
      value += (byte & 0x7f) * scale
      if ((byte & 0x80) === 0) {
        if (i > 0 && byte === 0) throw sbError('FRAME_MALFORMED', 'varint has a redundant trailing zero byte')
        if (value > Number.MAX_SAFE_INTEGER) throw sbError('FRAME_MALFORMED', 'varint above 2^53 - 1')
        return value
      }
      scale *= 0x80
    }
    throw sbError('FRAME_MALFORMED', `varint longer than ${MAX_VARINT_BYTES} bytes`)
  }

  /** A varint that must not exceed `limit`; checked before anything is read or copied. */
  length(limit: number, what: string): number {
    const n = this.varint()
    if (n > limit) throw sbError('FRAME_TOO_LARGE', `${what} of ${n} bytes exceeds ${limit}`)
    if (n > this.remaining) throw sbError('FRAME_MALFORMED', `${what} of ${n} bytes overruns its unit`)
    return n
  }

  /** A view (no copy) of the next `n` bytes. */
  bytes(n: number): Uint8Array {
    if (n > this.remaining) throw sbError('FRAME_MALFORMED', 'unit ends inside a field')
    const view = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return view
  }
}

/**
 * Packs frames into records (docs/protocol.md §Records): u16 length, then the body, which is the
 * cipher's seal of (u8 record flags ‖ frames). As many whole frames as fit go in each record.
 *
 * Plain records reference large frame bodies instead of copying them (zero-copy for byte
 * payloads); compressed or encrypted records need one contiguous plaintext, so they copy.
 */

import type { RecordCipher } from '../wire/cipher.ts'
import { MAX_RECORD_BODY, RecordFlag } from '../wire/constants.ts'
import type { Frame } from '../wire/frame.ts'
import { bodyOf, fixedPayloadSize, frameHeaderSize, writeFrameHeader } from '../wire/frame-encode.ts'
import type { Compressor } from './compression.ts'

/** Bodies at least this large are referenced, not copied, in plain records. */
const ZERO_COPY_MIN = 2048

export interface PackerOptions {
  cipher: RecordCipher
  compressor?: Compressor | undefined
  /** Records whose frames are smaller than this are never compressed, bytes. */
  compressThreshold: number
}

export interface PackerStats {
  records: number
  compressedRecords: number
  bytesOut: number
}

export class RecordPacker {
  private readonly opts: PackerOptions
  /** Largest (flags + frames) plaintext per record. */
  readonly capacity: number
  readonly stats: PackerStats = { records: 0, compressedRecords: 0, bytesOut: 0 }
  /** Each frame's fixed payload size and header size for the pass in progress (sized once). */
  private fixed: number[] = []
  private header: number[] = []

  constructor(opts: PackerOptions) {
    this.opts = opts
    this.capacity = MAX_RECORD_BODY - opts.cipher.overhead
  }

  /** Turns frames into the byte segments of one or more records, ready for one writev. */
  pack(frames: readonly Frame[]): Uint8Array[] {
    const out: Uint8Array[] = []
    let start = 0
    let size = 1 // record flags byte
    const fixed = this.fixed
    const header = this.header
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!
      const fx = fixedPayloadSize(f)
      fixed[i] = fx
      const h = frameHeaderSize(f, fx)
      header[i] = h
      const n = h + (bodyOf(f)?.length ?? 0)
      if (size + n > this.capacity && i > start) {
        this.emit(frames, start, i, size, out)
        start = i
        size = 1
      }
      size += n
    }
    if (start < frames.length) this.emit(frames, start, frames.length, size, out)
    if (fixed.length > 4096) {
      this.fixed = []
      this.header = []
    }
    return out
  }

  private emit(
    frames: readonly Frame[],
    from: number,
    to: number,
    plainSize: number,
    out: Uint8Array[],
  ): void {
    const { cipher, compressor } = this.opts
    const transform =
      cipher.overhead > 0 || (compressor !== undefined && plainSize >= this.opts.compressThreshold)
    this.stats.records++
    if (!transform) {
      this.emitPlain(frames, from, to, plainSize, out)
      return
    }
    let plain = this.contiguous(frames, from, to, plainSize)
    if (compressor !== undefined && plainSize >= this.opts.compressThreshold) {
      const packed = compressor.compress(plain.subarray(1))
      if (packed.length + 1 < plain.length) {
        const next = new Uint8Array(packed.length + 1)
        next[0] = RecordFlag.COMPRESSED
        next.set(packed, 1)
        plain = next
        this.stats.compressedRecords++
      }
    }
    const body = cipher.seal(plain)
    const header = new Uint8Array(2)
    header[0] = body.length >>> 8
    header[1] = body.length & 0xff
    out.push(header, body)
    this.stats.bytesOut += 2 + body.length
  }

  private contiguous(frames: readonly Frame[], from: number, to: number, plainSize: number): Uint8Array {
    const buf = new Uint8Array(plainSize)
    let pos = 1
    for (let i = from; i < to; i++) {
      const f = frames[i]!
      pos = writeFrameHeader(f, buf, pos, this.fixed[i])
      const body = bodyOf(f)
      if (body !== undefined && body.length > 0) {
        buf.set(body, pos)
        pos += body.length
      }
    }
    return buf
  }

  private emitPlain(
    frames: readonly Frame[],
    from: number,
    to: number,
    plainSize: number,
    out: Uint8Array[],
  ): void {
    // One scratch buffer holds the record header, the flags byte, every frame header and the
    // small bodies; large bodies are spliced in as their own segments.
    let copied = 3
    for (let i = from; i < to; i++) {
      const f = frames[i]!
      const body = bodyOf(f)
      copied += this.header[i]! + (body !== undefined && body.length < ZERO_COPY_MIN ? body.length : 0)
    }
    const scratch = new Uint8Array(copied)
    scratch[0] = plainSize >>> 8
    scratch[1] = plainSize & 0xff
    scratch[2] = 0
    let pos = 3
    let segStart = 0
    for (let i = from; i < to; i++) {
      const f = frames[i]!
      pos = writeFrameHeader(f, scratch, pos, this.fixed[i])
      const body = bodyOf(f)
      if (body === undefined || body.length === 0) continue
      if (body.length < ZERO_COPY_MIN) {
        scratch.set(body, pos)
        pos += body.length
      } else {
        out.push(scratch.subarray(segStart, pos), body)
        segStart = pos
      }
    }
    if (pos > segStart) out.push(scratch.subarray(segStart, pos))
    this.stats.bytesOut += 2 + plainSize
  }
}

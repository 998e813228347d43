/**
 * Opens received record bodies: the cipher verifies and decrypts, then the flags byte says
 * whether the frames are compressed. Decompression is capped at one record's worth of frames,
 * so a compressed record cannot expand into a bomb.
 */
import { sbError } from '../errors.ts'
import type { RecordCipher } from '../wire/cipher.ts'
import { MAX_RECORD_PLAINTEXT, RecordFlag } from '../wire/constants.ts'
import type { Frame } from '../wire/frame.ts'
import { readFrames } from '../wire/frame-decode.ts'
import type { Compressor } from './compression.ts'

export interface OpenerOptions {
  cipher: RecordCipher
  compressor?: Compressor | undefined
}

export class RecordOpener {
  private readonly opts: OpenerOptions
  records = 0

  constructor(opts: OpenerOptions) {
    this.opts = opts
  }

  open(body: Uint8Array): Frame[] {
    const plain = this.opts.cipher.open(body)
    if (plain.length === 0) throw sbError('FRAME_MALFORMED', 'record has no flags byte')
    this.records++
    const flags = plain[0]!
    if ((flags & ~RecordFlag.COMPRESSED) !== 0)
      throw sbError('FRAME_MALFORMED', `unknown record flags 0x${flags.toString(16)}`)
    if ((flags & RecordFlag.COMPRESSED) === 0) return readFrames(plain, 1)
    const { compressor } = this.opts
    if (compressor === undefined)
      throw sbError('COMPRESSION_ERROR', 'compressed record but no compression was negotiated')
    const max = MAX_RECORD_PLAINTEXT - 1
    let frames: Uint8Array
    try {
      frames = compressor.decompress(plain.subarray(1), max)
    } catch (cause) {
      throw sbError('COMPRESSION_ERROR', 'record failed to decompress', { cause })
    }
    // A user's Compressor may not honour maxBytes: the cap holds regardless.
    if (frames.length > max)
      throw sbError('COMPRESSION_ERROR', `record decompressed to ${frames.length} bytes, over ${max}`)
    return readFrames(frames)
  }
}

/**
 * records-deflate: RecordOpener.open with compression negotiated (deflate): compressed records
 * (flags 0x01, raw deflate) must inflate within one record's worth of frames, whatever the
 * stream claims, and the frames must re-encode to what zlib inflates; plain records still work.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { builtinCompressors } from '../../../src/record/compression.ts'
import { RecordOpener } from '../../../src/record/opener.ts'
import { identityCipher } from '../../../src/wire/cipher.ts'
import { MAX_RECORD_PLAINTEXT } from '../../../src/wire/constants.ts'
import type { FuzzTarget } from '../harness/target.ts'
import { checkFrames, concat, goldenFrames, transcriptRecordBodies } from './common.ts'
import { target as frames } from './frames.ts'

const deflate = builtinCompressors.get('deflate')!

/** A compressed record body: flags 0x01, then raw deflate of the frames. */
export function compressedRecord(frameBytes: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(1), deflateRawSync(frameBytes, { level: 1 }))
}

export const target: FuzzTarget = {
  name: 'records-deflate',
  about:
    'RecordOpener.open(body) with the deflate compressor; bombs capped, frames re-encode to the inflated bytes',
  maxLength: 8192,
  seeds: () => [
    ...goldenFrames().map(compressedRecord),
    compressedRecord(concat(...goldenFrames())),
    ...transcriptRecordBodies(),
    // A bomb: a record that inflates past MAX_RECORD_PLAINTEXT.
    compressedRecord(new Uint8Array(MAX_RECORD_PLAINTEXT + 100)),
    compressedRecord(new Uint8Array(MAX_RECORD_PLAINTEXT - 1)),
  ],
  dictionary: [
    Uint8Array.of(0x01, 0x00, 0x00, 0xff, 0xff), // final stored block, length 0
    Uint8Array.of(0x00, 0x00, 0x00, 0xff, 0xff), // sync flush
    Uint8Array.of(0x03, 0x00), // empty final fixed block
    Uint8Array.of(0x01, 0xff, 0xff, 0x00, 0x00), // stored block of 65535
    Uint8Array.of(0xed, 0xc1, 0x01, 0x0d, 0x00, 0x00), // dynamic block header bits
    Uint8Array.of(1),
  ],
  generate: (rng) => compressedRecord(frames.generate!(rng)),
  run(input) {
    const opened = new RecordOpener({ cipher: identityCipher, compressor: deflate }).open(input)
    if ((input[0]! & 1) === 0) {
      checkFrames(input.subarray(1), opened)
      return true
    }
    const inflated = inflateRawSync(input.subarray(1), { maxOutputLength: MAX_RECORD_PLAINTEXT - 1 })
    checkFrames(new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength), opened)
    return true
  },
}

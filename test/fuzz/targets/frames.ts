/**
 * frames: readFrames over a record plaintext (the frames after the record flags byte). Accepted
 * inputs must decode to well-typed frames that re-encode (encodeFrame) to the same bytes.
 * Seeds: the golden vectors, the transcript's records and fast-check's valid frames.
 */
import fc from 'fast-check'
import { readFrames } from '../../../src/wire/frame-decode.ts'
import { encodeFrame } from '../../../src/wire/frame-encode.ts'
import { arbitraryFrame } from '../../unit/wire/helpers.ts'
import type { FuzzTarget } from '../harness/target.ts'
import { checkFrames, concat, goldenFrames, transcriptRecordBodies } from './common.ts'

let encoded: Uint8Array[] | undefined

/** Valid frames from the property tests' arbitrary, encoded once per worker. */
function validFrames(): Uint8Array[] {
  if (encoded === undefined) {
    encoded = []
    for (const frame of fc.sample(arbitraryFrame, { numRuns: 400, seed: 1 })) {
      try {
        encoded.push(encodeFrame(frame))
      } catch {
        // An arbitrary the encoder no longer takes (the frame codec is changing): skip it.
      }
    }
    encoded.push(...goldenFrames())
  }
  return encoded
}

export const target: FuzzTarget = {
  name: 'frames',
  about: 'readFrames(plaintext); decoded frames must be well-typed and re-encode to the same bytes',
  maxLength: 4096,
  seeds: () => [
    ...goldenFrames(),
    ...transcriptRecordBodies().map((b) => b.subarray(1)),
    ...validFrames().slice(0, 64),
  ],
  dictionary: [...Array.from({ length: 16 }, (_, i) => Uint8Array.of(i)), ...goldenFrames()],
  generate(rng) {
    const frames = validFrames()
    const n = 1 + rng.below(4)
    return concat(...Array.from({ length: n }, () => rng.pick(frames)))
  },
  run(input) {
    checkFrames(input, readFrames(input))
    return true
  },
}

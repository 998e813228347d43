/**
 * records-plain: RecordOpener.open with the identity cipher and no compression (a plain-text
 * session): the flags byte, then frames. Accepted records must re-encode to the same bytes.
 */
import { RecordOpener } from '../../../src/record/opener.ts'
import { identityCipher } from '../../../src/wire/cipher.ts'
import type { FuzzTarget } from '../harness/target.ts'
import { checkFrames, concat, goldenFrames, transcriptRecordBodies } from './common.ts'
import { target as frames } from './frames.ts'

export const target: FuzzTarget = {
  name: 'records-plain',
  about: 'RecordOpener.open(body), identity cipher, no compressor; frames must re-encode to the body',
  maxLength: 4096,
  seeds: () => [
    ...transcriptRecordBodies(),
    ...goldenFrames().map((f) => concat(Uint8Array.of(0), f)),
    Uint8Array.of(1, 3, 0),
    Uint8Array.of(0),
  ],
  dictionary: [Uint8Array.of(0), Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(0x80), ...goldenFrames()],
  generate: (rng) => concat(Uint8Array.of(0), frames.generate!(rng)),
  run(input) {
    const opened = new RecordOpener({ cipher: identityCipher }).open(input)
    checkFrames(input.subarray(1), opened)
    return true
  },
}

import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { SwitchboardError } from '../../../src/errors.ts'
import type { Frame } from '../../../src/wire/frame.ts'
import { readFrames } from '../../../src/wire/frame-decode.ts'
import { encodeFrame } from '../../../src/wire/frame-encode.ts'
import { UnitReader } from '../../../src/wire/unit-reader.ts'
import { arbitraryFrame, concat, record } from './helpers.ts'

/** Splits `bytes` at the given cut points (any numbers; taken modulo the length, sorted). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let prev = 0
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(prev, p))
    prev = p
  }
  return chunks
}

/** Feeds chunks to a UnitReader, decoding every record that completes; returns all frames. */
function decodeStream(chunks: Uint8Array[]): Frame[] {
  const reader = new UnitReader()
  const frames: Frame[] = []
  for (const chunk of chunks) {
    reader.push(chunk)
    for (;;) {
      const body = reader.takeUnit(2, 0xffff, 'FRAME_TOO_LARGE')
      if (body === undefined) break
      assert.equal(body[0], 0)
      frames.push(...readFrames(body, 1))
    }
  }
  assert.equal(reader.buffered, 0)
  return frames
}

function onlySwitchboardErrors(fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof SwitchboardError, `threw a non-SwitchboardError: ${String(err)}`)
    assert.ok(err.code === 'FRAME_MALFORMED' || err.code === 'FRAME_TOO_LARGE', `unexpected code ${err.code}`)
  }
}

test('property: frames -> records -> any split of the stream -> UnitReader + readFrames gives equal frames', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(arbitraryFrame, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      (records, cuts) => {
        const stream = concat(...records.map((frames) => record(concat(...frames.map(encodeFrame)))))
        assert.deepEqual(decodeStream(split(stream, cuts)), records.flat())
      },
    ),
    { numRuns: 500 },
  )
})

test('property: every cut of an encoded frame is FRAME_MALFORMED', () => {
  fc.assert(
    fc.property(arbitraryFrame, fc.nat(), (frame, n) => {
      const bytes = encodeFrame(frame)
      const cut = 1 + (n % (bytes.length - 1))
      try {
        readFrames(bytes.subarray(0, cut))
        assert.fail(`cut at ${cut} of ${bytes.length} decoded`)
      } catch (err) {
        assert.ok(err instanceof SwitchboardError && err.code === 'FRAME_MALFORMED', String(err))
      }
    }),
    { numRuns: 1000 },
  )
})

test('property: garbage bytes never throw anything but a SwitchboardError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      onlySwitchboardErrors(() => readFrames(bytes))
    }),
    { numRuns: 3000 },
  )
})

test('property: valid frames with corrupted bytes never throw anything but a SwitchboardError', () => {
  fc.assert(
    fc.property(
      fc.array(arbitraryFrame, { minLength: 1, maxLength: 4 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      (frames, edits) => {
        const bytes = concat(...frames.map(encodeFrame))
        for (const [at, value] of edits) bytes[at % bytes.length] = value
        onlySwitchboardErrors(() => readFrames(bytes))
      },
    ),
    { numRuns: 3000 },
  )
})

test('property: a garbage byte stream through UnitReader never throws anything but a SwitchboardError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
      const reader = new UnitReader()
      try {
        for (const chunk of split(bytes, cuts)) {
          reader.push(chunk)
          for (;;) {
            const body = reader.takeUnit(2, 0xffff, 'FRAME_TOO_LARGE')
            if (body === undefined) break
            readFrames(body, 1)
          }
        }
      } catch (err) {
        assert.ok(err instanceof SwitchboardError, `threw a non-SwitchboardError: ${String(err)}`)
      }
    }),
    { numRuns: 2000 },
  )
})

/**
 * unit-reader: the UnitReader (the stream decoder in front of every other one) reading a
 * session's units the way the session does: the 6-byte preamble, the hello (u32 length, 0 =
 * refusal), up to three handshake units (u16, 0 = refusal), then records (u16). The input's
 * first byte sets how many handshake units there are and how many cut points follow; the stream
 * is pushed in those pieces, draining after each push.
 *
 * The oracle is a reference parse of the whole stream at once: the reader must hand out the same
 * units, the same refusals and the same error codes, never a unit early or late, and `buffered`
 * must always equal the bytes pushed and not yet taken.
 */
import { defaultHandshakeLimits } from '../../../src/session/handshake-limits.ts'
import {
  HANDSHAKE_UNIT_HEADER_BYTES,
  HELLO_HEADER_BYTES,
  MAX_HANDSHAKE_UNIT_BYTES,
} from '../../../src/wire/handshake-unit.ts'
import { UnitReader } from '../../../src/wire/unit-reader.ts'
import { attempt, check, fail } from '../harness/oracle.ts'
import type { Rng } from '../harness/rng.ts'
import type { FuzzTarget } from '../harness/target.ts'
import { bytesEqual, concat, hex, transcriptUnits, u16Unit } from './common.ts'

type Step = 'preamble' | 'hello' | 'handshake' | 'record'

type Expected =
  | { kind: 'unit'; bytes: Uint8Array; end: number }
  | { kind: 'refusal'; code: number; end: number }
  | { kind: 'error'; code: string }
  | { kind: 'more' }

const HEADER: Record<Exclude<Step, 'preamble'>, 2 | 4> = {
  hello: HELLO_HEADER_BYTES as 4,
  handshake: HANDSHAKE_UNIT_HEADER_BYTES as 2,
  record: 2,
}
const LIMIT = {
  hello: defaultHandshakeLimits.maxHelloBytes,
  handshake: MAX_HANDSHAKE_UNIT_BYTES,
  record: 0xffff,
}
const CODE = { hello: 'HELLO_TOO_LARGE', handshake: 'FRAME_TOO_LARGE', record: 'FRAME_TOO_LARGE' } as const

/** What one step reads at `pos` of the whole stream (the reference, written from the spec). */
function expected(step: Step, s: Uint8Array, pos: number): Expected {
  const left = s.length - pos
  if (step === 'preamble')
    return left >= 6 ? { kind: 'unit', bytes: s.subarray(pos, pos + 6), end: pos + 6 } : { kind: 'more' }
  const h = HEADER[step]
  if (left < h) return { kind: 'more' }
  let length = 0
  for (let i = 0; i < h; i++) length = length * 256 + s[pos + i]!
  if (length === 0 && step !== 'record') {
    if (left < h + 2) return { kind: 'more' }
    return { kind: 'refusal', code: (s[pos + h]! << 8) | s[pos + h + 1]!, end: pos + h + 2 }
  }
  if (length > LIMIT[step]) return { kind: 'error', code: CODE[step] }
  if (length === 0) return { kind: 'error', code: 'FRAME_MALFORMED' }
  if (left < h + length) return { kind: 'more' }
  return { kind: 'unit', bytes: s.subarray(pos + h, pos + h + length), end: pos + h + length }
}

function take(reader: UnitReader, step: Step): Uint8Array | { refusal: number } | undefined {
  switch (step) {
    case 'preamble':
      return reader.take(6)
    case 'record':
      return reader.takeUnit(2, LIMIT.record, CODE.record)
    default:
      return reader.takeUnitOrRefusal(HEADER[step], LIMIT[step], CODE[step])
  }
}

export const target: FuzzTarget = {
  name: 'unit-reader',
  about: 'UnitReader take/takeUnit/takeUnitOrRefusal over a split session stream, against a reference parse',
  maxLength: 8192,
  seeds: () => {
    const units = transcriptUnits()
    const dialer = concat(...units.slice(0, 3).map((u) => u.bytes))
    return [
      concat(Uint8Array.of(0x13, 5, 40, 90), dialer),
      concat(
        Uint8Array.of(0x0a, 1, 7),
        dialer.subarray(0, 16),
        u16Unit(new Uint8Array(48)),
        u16Unit(new Uint8Array(3)),
      ),
      concat(Uint8Array.of(0x08), dialer.subarray(0, 6), Uint8Array.of(0, 0, 0, 0, 0, 45)),
    ]
  },
  dictionary: [
    Uint8Array.of(0, 0, 0, 0),
    Uint8Array.of(0, 0),
    Uint8Array.of(0, 1, 0, 0),
    Uint8Array.of(0x10, 0x01),
    Uint8Array.of(0x53, 0x57, 0x42, 0x44, 1, 0),
  ],
  generate(rng: Rng) {
    const parts: Uint8Array[] = [Uint8Array.of(rng.below(256))]
    const cuts = parts[0]![0]! & 7
    for (let i = 0; i < cuts; i++) parts.push(Uint8Array.of(rng.below(256)))
    parts.push(Uint8Array.of(0x53, 0x57, 0x42, 0x44, 1, 0))
    const hello = rng.bytes(rng.below(64))
    parts.push(Uint8Array.of(0, 0, 0, hello.length), hello)
    for (let i = rng.below(4); i > 0; i--) parts.push(u16Unit(rng.bytes(rng.below(100))))
    return concat(...parts)
  },
  run(input) {
    if (input.length === 0) return false
    const handshakeUnits = (input[0]! >> 3) & 3
    const cutCount = input[0]! & 7
    const cuts = [...input.subarray(1, 1 + cutCount)]
    const stream = input.subarray(1 + cutCount)
    // Cut points spread over the stream (a cut byte is a fraction of its length); duplicates make empty chunks.
    const points = cuts.map((c) => Math.floor((c / 256) * (stream.length + 1))).sort((a, b) => a - b)
    const steps: Step[] = ['preamble', 'hello', ...Array<Step>(handshakeUnits).fill('handshake')]

    const reader = new UnitReader()
    const units: { bytes: Uint8Array; copy: Uint8Array; at: number }[] = []
    let pushed = 0
    let taken = 0
    let stepIndex = 0
    let stopped = false
    const stepAt = (i: number): Step => steps[i] ?? 'record'

    const drain = (): void => {
      while (!stopped) {
        const step = stepAt(stepIndex)
        const want = expected(step, stream.subarray(0, pushed), taken)
        const r = attempt(() => take(reader, step))
        if (!r.ok) {
          check(
            want.kind === 'error' && want.code === r.error.code,
            'unit-reader-mismatch',
            () => `${step} at ${taken}: threw ${r.error.code}, reference says ${describe(want)}`,
          )
          stopped = true
          return
        }
        const got = r.value
        if (got === undefined) {
          check(
            want.kind === 'more',
            'unit-reader-mismatch',
            () => `${step} at ${taken}: undefined, reference says ${describe(want)}`,
          )
          return
        }
        if (got instanceof Uint8Array) {
          if (want.kind !== 'unit' || !bytesEqual(got, want.bytes)) {
            fail(
              'unit-reader-mismatch',
              `${step} at ${taken}: unit ${hex(got, 32)}, reference says ${describe(want)}`,
            )
          }
          units.push({ bytes: got, copy: new Uint8Array(got), at: taken })
          taken = want.end
        } else {
          check(
            want.kind === 'refusal' && want.code === got.refusal,
            'unit-reader-mismatch',
            () => `${step} at ${taken}: refusal ${got.refusal}, reference says ${describe(want)}`,
          )
          taken = (want as { end: number }).end
          stopped = true
        }
        check(
          reader.buffered === pushed - taken,
          'unit-reader-buffered',
          () => `buffered ${reader.buffered}, expected ${pushed - taken}`,
        )
        stepIndex++
      }
    }

    let prev = 0
    for (const p of [...points, stream.length]) {
      // Each chunk its own buffer, as socket reads are.
      reader.push(new Uint8Array(stream.subarray(prev, p)))
      pushed = p
      prev = p
      check(
        reader.buffered === pushed - taken,
        'unit-reader-buffered',
        () => `buffered ${reader.buffered} after a push, expected ${pushed - taken}`,
      )
      drain()
      if (stopped) break
    }
    // A unit handed out earlier must not change when later bytes arrive.
    for (const u of units) {
      check(
        bytesEqual(u.bytes, u.copy),
        'unit-reader-unit-changed',
        () => `unit at ${u.at} changed after later pushes`,
      )
    }
    return true
  },
}

function describe(e: Expected): string {
  switch (e.kind) {
    case 'unit':
      return `unit ${hex(e.bytes, 32)}`
    case 'refusal':
      return `refusal ${e.code}`
    case 'error':
      return `error ${e.code}`
    case 'more':
      return 'need more bytes'
  }
}

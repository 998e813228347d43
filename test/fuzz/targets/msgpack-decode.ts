/**
 * msgpack-decode: the msgpack codec's decode (rpc/codec.ts) on arbitrary bytes: garbage must be
 * CODEC_ERROR (msgpackr's own errors, even engine ones, are wrapped by design: lenientCauses),
 * whatever it accepts must hold only the types §21 lists (no value of an extension other than
 * the timestamp), and must encode again and decode to the same value (up to §21's stated
 * losses: -0, invalid Dates). After every rejection a canary must still decode correctly (the
 * decoder keeps module-level state that a failure must not leave behind).
 */
import { msgpackCodec } from '../../../src/rpc/codec.ts'
import { attemptCodes, fail } from '../harness/oracle.ts'
import type { FuzzTarget } from '../harness/target.ts'
import { hex, mustNotThrow } from './common.ts'
import { randomValue } from './msgpack-roundtrip.ts'
import { difference, expected, foreignType, REFUSED } from './msgpack-values.ts'

const CANARY_VALUE = { a: [1, -2, 'x', 2 ** 40, null], b: new Uint8Array([1, 2, 3]), c: 1.5 }
const CANARY = msgpackCodec.encode(CANARY_VALUE)
const CANARY_EXPECTED = expected(CANARY_VALUE)

const h = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))

export const target: FuzzTarget = {
  name: 'msgpack-decode',
  about: 'msgpackCodec.decode(bytes); accepted values re-encode to equal values; state survives rejections',
  maxLength: 4096,
  lenientCauses: true,
  seeds: () => [
    CANARY,
    msgpackCodec.encode([new Date(1), new Date(2 ** 40), -(2 ** 40), 2n ** 63n, 'héllo', { __x: true }]),
    h('c1'),
    h('92c101'),
    h('d6ff00000001'),
    h('d7ff0000000100000002'),
    h('c70cff000000010000000000000002'),
    h('81a95f5f70726f746f5f5f81a16101'),
    h('cfffffffffffffffff'),
    h('d38000000000000000'),
    h('ca3fc00000'),
  ],
  dictionary: [
    ...Array.from({ length: 0x20 }, (_, i) => Uint8Array.of(0xc0 + i)),
    h('ffffffff'),
    h('0000'),
    h('d4ff00'),
    h('a95f5f70726f746f5f5f'),
  ],
  generate(rng) {
    for (;;) {
      try {
        return msgpackCodec.encode(randomValue(rng))
      } catch {
        // A value the codec refuses (a symbol, a BigInt past 64 bits): draw another.
      }
    }
  },
  run(input) {
    const r = attemptCodes(() => msgpackCodec.decode(input), ['CODEC_ERROR'], true)
    if (!r.ok) {
      const canary = mustNotThrow('msgpack-canary-throws', () => msgpackCodec.decode(CANARY))
      const d = difference(CANARY_EXPECTED, canary)
      if (d !== undefined) fail('msgpack-state-corrupted', `after rejecting ${hex(input, 64)}: ${d}`)
      return false
    }
    const foreign = foreignType(r.value)
    if (foreign !== undefined) fail(`msgpack-decoded-foreign-type (${foreign})`, hex(input, 64))
    const want = expected(r.value)
    if (want === REFUSED) fail('msgpack-decoded-unencodable', hex(input, 64))
    const bytes = mustNotThrow('msgpack-reencode-throws', () => msgpackCodec.encode(r.value))
    const again = mustNotThrow('msgpack-redecode-throws', () => msgpackCodec.decode(bytes))
    const d = difference(want, again)
    if (d !== undefined) fail('msgpack-reencode-mismatch', `${hex(input, 64)}: ${d}`)
    return true
  },
}

/**
 * hello: decodePreamble and decodeHello (the first two units of every connection), then
 * negotiate() against our own hellos, as a listener and as a dialer. A decoded hello must
 * re-encode (encodeHello) to bytes that decode to an equal hello; a preamble must re-encode to
 * its 6 bytes; negotiation must agree on names both hellos list.
 */
import { negotiate } from '../../../src/handshake/negotiate.ts'
import { HelloKey, LINK_ID_BYTES, SettingKey } from '../../../src/wire/constants.ts'
import {
  decodeHello,
  decodePreamble,
  encodeHello,
  encodePreamble,
  type Hello,
} from '../../../src/wire/hello.ts'
import { attemptCodes, check, fail } from '../harness/oracle.ts'
import type { Rng } from '../harness/rng.ts'
import type { FuzzTarget } from '../harness/target.ts'
import { bytesEqual, hex, isDeepStrictEqual, mustNotThrow, transcriptHelloBodies, utf8 } from './common.ts'

const NAMES = [
  'msgpack',
  'json',
  'none',
  'deflate',
  'gzip',
  'brotli',
  'noise-nnpsk0',
  'noise-xx',
  'noise-xxpsk3',
  'noise-ik',
]

function ourHello(role: Hello['role']): Hello {
  return {
    versions: [1],
    role,
    linkId: new Uint8Array(LINK_ID_BYTES).fill(role === 'dialer' ? 1 : 2),
    codecs: ['msgpack', 'json'],
    compression: ['deflate'],
    security: ['none', 'noise-xx'],
    limits: new Map([[SettingKey.CHANNEL_WINDOW, 262144]]),
    protocols: [],
  }
}
const DIALER = ourHello('dialer')
const LISTENER = ourHello('listener')

function names(rng: Rng): string[] {
  return Array.from({ length: rng.below(4) }, () =>
    rng.chance(0.8) ? rng.pick(NAMES) : `x${rng.below(1000)}é`,
  )
}

function randomHello(rng: Rng): Hello {
  const limits = new Map<number, number>()
  for (let i = rng.below(5); i > 0; i--)
    limits.set(rng.below(10), rng.chance(0.8) ? rng.below(1 << 20) : rng.u32() * 2048)
  return {
    versions: Array.from({ length: 1 + rng.below(3) }, () => rng.below(4)),
    role: rng.chance(0.5) ? 'dialer' : 'listener',
    linkId: rng.bytes(LINK_ID_BYTES),
    codecs: names(rng),
    compression: names(rng),
    security: names(rng),
    limits,
    protocols: Array.from({ length: rng.below(3) }, () => ({
      name: `p${rng.below(100)}`,
      version: rng.below(5),
      methods: names(rng),
      events: names(rng),
    })),
  }
}

function checkHello(h: Hello): void {
  const strings = (list: readonly string[]) => Array.isArray(list) && list.every((s) => typeof s === 'string')
  check(h.role === 'dialer' || h.role === 'listener', 'hello-malformed', () => `role ${String(h.role)}`)
  check(
    h.versions.length > 0 && h.versions.every((v) => Number.isInteger(v) && v >= 0 && v <= 255),
    'hello-malformed',
    () => `versions ${h.versions}`,
  )
  check(
    h.linkId instanceof Uint8Array && h.linkId.length === LINK_ID_BYTES,
    'hello-malformed',
    () => 'link id',
  )
  check(
    strings(h.codecs) && strings(h.compression) && strings(h.security),
    'hello-malformed',
    () => 'string lists',
  )
  for (const [k, v] of h.limits) {
    check(
      Number.isSafeInteger(k) && k >= 0 && Number.isSafeInteger(v) && v >= 0,
      'hello-malformed',
      () => `limit ${k}=${v}`,
    )
  }
  for (const p of h.protocols) {
    check(
      typeof p.name === 'string' &&
        Number.isSafeInteger(p.version) &&
        strings(p.methods) &&
        strings(p.events),
      'hello-malformed',
      () => 'protocol',
    )
  }
}

function checkNegotiation(local: Hello, remote: Hello): void {
  const r = attemptCodes(
    () => negotiate(local, remote),
    ['PROTOCOL_ERROR', 'VERSION_MISMATCH', 'NEGOTIATION_FAILED'],
  )
  if (!r.ok) return
  const a = r.value
  check(
    local.versions.includes(a.version) && remote.versions.includes(a.version),
    'negotiate-bad-agreement',
    () => `version ${a.version}`,
  )
  check(
    local.codecs.includes(a.codec) && remote.codecs.includes(a.codec),
    'negotiate-bad-agreement',
    () => `codec ${a.codec}`,
  )
  check(
    local.security.includes(a.security) && remote.security.includes(a.security),
    'negotiate-bad-agreement',
    () => `security ${a.security}`,
  )
  check(
    a.compression === 'none' ||
      (local.compression.includes(a.compression) && remote.compression.includes(a.compression)),
    'negotiate-bad-agreement',
    () => `compression ${a.compression}`,
  )
}

export const target: FuzzTarget = {
  name: 'hello',
  about: 'decodePreamble(first 6 bytes), decodeHello(body), negotiate(); hellos re-encode to equal hellos',
  maxLength: 4096,
  seeds: () => [
    ...transcriptHelloBodies(),
    encodeHello(DIALER),
    encodeHello(LISTENER),
    Uint8Array.of(0x53, 0x57, 0x42, 0x44, 0x01, 0x00),
  ],
  dictionary: [
    ...Object.values(HelloKey).map((k) => Uint8Array.of(k)),
    ...NAMES.map((n) => utf8.encode(n)),
    Uint8Array.of(0x53, 0x57, 0x42, 0x44),
    Uint8Array.of(0x10),
  ],
  generate: (rng) => encodeHello(randomHello(rng)),
  run(input) {
    const head = input.subarray(0, 6)
    const pre = attemptCodes(() => decodePreamble(head), ['BAD_PREAMBLE'])
    if (pre.ok) {
      check(bytesEqual(encodePreamble(pre.value), head), 'preamble-roundtrip-mismatch', () => hex(head))
    }
    const r = attemptCodes(() => decodeHello(input), ['FRAME_MALFORMED', 'FRAME_TOO_LARGE'])
    if (!r.ok) return false
    const hello = r.value
    checkHello(hello)
    const bytes = mustNotThrow('hello-reencode-throws', () => encodeHello(hello))
    const again = mustNotThrow('hello-redecode-throws', () => decodeHello(bytes))
    if (!isDeepStrictEqual(again, hello)) fail('hello-roundtrip-mismatch', `${hex(input)} -> ${hex(bytes)}`)
    checkNegotiation(hello.role === 'dialer' ? LISTENER : DIALER, hello)
    checkNegotiation(hello.role === 'dialer' ? DIALER : LISTENER, hello)
    return true
  },
}

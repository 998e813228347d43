/**
 * address: parseAddress on arbitrary strings: UTF-8 of the input, or (first byte 0xfe) its
 * UTF-16 code units, lone surrogates included; long strings past MAX_ADDRESS_LENGTH. Failures
 * must be ADDRESS_INVALID or SCHEME_UNSUPPORTED; a parsed address must be well-formed and
 * survive formatAddress → parseAddress unchanged (the module's documented round trip).
 */
import { posix } from 'node:path'
import {
  formatAddress,
  isValidName,
  type ParsedAddress,
  parseAddress,
} from '../../../src/transport/address.ts'
import { attempt, attemptCodes, check, fail } from '../harness/oracle.ts'
import type { Rng } from '../harness/rng.ts'
import type { FuzzTarget } from '../harness/target.ts'
import { isDeepStrictEqual, utf8 } from './common.ts'

const CODES = ['ADDRESS_INVALID', 'SCHEME_UNSUPPORTED']
const utf8Lenient = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true })

/** The input as a string: UTF-8 (invalid bytes become U+FFFD), or UTF-16 code units after 0xfe. */
export function inputString(input: Uint8Array): string {
  if (input[0] !== 0xfe) return utf8Lenient.decode(input)
  let s = ''
  for (let i = 1; i + 1 < input.length; i += 2) s += String.fromCharCode(input[i]! | (input[i + 1]! << 8))
  return s
}

const SCHEMES = [
  '',
  'unix:',
  'unix://',
  'pipe:',
  'sb:',
  'tcp://',
  'tcp4://',
  'tcp6://',
  'tls://',
  'udp://',
  'TCP://',
  'Unix:',
  'x+y.z:',
  'http://',
]
const HOSTS = [
  'localhost',
  '127.0.0.1',
  '0.0.0.0',
  '[::1]',
  '[::]',
  '[fe80::1%eth0]',
  '[::ffff:1.2.3.4]',
  'a.b.c',
  'a-.b',
  'xn--bcher-kva.example',
  '1.2.3',
  '999.1.1.1',
  'é.com',
  'a'.repeat(63),
  `${'a'.repeat(63)}.`.repeat(4),
  '',
  '[',
  '[::1',
  ':::',
]
const PORTS = [':0', ':1', ':80', ':65535', ':65536', ':99999', ':', ':-1', ':08', ':1e3', '', ':٣']
const NAMES = [
  'my-app',
  'a',
  '.',
  '..',
  '...',
  'a.b_c-d',
  'x'.repeat(255),
  'x'.repeat(256),
  'é',
  'a b',
  'a/b',
  '',
]
const PATHS = [
  '/tmp/s.sock',
  '/',
  '/.',
  '/a/..',
  '/a/../..',
  '//x',
  '///x',
  '/a/',
  '/a//b',
  '/a/./b',
  '/..',
  '/a\u0000b',
  '/é/ü',
  'rel/path',
  './x',
]

function randomAddress(rng: Rng): string {
  const scheme = rng.pick(SCHEMES)
  let rest: string
  if (scheme.endsWith('//') && !scheme.startsWith('unix')) rest = rng.pick(HOSTS) + rng.pick(PORTS)
  else if (scheme.startsWith('unix')) rest = rng.chance(0.5) ? rng.pick(PATHS) : rng.pick(NAMES)
  else rest = rng.pick(NAMES)
  if (rng.chance(0.05)) rest = rest.repeat(rng.int(2, 600))
  return scheme + rest
}

function checkParsed(a: ParsedAddress, text: string): void {
  const where = () => `${JSON.stringify(text.slice(0, 100))} -> ${JSON.stringify(a)}`
  switch (a.kind) {
    case 'local':
    case 'pipe':
    case 'peer':
      check(isValidName(a.name), 'address-bad-name', where)
      return
    case 'unix':
      check(
        a.path.startsWith('/') && !a.path.includes('\u0000') && posix.normalize(a.path) === a.path,
        'address-bad-path',
        where,
      )
      return
    case 'tcp':
    case 'tls':
      check(typeof a.host === 'string' && a.host.length > 0, 'address-bad-host', where)
      check(Number.isInteger(a.port) && a.port >= 0 && a.port <= 65535, 'address-bad-port', where)
      if (a.kind === 'tcp')
        check(a.family === 0 || a.family === 4 || a.family === 6, 'address-bad-family', where)
      return
    default:
      fail('address-bad-kind', where())
  }
}

export const target: FuzzTarget = {
  name: 'address',
  about:
    'parseAddress(string) incl. unicode, lone surrogates and long strings; parsed addresses well-formed and formatAddress round-trips',
  maxLength: 10_000,
  seeds: () =>
    [
      'my-app',
      'unix:my-app',
      'unix:/tmp/x.sock',
      'unix:///tmp/x.sock',
      'pipe:p',
      'sb:peer',
      'tcp://localhost:4100',
      'tcp4://127.0.0.1:1',
      'tcp6://[::1]:2',
      'tls://db1.example:443',
      'udp://x:1',
      'host:80',
    ].map((s) => utf8.encode(s)),
  dictionary: [
    ...SCHEMES,
    ...HOSTS.slice(0, 10),
    ...PORTS,
    '/',
    '..',
    '%',
    '@',
    '?',
    '#',
    ' ',
    '\t',
    '\u2028',
    '\ufeff',
    '\ud83d\ude00',
  ].map((s) => utf8.encode(s)),
  generate: (rng) => utf8.encode(randomAddress(rng)),
  run(input) {
    const text = inputString(input)
    const r = attemptCodes(() => parseAddress(text), CODES)
    if (!r.ok) return false
    checkParsed(r.value, text)
    const formatted = formatAddress(r.value)
    const again = attempt(() => parseAddress(formatted))
    if (!again.ok) {
      // The id names the reason, so one known bug does not hide another.
      const why = again.error.message.split('is invalid: ')[1] ?? again.error.code
      fail(
        `address-format-unparsable (${why})`,
        `${JSON.stringify(text.slice(0, 100))} parses, but its formatAddress ${JSON.stringify(formatted.slice(0, 100))} does not: ${again.error.message}`,
      )
    }
    if (!isDeepStrictEqual(again.value, r.value)) {
      fail(
        'address-format-roundtrip',
        `${JSON.stringify(text.slice(0, 100))} -> ${JSON.stringify(formatted.slice(0, 100))} -> ${JSON.stringify(again.value)}`,
      )
    }
    return true
  },
}

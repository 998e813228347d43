/**
 * The establishment without I/O (src/session/establishment.ts): two ends exchange their bytes one
 * at a time through UnitReaders, with no socket and no clock, in each security mode; both finish
 * with the same transcript and handshake hash, and their record ciphers talk to each other. A
 * refusal in the hello slot, a wrong secret and a bad preamble fail with their codes.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { isSwitchboardError, wireCodeOf } from '../../../src/errors.ts'
import { defaultMuxLimits, limitsToSettings } from '../../../src/mux/limits.ts'
import { Establishment } from '../../../src/session/establishment.ts'
import { nodeCryptoProvider } from '../../../src/session/node-crypto.ts'
import { resolveSecurity, type SecurityOptions } from '../../../src/session/security-options.ts'
import { PROTOCOL_MAJOR } from '../../../src/wire/constants.ts'
import { encodeHelloRefusal } from '../../../src/wire/handshake-unit.ts'
import { encodePreamble } from '../../../src/wire/hello.ts'
import { UnitReader } from '../../../src/wire/unit-reader.ts'

function side(role: 'dialer' | 'listener', options: SecurityOptions): Establishment {
  const security = resolveSecurity(options)
  return new Establishment({
    role,
    hello: {
      versions: [PROTOCOL_MAJOR],
      role,
      linkId: new Uint8Array(16).fill(role === 'dialer' ? 1 : 2),
      codecs: ['msgpack'],
      compression: [],
      security: security.offer[role],
      limits: limitsToSettings(defaultMuxLimits),
      protocols: [],
    },
    maxHelloBytes: 64 * 1024,
    secure: security.config,
  })
}

/** Runs both ends, delivering every byte one at a time in turn, until both are done (or one throws). */
function run(a: Establishment, b: Establishment): void {
  const toB: number[] = []
  const toA: number[] = []
  const ra = new UnitReader()
  const rb = new UnitReader()
  for (const chunk of a.start()) toB.push(...chunk)
  for (const chunk of b.start()) toA.push(...chunk)
  for (let steps = 0; a.state !== 'done' || b.state !== 'done'; steps++) {
    assert.ok(steps < 100_000, 'both ends finish')
    if (toA.length > 0) {
      ra.push(Uint8Array.of(toA.shift()!))
      for (const chunk of a.receive(ra)) toB.push(...chunk)
    }
    if (toB.length > 0) {
      rb.push(Uint8Array.of(toB.shift()!))
      for (const chunk of b.receive(rb)) toA.push(...chunk)
    }
    if (toA.length === 0 && toB.length === 0 && (a.state !== 'done' || b.state !== 'done')) {
      assert.fail(`stalled in ${a.state} / ${b.state}`)
    }
  }
}

const secret = randomBytes(32)
const dialerKeys = nodeCryptoProvider.generateKeyPair()
const listenerKeys = nodeCryptoProvider.generateKeyPair()

const modes: [string, SecurityOptions, SecurityOptions, string][] = [
  ['plain', {}, {}, 'none'],
  ['shared secret', { secret }, { secret }, 'noise-nnpsk0'],
  [
    'key pairs',
    { keys: dialerKeys, allow: [listenerKeys.publicKey] },
    { keys: listenerKeys, allow: [dialerKeys.publicKey] },
    'noise-xx',
  ],
]

for (const [name, dialer, listener, mode] of modes) {
  test(`${name}: byte by byte, both ends agree (${mode}) and their ciphers interoperate`, () => {
    const a = side('dialer', dialer)
    const b = side('listener', listener)
    run(a, b)
    assert.equal(a.result.agreement.security, mode)
    assert.deepEqual(a.result.transcript, b.result.transcript)
    assert.deepEqual(a.result.handshakeHash, b.result.handshakeHash)
    if (mode === 'noise-xx') {
      assert.ok(Buffer.from(a.result.remotePublicKey!).equals(listenerKeys.publicKey), 'the listener key')
    }
    const record = Uint8Array.from(randomBytes(100))
    assert.ok(Buffer.from(b.result.receive.open(a.result.send.seal(record))).equals(record), 'a → b')
    assert.ok(Buffer.from(a.result.receive.open(b.result.send.seal(record))).equals(record), 'b → a')
  })
}

test('a wrong secret: AUTH_FAILED, thrown by the end that checks', () => {
  const a = side('dialer', { secret })
  const b = side('listener', { secret: randomBytes(32) })
  assert.throws(
    () => run(a, b),
    (e: unknown) => isSwitchboardError(e, 'AUTH_FAILED'),
  )
})

test('a refusal in the hello slot fails with its code and marks the peer as the refuser', () => {
  const a = side('dialer', {})
  const reader = new UnitReader()
  reader.push(encodePreamble({ major: PROTOCOL_MAJOR, minor: 0 }))
  reader.push(encodeHelloRefusal(wireCodeOf('HANDSHAKE_BUSY')))
  assert.throws(
    () => a.receive(reader),
    (e: unknown) => isSwitchboardError(e, 'HANDSHAKE_BUSY'),
  )
  assert.equal(a.refusedByPeer, true)
})

test('a preamble of another protocol is refused before any hello is read', () => {
  const a = side('dialer', {})
  const reader = new UnitReader()
  reader.push(Uint8Array.from([0x47, 0x45, 0x54, 0x20, 0x2f, 0x20])) // "GET / "
  assert.throws(
    () => a.receive(reader),
    (e: unknown) => isSwitchboardError(e),
  )
  assert.equal(a.state, 'preamble')
})

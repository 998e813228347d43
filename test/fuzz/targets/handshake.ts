/**
 * handshake: security-handshake messages fed to a Noise state, cut from the input by the
 * session's own UnitReader (u16 length units, 0 = refusal, at most MAX_HANDSHAKE_UNIT_BYTES).
 * The input's first byte picks one of 20 scenarios: a security mode (noise-nnpsk0, noise-xx,
 * noise-xxpsk3, noise-ik, noise-nk) × initiator or responder × one of
 *
 *   SecureHandshake  the production wrapper with fresh ephemerals, allow() accepting only the
 *                    expected peer key: every failure must be a coded handshake error, a
 *                    message after the end must be refused, a finished handshake must hold
 *                    the allowed key;
 *   HandshakeState   the Noise interpreter with fixed ephemeral keys, so the seeds are the peer's
 *                    genuine messages and mutations reach every message of the pattern.
 */
import { createHash } from 'node:crypto'
import type { CryptoProvider, KeyPair } from '../../../src/handshake/crypto.ts'
import { HandshakeState, type HandshakeStatus } from '../../../src/handshake/noise/handshake-state.ts'
import { SecureHandshake } from '../../../src/handshake/secure-handshake.ts'
import { SECURITY_MODES, type SecurityModeName } from '../../../src/handshake/security-modes.ts'
import { nodeCryptoProvider } from '../../../src/session/node-crypto.ts'
import { MAX_HANDSHAKE_UNIT_BYTES } from '../../../src/wire/handshake-unit.ts'
import { UnitReader } from '../../../src/wire/unit-reader.ts'
import { attempt, attemptCodes, check } from '../harness/oracle.ts'
import type { FuzzTarget } from '../harness/target.ts'
import { bytesEqual, concat, fromHex, u16Unit, utf8 } from './common.ts'

/**
 * node:crypto, with publicKeyFromPrivate remembered for the few fixed private keys (deriving
 * the fixed ephemeral's public key on every input cost a third of the time). DH, AEAD and
 * hashing are the real thing.
 */
const publicKeys = new Map<string, Uint8Array>()
const crypto: CryptoProvider = {
  ...nodeCryptoProvider,
  publicKeyFromPrivate(privateKey) {
    const key = Buffer.from(privateKey).toString('hex')
    let pub = publicKeys.get(key)
    if (pub === undefined) {
      pub = nodeCryptoProvider.publicKeyFromPrivate(privateKey)
      if (publicKeys.size < 16) publicKeys.set(key, pub)
    }
    return new Uint8Array(pub)
  },
}

const MODES: readonly SecurityModeName[] = [
  'noise-nnpsk0',
  'noise-xx',
  'noise-xxpsk3',
  'noise-ik',
  'noise-nk',
]
const SCENARIOS = MODES.length * 4
const HANDSHAKE_CODES = ['HANDSHAKE_FAILED', 'AUTH_FAILED', 'PEER_NOT_ALLOWED', 'PROTOCOL_ERROR']
const UNIT_CODES = ['FRAME_TOO_LARGE', 'FRAME_MALFORMED']

function secret(label: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`switchboard fuzz ${label}`).digest())
}
function keyPair(label: string): KeyPair {
  const privateKey = secret(label)
  return { privateKey, publicKey: crypto.publicKeyFromPrivate(privateKey) }
}

const PSK = secret('psk')
const PROLOGUE = utf8.encode('switchboard fuzz prologue')
const STATIC = { initiator: keyPair('initiator static'), responder: keyPair('responder static') }
const EPHEMERAL = { initiator: secret('initiator ephemeral'), responder: secret('responder ephemeral') }

interface Scenario {
  mode: SecurityModeName
  initiator: boolean
  production: boolean
}

/**
 * Bytes 0–15 keep the first four modes' layout (the regression corpus was saved with it):
 * bit 0 initiator, bits 1–2 the mode, below 8 the production wrapper. 16–19 are NK, 16–17 in the
 * production wrapper.
 */
function scenario(byte: number): Scenario {
  const s = byte % SCENARIOS
  if (s >= 16) return { mode: 'noise-nk', initiator: (s & 1) === 1, production: s < 18 }
  return { mode: MODES[(s & 7) >> 1]!, initiator: (s & 1) === 1, production: s < 8 }
}

/** Whether this side holds a static key pair: both sides in key modes, the listener in NK. */
function hasStatic(mode: SecurityModeName, initiator: boolean): boolean {
  const m = SECURITY_MODES[mode]
  return m.keys || (m.anonymousDialer && !initiator)
}

/** The fixed-ephemeral HandshakeState of one side. */
function noiseState(mode: SecurityModeName, initiator: boolean): HandshakeState {
  const m = SECURITY_MODES[mode]
  return new HandshakeState(crypto, {
    pattern: m.pattern,
    initiator,
    prologue: PROLOGUE,
    ephemeralPrivateKey: initiator ? EPHEMERAL.initiator : EPHEMERAL.responder,
    ...(hasStatic(mode, initiator) ? { staticKeyPair: initiator ? STATIC.initiator : STATIC.responder } : {}),
    ...(m.knownListenerKey && initiator ? { remoteStaticKey: STATIC.responder.publicKey } : {}),
    ...(m.psk ? { psks: [PSK] } : {}),
  })
}

/** The messages the peer of (mode, role) sends in a genuine fixed-ephemeral handshake. */
function genuinePeerMessages(mode: SecurityModeName, initiator: boolean): Uint8Array[] {
  const me = noiseState(mode, initiator)
  const peer = noiseState(mode, !initiator)
  const out: Uint8Array[] = []
  while (me.status !== 'done') {
    if (me.status === 'write') peer.readMessage(me.writeMessage())
    else {
      const m = peer.writeMessage()
      out.push(m)
      me.readMessage(m)
    }
  }
  return out
}

/** Low-order X25519 points and friends (RFC 7748 §6.1, and the non-canonical encodings). */
const LOW_ORDER_POINTS = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'cdeb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880',
  '4c9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7',
  'd9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  'daffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  'dbffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
].map(fromHex)

function checkOutgoing(messages: unknown): void {
  check(Array.isArray(messages), 'handshake-bad-output', () => 'receive() did not return an array')
  for (const m of messages as unknown[]) {
    check(
      m instanceof Uint8Array && m.length > 0 && m.length <= MAX_HANDSHAKE_UNIT_BYTES,
      'handshake-bad-output',
      () => `message of ${String((m as Uint8Array)?.length)} bytes`,
    )
  }
}

function runProduction(sc: Scenario, next: () => Uint8Array | undefined): void {
  const m = SECURITY_MODES[sc.mode]
  const expectedPeer = sc.initiator ? STATIC.responder.publicKey : STATIC.initiator.publicKey
  const hs = new SecureHandshake(crypto, sc.mode, sc.initiator, PROLOGUE, {
    psk: m.psk ? PSK : undefined,
    staticKeyPair: hasStatic(sc.mode, sc.initiator)
      ? sc.initiator
        ? STATIC.initiator
        : STATIC.responder
      : undefined,
    allow: (key) => bytesEqual(key, expectedPeer),
    listenerKey: m.knownListenerKey && sc.initiator ? STATIC.responder.publicKey : undefined,
  })
  checkOutgoing(hs.start())
  for (let message = next(); message !== undefined; message = next()) {
    const wasDone = hs.done
    const r = attemptCodes(() => hs.receive(message), HANDSHAKE_CODES)
    if (wasDone) {
      check(
        !r.ok && r.error.code === 'PROTOCOL_ERROR',
        'handshake-message-after-done',
        () => 'a message after the end was taken',
      )
      return
    }
    if (!r.ok) {
      // Failed for good: the next message must be refused too.
      const again = attempt(() => hs.receive(message))
      check(
        !again.ok && again.error.code === 'PROTOCOL_ERROR',
        'handshake-alive-after-failure',
        () => 'a failed handshake took another message',
      )
      return
    }
    checkOutgoing(r.value)
  }
  if (hs.done) {
    const result = hs.result
    check(result.handshakeHash.length === 32, 'handshake-bad-result', () => 'hash length')
    if (m.keys) {
      const key = result.remoteStaticKey
      check(
        key !== undefined && bytesEqual(key, expectedPeer),
        'handshake-wrong-peer-key',
        () => 'finished with a key allow() refused',
      )
    }
  }
}

/** The state's status, read fresh (TypeScript keeps the narrowing from before a call that moves it). */
function statusOf(hs: HandshakeState): HandshakeStatus {
  return hs.status
}

function runNoise(sc: Scenario, next: () => Uint8Array | undefined): void {
  const hs = noiseState(sc.mode, sc.initiator)
  while (hs.status === 'write' || hs.status === 'read') {
    if (hs.status === 'write') {
      const out = hs.writeMessage()
      check(
        out instanceof Uint8Array && out.length <= MAX_HANDSHAKE_UNIT_BYTES,
        'handshake-bad-output',
        () => 'writeMessage',
      )
      continue
    }
    const message = next()
    if (message === undefined) return
    const r = attemptCodes(() => hs.readMessage(message), ['HANDSHAKE_FAILED'])
    if (!r.ok) {
      check(statusOf(hs) === 'failed', 'handshake-alive-after-failure', () => `status ${hs.status}`)
      const again = attempt(() => hs.readMessage(message))
      check(
        !again.ok && again.error.code === 'INVALID_ARGUMENT',
        'handshake-alive-after-failure',
        () => 'read after failure',
      )
      return
    }
    check(r.value instanceof Uint8Array, 'handshake-bad-output', () => 'readMessage payload')
  }
  // Out of the loop without a failure: the handshake must have finished.
  check(statusOf(hs) === 'done', 'handshake-bad-status', () => hs.status)
  const result = hs.result
  check(result.handshakeHash.length === 32, 'handshake-bad-result', () => 'hash length')
  // A peer static key only where the pattern has one: key modes, and NK's pinned listener key.
  if (!SECURITY_MODES[sc.mode].keys) {
    const pinned = SECURITY_MODES[sc.mode].knownListenerKey && sc.initiator
    check(
      pinned
        ? result.remoteStaticKey !== undefined &&
            bytesEqual(result.remoteStaticKey, STATIC.responder.publicKey)
        : result.remoteStaticKey === undefined,
      'handshake-bad-result',
      () => (pinned ? 'not the pinned listener key' : 'a static key in a keyless mode'),
    )
  }
}

function seeds(): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let s = 0; s < SCENARIOS; s++) {
    const sc = scenario(s)
    const genuine = genuinePeerMessages(sc.mode, sc.initiator)
    if (!sc.production) out.push(concat(Uint8Array.of(s), ...genuine.map(u16Unit)))
    else if (!sc.initiator) {
      // The initiator's first message does not depend on our (fresh) ephemeral: it is genuine.
      out.push(concat(Uint8Array.of(s), u16Unit(genuine[0]!), u16Unit(new Uint8Array(64).fill(7))))
    } else out.push(concat(Uint8Array.of(s), ...genuine.map(u16Unit)))
  }
  return out
}

export const target: FuzzTarget = {
  name: 'handshake',
  about:
    'SecureHandshake.receive and HandshakeState.readMessage (5 modes × 2 roles) fed UnitReader-cut messages',
  maxLength: 2048,
  seeds,
  dictionary: [
    ...LOW_ORDER_POINTS,
    Uint8Array.of(0x00, 0x20),
    Uint8Array.of(0x00, 0x30),
    Uint8Array.of(0x00, 0x40),
    Uint8Array.of(0x00, 0x60),
    Uint8Array.of(0x10, 0x01),
    Uint8Array.of(0x00, 0x00, 0x00, 0x2c),
  ],
  run(input) {
    if (input.length === 0) return false
    const sc = scenario(input[0]!)
    const reader = new UnitReader()
    reader.push(input.subarray(1))
    const next = (): Uint8Array | undefined => {
      const r = attemptCodes(
        () => reader.takeUnitOrRefusal(2, MAX_HANDSHAKE_UNIT_BYTES, 'FRAME_TOO_LARGE'),
        UNIT_CODES,
      )
      return r.ok && r.value instanceof Uint8Array ? r.value : undefined
    }
    if (sc.production) runProduction(sc, next)
    else runNoise(sc, next)
    return true
  },
}

/**
 * Hostile input never crashes a handshake: low-order keys, flipped bits, truncation, oversize
 * messages, wrong secrets and random garbage all end in a coded SwitchboardError, and the
 * handshake is `failed` afterwards. Transport decrypt failures are INTEGRITY.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { isSwitchboardError } from '../../../src/errors.ts'
import {
  type HandshakeOptions,
  HandshakeState,
  MAX_HANDSHAKE_MESSAGE_BYTES,
} from '../../../src/handshake/noise/handshake-state.ts'
import { nodeCryptoProvider as crypto } from '../../../src/session/node-crypto.ts'
import { assertCode, fromHex } from './helpers.ts'

/** Public keys of small order (and non-canonical encodings of them): X25519 yields all zeros. */
const LOW_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
]

const EMPTY = new Uint8Array(0)
const initiatorStatic = crypto.generateKeyPair()
const responderStatic = crypto.generateKeyPair()

function xxPair(extra: Partial<HandshakeOptions> = {}): [HandshakeState, HandshakeState] {
  return [
    new HandshakeState(crypto, { pattern: 'XX', initiator: true, staticKeyPair: initiatorStatic, ...extra }),
    new HandshakeState(crypto, { pattern: 'XX', initiator: false, staticKeyPair: responderStatic, ...extra }),
  ]
}

function flip(message: Uint8Array, byte: number, bit: number): Uint8Array {
  const out = new Uint8Array(message)
  out[byte]! ^= 1 << bit
  return out
}

test('DH with a low-order public key is HANDSHAKE_FAILED, never a crash', () => {
  const { privateKey } = crypto.generateKeyPair()
  for (const hex of LOW_ORDER) assertCode(() => crypto.dh(privateKey, fromHex(hex)), 'HANDSHAKE_FAILED')
  assertCode(() => crypto.dh(privateKey, new Uint8Array(31)), 'HANDSHAKE_FAILED')
  assertCode(() => crypto.dh(new Uint8Array(33), crypto.generateKeyPair().publicKey), 'HANDSHAKE_FAILED')
})

test('a low-order ephemeral or pinned static key fails the handshake with a code', () => {
  for (const hex of LOW_ORDER) {
    // Responder sends a low-order e: the initiator's `ee` fails while reading message 2.
    const [init, resp] = xxPair()
    resp.readMessage(init.writeMessage())
    const msg2 = resp.writeMessage()
    msg2.set(fromHex(hex), 0)
    assertCode(() => init.readMessage(msg2), 'HANDSHAKE_FAILED')
    assert.equal(init.status, 'failed')
    // Initiator sends a low-order e: the responder's `ee` fails while writing message 2.
    const [, resp2] = xxPair()
    resp2.readMessage(fromHex(hex))
    assertCode(() => resp2.writeMessage(), 'HANDSHAKE_FAILED')
    // A pinned low-order responder key (IK): the initiator's `es` fails at once.
    const ik = new HandshakeState(crypto, {
      pattern: 'IK',
      initiator: true,
      staticKeyPair: initiatorStatic,
      remoteStaticKey: fromHex(hex),
    })
    assertCode(() => ik.writeMessage(), 'HANDSHAKE_FAILED')
  }
})

test('every flipped bit in an XX handshake is caught with a code', () => {
  const [init0, resp0] = xxPair()
  const msg1 = init0.writeMessage(fromHex('aa'))
  for (let byte = 0; byte < msg1.length; byte++) {
    // Message 1 has no key yet: the damage shows when the initiator reads message 2.
    const [init, resp] = xxPair()
    init.writeMessage(fromHex('aa'))
    resp.readMessage(flip(msg1, byte, byte % 8))
    assertCode(() => init.readMessage(resp.writeMessage()), 'HANDSHAKE_FAILED')
  }
  resp0.readMessage(msg1)
  const msg2 = resp0.writeMessage(fromHex('bb'))
  for (let byte = 0; byte < msg2.length; byte++) {
    for (const bit of [0, 7]) {
      const [init, resp] = xxPair({ ephemeralPrivateKey: fromHex('11'.repeat(32)) })
      resp.readMessage(init.writeMessage(fromHex('aa')))
      const good = resp.writeMessage(fromHex('bb'))
      const err = assertCode(() => init.readMessage(flip(good, byte, bit)), 'HANDSHAKE_FAILED')
      assert.ok(
        isSwitchboardError(err.cause, 'INTEGRITY') || isSwitchboardError(err.cause, 'HANDSHAKE_FAILED'),
      )
      assert.equal(init.status, 'failed')
      assertCode(() => init.readMessage(good), 'INVALID_ARGUMENT')
    }
  }
  const [init, resp] = xxPair()
  resp.readMessage(init.writeMessage())
  init.readMessage(resp.writeMessage())
  const msg3 = init.writeMessage(fromHex('cc'))
  for (let byte = 0; byte < msg3.length; byte++) {
    const [i2, r2] = xxPair({ ephemeralPrivateKey: fromHex('22'.repeat(32)) })
    r2.readMessage(i2.writeMessage())
    i2.readMessage(r2.writeMessage())
    const good = i2.writeMessage(fromHex('cc'))
    assertCode(() => r2.readMessage(flip(good, byte, 3)), 'HANDSHAKE_FAILED')
  }
})

test('a short message is HANDSHAKE_FAILED at every truncation', () => {
  const [init0, resp0] = xxPair()
  resp0.readMessage(init0.writeMessage())
  const msg2 = resp0.writeMessage(fromHex('0102'))
  for (let len = 0; len < msg2.length; len++) {
    const [init] = xxPair()
    init.writeMessage()
    assertCode(() => init.readMessage(msg2.subarray(0, len)), 'HANDSHAKE_FAILED')
  }
  const [, resp] = xxPair()
  assertCode(() => resp.readMessage(new Uint8Array(31)), 'HANDSHAKE_FAILED')
})

test(`messages over ${MAX_HANDSHAKE_MESSAGE_BYTES} bytes are refused both ways`, () => {
  const max = MAX_HANDSHAKE_MESSAGE_BYTES
  const [init, resp] = xxPair()
  assertCode(() => init.writeMessage(new Uint8Array(max - 32 + 1)), 'INVALID_ARGUMENT')
  assert.equal(init.status, 'write', 'refusing to write leaves the state usable')
  const exact = init.writeMessage(new Uint8Array(max - 32))
  assert.equal(exact.length, max)
  assert.equal(resp.readMessage(exact).length, max - 32)
  const [, resp2] = xxPair()
  assertCode(() => resp2.readMessage(new Uint8Array(max + 1)), 'HANDSHAKE_FAILED')
  assert.equal(resp2.status, 'failed')
})

test('a wrong psk or prologue is HANDSHAKE_FAILED (cause INTEGRITY)', () => {
  const psk = crypto.randomBytes(32)
  const init = new HandshakeState(crypto, { pattern: 'NNpsk0', initiator: true, psks: [psk] })
  const resp = new HandshakeState(crypto, {
    pattern: 'NNpsk0',
    initiator: false,
    psks: [crypto.randomBytes(32)],
  })
  const err = assertCode(() => resp.readMessage(init.writeMessage()), 'HANDSHAKE_FAILED')
  assert.ok(isSwitchboardError(err.cause, 'INTEGRITY'))
  const [i2] = xxPair({ prologue: fromHex('01') })
  const r2 = new HandshakeState(crypto, {
    pattern: 'XX',
    initiator: false,
    staticKeyPair: responderStatic,
    prologue: fromHex('02'),
  })
  r2.readMessage(i2.writeMessage())
  assertCode(() => i2.readMessage(r2.writeMessage()), 'HANDSHAKE_FAILED')
})

test('random bytes as message 2 always end in a SwitchboardError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: MAX_HANDSHAKE_MESSAGE_BYTES + 64 }), (garbage) => {
      const [init] = xxPair()
      init.writeMessage()
      assertCode(() => init.readMessage(garbage), 'HANDSHAKE_FAILED')
    }),
    { numRuns: 200 },
  )
})

test('transport decrypt failures are INTEGRITY and do not advance the nonce', () => {
  const [init, resp] = xxPair()
  resp.readMessage(init.writeMessage())
  init.readMessage(resp.writeMessage())
  resp.readMessage(init.writeMessage())
  const send = init.result.send
  const receive = resp.result.receive
  const first = send.encryptWithAd(EMPTY, fromHex('68656c6c6f'))
  const second = send.encryptWithAd(EMPTY, fromHex('776f726c64'))
  assertCode(() => receive.decryptWithAd(EMPTY, flip(first, 0, 0)), 'INTEGRITY')
  assertCode(() => receive.decryptWithAd(EMPTY, second), 'INTEGRITY') // reordered
  assertCode(() => receive.decryptWithAd(EMPTY, first.subarray(0, 15)), 'INTEGRITY') // shorter than a tag
  assert.equal(receive.nonce, 0n)
  assert.deepEqual([...receive.decryptWithAd(EMPTY, first)], [...fromHex('68656c6c6f')])
  assertCode(() => receive.decryptWithAd(EMPTY, first), 'INTEGRITY') // replayed
  assert.deepEqual([...receive.open(second)], [...fromHex('776f726c64')])
})

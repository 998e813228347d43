/**
 * CipherState (nonce limit, Rekey), the pattern table, HandshakeState options and full
 * handshakes with fresh keys for every pattern switchboard uses, plus the rekey schedule.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CipherState, MAX_NONCE } from '../../../src/handshake/noise/cipher-state.ts'
import { type HandshakeOptions, HandshakeState } from '../../../src/handshake/noise/handshake-state.ts'
import { resolvePattern } from '../../../src/handshake/noise/patterns.ts'
import { REKEY_AFTER_BYTES, REKEY_AFTER_RECORDS } from '../../../src/handshake/rekey.ts'
import { nodeCryptoProvider as crypto } from '../../../src/session/node-crypto.ts'
import { defaultSessionOptions } from '../../../src/session/options.ts'
import { assertCode, fromHex, toHex } from './helpers.ts'

const EMPTY = new Uint8Array(0)

test('CipherState without a key passes bytes through', () => {
  const cs = new CipherState(crypto)
  const bytes = fromHex('0102')
  assert.equal(cs.hasKey(), false)
  assert.equal(cs.encryptWithAd(EMPTY, bytes), bytes)
  assert.equal(cs.decryptWithAd(EMPTY, bytes), bytes)
  assert.equal(cs.overhead, 0)
})

test('CipherState refuses to reach the reserved nonce 2^64-1', () => {
  const key = crypto.randomBytes(32)
  const a = new CipherState(crypto, key)
  const b = new CipherState(crypto, key)
  a.setNonce(MAX_NONCE - 1n)
  b.setNonce(MAX_NONCE - 1n)
  const last = a.encryptWithAd(EMPTY, fromHex('ff'))
  assert.equal(toHex(b.decryptWithAd(EMPTY, last)), 'ff')
  assertCode(() => a.encryptWithAd(EMPTY, fromHex('ff')), 'PROTOCOL_ERROR')
  assertCode(() => b.decryptWithAd(EMPTY, last), 'PROTOCOL_ERROR')
  assertCode(() => a.setNonce(MAX_NONCE + 1n), 'INVALID_ARGUMENT')
})

test('Rekey sets k = ENCRYPT(k, 2^64-1, empty, zeros)[0..32] and keeps n', () => {
  const key = crypto.randomBytes(32)
  const a = new CipherState(crypto, key)
  const b = new CipherState(crypto, key)
  b.decryptWithAd(EMPTY, a.encryptWithAd(EMPTY, fromHex('01')))
  a.rekey()
  b.rekey()
  assert.equal(a.nonce, 1n)
  const expected = new CipherState(
    crypto,
    crypto.encrypt(key, MAX_NONCE, EMPTY, new Uint8Array(32)).subarray(0, 32),
  )
  expected.setNonce(1n)
  const ct = a.encryptWithAd(EMPTY, fromHex('02'))
  assert.equal(toHex(ct), toHex(expected.encryptWithAd(EMPTY, fromHex('02'))))
  assert.equal(toHex(b.decryptWithAd(EMPTY, ct)), '02')
  assertCode(() => new CipherState(crypto).rekey(), 'INVALID_ARGUMENT')
})

test('rekey limits: 2^20 records or 1 GiB (DESIGN.md §5), the defaults a session starts from', () => {
  assert.equal(REKEY_AFTER_RECORDS, 1_048_576)
  assert.equal(REKEY_AFTER_BYTES, 1_073_741_824)
  assert.equal(defaultSessionOptions.rekeyAfterRecords, REKEY_AFTER_RECORDS)
  assert.equal(defaultSessionOptions.rekeyAfterBytes, REKEY_AFTER_BYTES)
})

test('patterns: psk modifiers and bad names', () => {
  assert.deepEqual(resolvePattern('XXpsk3').messages, [['e'], ['e', 'ee', 's', 'es'], ['s', 'se', 'psk']])
  assert.deepEqual(resolvePattern('NNpsk0+psk2').messages, [
    ['psk', 'e'],
    ['e', 'ee', 'psk'],
  ])
  assert.deepEqual(resolvePattern('IK').responderPreMessage, ['s'])
  assert.equal(resolvePattern('NN').hasPsk, false)
  for (const bad of ['', 'QQ', 'XXpsk4', 'XXpsk', 'NNpsk0+psk0', 'XXfallback', 'toString', '__proto__']) {
    assertCode(() => resolvePattern(bad), 'INVALID_ARGUMENT')
  }
})

test('HandshakeState validates its options', () => {
  const s = crypto.generateKeyPair()
  const bad: HandshakeOptions[] = [
    { pattern: 'XX', initiator: true },
    { pattern: 'IK', initiator: true, staticKeyPair: s },
    { pattern: 'NK', initiator: false },
    { pattern: 'XX', initiator: true, staticKeyPair: s, remoteStaticKey: s.publicKey },
    { pattern: 'NNpsk0', initiator: true },
    { pattern: 'NNpsk0', initiator: true, psks: [new Uint8Array(16)] },
    { pattern: 'NN', initiator: true, remoteEphemeralKey: new Uint8Array(3) },
    { pattern: 'NN', initiator: true, maxMessageBytes: 0 },
  ]
  for (const options of bad) assertCode(() => new HandshakeState(crypto, options), 'INVALID_ARGUMENT')
  const hs = new HandshakeState(crypto, { pattern: 'NN', initiator: false })
  assertCode(() => hs.writeMessage(), 'INVALID_ARGUMENT')
  assertCode(() => hs.result, 'INVALID_ARGUMENT')
})

test('every pattern switchboard uses completes with fresh keys', () => {
  const is = crypto.generateKeyPair()
  const rs = crypto.generateKeyPair()
  const psk = crypto.randomBytes(32)
  const cases: [string, Partial<HandshakeOptions>, Partial<HandshakeOptions>][] = [
    ['NN', {}, {}],
    ['NNpsk0', { psks: [psk] }, { psks: [psk] }],
    ['XX', { staticKeyPair: is }, { staticKeyPair: rs }],
    ['XXpsk3', { staticKeyPair: is, psks: [psk] }, { staticKeyPair: rs, psks: [psk] }],
    ['IK', { staticKeyPair: is, remoteStaticKey: rs.publicKey }, { staticKeyPair: rs }],
    ['NK', { remoteStaticKey: rs.publicKey }, { staticKeyPair: rs }],
  ]
  for (const [pattern, initOptions, respOptions] of cases) {
    const prologue = fromHex('cafe')
    const init = new HandshakeState(crypto, { pattern, initiator: true, prologue, ...initOptions })
    const resp = new HandshakeState(crypto, { pattern, initiator: false, prologue, ...respOptions })
    let [writer, reader] = [init, resp]
    let turn = 0
    while (writer.status === 'write') {
      const payload = fromHex(`0${turn}`)
      assert.equal(toHex(reader.readMessage(writer.writeMessage(payload))), toHex(payload))
      ;[writer, reader] = [reader, writer]
      turn++
    }
    assert.equal(init.status, 'done', pattern)
    assert.equal(resp.status, 'done', pattern)
    assert.equal(toHex(init.result.handshakeHash), toHex(resp.result.handshakeHash))
    if ('staticKeyPair' in respOptions) assert.equal(toHex(init.remoteStaticKey!), toHex(rs.publicKey))
    if ('staticKeyPair' in initOptions) assert.equal(toHex(resp.remoteStaticKey!), toHex(is.publicKey))
    const ab = init.result.send.seal(fromHex('a1'))
    assert.equal(toHex(resp.result.receive.open(ab)), 'a1')
    const ba = resp.result.send.seal(fromHex('b2'))
    assert.equal(toHex(init.result.receive.open(ba)), 'b2')
    assert.equal(init.result.send.overhead, 16)
  }
})

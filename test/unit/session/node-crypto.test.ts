/**
 * The node:crypto provider beyond the RFC vectors: key generation does not deadlock (Node 20.20
 * hangs when generated KeyObjects are exported as JWK thousands of times), keys agree, and bad
 * lengths are coded errors.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { nodeCryptoProvider as crypto } from '../../../src/session/node-crypto.ts'
import { assertCode, toHex } from '../handshake/helpers.ts'

test('5,000 generateKeyPair calls finish, each key 32 bytes and distinct', () => {
  const seen = new Set<string>()
  for (let i = 0; i < 5000; i++) {
    const { publicKey, privateKey } = crypto.generateKeyPair()
    assert.equal(publicKey.length, 32)
    assert.equal(privateKey.length, 32)
    seen.add(toHex(publicKey))
  }
  assert.equal(seen.size, 5000)
})

test('generated keys agree and derive their public halves', () => {
  const a = crypto.generateKeyPair()
  const b = crypto.generateKeyPair()
  assert.equal(toHex(crypto.publicKeyFromPrivate(a.privateKey)), toHex(a.publicKey))
  assert.equal(toHex(crypto.dh(a.privateKey, b.publicKey)), toHex(crypto.dh(b.privateKey, a.publicKey)))
})

test('bad lengths and nonces are coded errors', () => {
  const key = crypto.randomBytes(32)
  assert.equal(crypto.randomBytes(7).length, 7)
  assertCode(() => crypto.publicKeyFromPrivate(new Uint8Array(5)), 'HANDSHAKE_FAILED')
  assertCode(
    () => crypto.encrypt(new Uint8Array(16), 0, new Uint8Array(0), new Uint8Array(1)),
    'INVALID_ARGUMENT',
  )
  assertCode(() => crypto.encrypt(key, -1, new Uint8Array(0), new Uint8Array(1)), 'INVALID_ARGUMENT')
  assertCode(() => crypto.encrypt(key, 2n ** 64n, new Uint8Array(0), new Uint8Array(1)), 'INVALID_ARGUMENT')
  assertCode(() => crypto.decrypt(key, 0, new Uint8Array(0), new Uint8Array(3)), 'INTEGRITY')
})

test('number and bigint nonces encode the same', () => {
  const key = crypto.randomBytes(32)
  const pt = new Uint8Array([1, 2, 3])
  const n = 2 ** 40 + 5
  assert.equal(toHex(crypto.encrypt(key, n, pt, pt)), toHex(crypto.encrypt(key, BigInt(n), pt, pt)))
})

/**
 * Known-answer tests of the node:crypto provider, typed in from the RFCs: X25519 (RFC 7748
 * §5.2, §6.1), ChaCha20-Poly1305 (RFC 8439 §2.8.2 and Appendix A.5), HKDF-SHA256 (RFC 5869
 * test case 1, through the Noise HKDF code in handshake/crypto.ts), SHA-256 (FIPS 180-2 "abc").
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hkdf, noiseHkdf } from '../../../src/handshake/crypto.ts'
import { aeadOpen, aeadSeal, nodeCryptoProvider as crypto } from '../../../src/session/node-crypto.ts'
import { assertCode, fromHex, toHex } from './helpers.ts'

test('RFC 7748 §5.2: X25519 test vectors', () => {
  const cases = [
    [
      'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
      'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
      'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
    ],
    [
      '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
      'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
      '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
    ],
  ] as const
  for (const [scalar, u, out] of cases) assert.equal(toHex(crypto.dh(fromHex(scalar), fromHex(u))), out)
})

test('RFC 7748 §5.2: X25519 iterated 1 and 1,000 times', () => {
  let k = fromHex(`09${'00'.repeat(31)}`)
  let u = k
  for (let i = 1; i <= 1000; i++) {
    const r = crypto.dh(k, u)
    u = k
    k = r
    if (i === 1) assert.equal(toHex(k), '422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079')
  }
  assert.equal(toHex(k), '684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51')
})

test('RFC 7748 §6.1: Alice and Bob', () => {
  const alicePriv = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')
  const bobPriv = fromHex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb')
  const alicePub = crypto.publicKeyFromPrivate(alicePriv)
  const bobPub = crypto.publicKeyFromPrivate(bobPriv)
  assert.equal(toHex(alicePub), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a')
  assert.equal(toHex(bobPub), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f')
  const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'
  assert.equal(toHex(crypto.dh(alicePriv, bobPub)), shared)
  assert.equal(toHex(crypto.dh(bobPriv, alicePub)), shared)
})

test('RFC 8439 §2.8.2: ChaCha20-Poly1305 AEAD', () => {
  const plaintext = new TextEncoder().encode(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  )
  const ad = fromHex('50515253c0c1c2c3c4c5c6c7')
  const key = fromHex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f')
  const nonce = fromHex('070000004041424344454647')
  const sealed = aeadSeal(key, nonce, ad, plaintext)
  const ciphertext =
    'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b' +
    '1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc' +
    '3ff4def08e4b7a9de576d26586cec64b6116'
  assert.equal(toHex(sealed), `${ciphertext}1ae10b594f09e26a7e902ecbd0600691`)
  assert.deepEqual(aeadOpen(key, nonce, ad, sealed), Buffer.from(plaintext))
})

test('RFC 8439 Appendix A.5: decryption through the Noise nonce format', () => {
  // The nonce 00000000 0102030405060708 is the Noise nonce for counter 0x0807060504030201.
  const key = fromHex('1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0')
  const ad = fromHex('f33388860000000000004e91')
  const ciphertext = fromHex(
    '64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea09ee94e382d26b0' +
      'bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855' +
      '9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4b9166c767b804d46a59b5216cde7a4e9' +
      '9040c5a40433225ee282a1b0a06c523eaf4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a' +
      '0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a1049e617d91d361094fa68f0ff77987130' +
      '305beaba2eda04df997b714d6c6f2c29a6ad5cb4022b02709b' +
      'eead9d67890cbb22392336fea1851f38',
  )
  const plaintext = new TextDecoder().decode(crypto.decrypt(key, 0x0807060504030201n, ad, ciphertext))
  assert.equal(
    plaintext,
    'Internet-Drafts are draft documents valid for a maximum of six months and may be updated, ' +
      'replaced, or obsoleted by other documents at any time. It is inappropriate to use ' +
      'Internet-Drafts as reference material or to cite them other than as /\u201cwork in progress./\u201d',
  )
  assertCode(() => crypto.decrypt(key, 0x0807060504030200n, ad, ciphertext), 'INTEGRITY')
})

test('RFC 5869 test case 1: HKDF-SHA256', () => {
  const ikm = fromHex('0b'.repeat(22))
  const salt = fromHex('000102030405060708090a0b0c')
  const info = fromHex('f0f1f2f3f4f5f6f7f8f9')
  assert.equal(
    toHex(crypto.hmac(salt, ikm)),
    '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5',
  )
  assert.equal(
    toHex(hkdf(crypto, salt, ikm, info, 42)),
    '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  )
})

test('Noise HKDF is RFC 5869 with the chaining key as salt and empty info', () => {
  const ck = crypto.hash(fromHex('01'))
  const ikm = fromHex('0b'.repeat(22))
  const [a, b, c] = noiseHkdf(crypto, ck, ikm, 3)
  assert.equal(toHex(a) + toHex(b) + toHex(c), toHex(hkdf(crypto, ck, ikm, new Uint8Array(0), 96)))
})

test('SHA-256 of "abc" (FIPS 180-2)', () => {
  const digest = crypto.hash(new TextEncoder().encode('ab'), new TextEncoder().encode('c'))
  assert.equal(toHex(digest), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
})

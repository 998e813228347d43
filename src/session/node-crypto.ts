/**
 * The default `CryptoProvider` (handshake/crypto.ts) on `node:crypto`: X25519, ChaCha20-Poly1305,
 * SHA-256 and HMAC-SHA256. Stateless: no key, key object or scratch buffer outlives a call.
 *
 * Raw 32-byte X25519 keys enter OpenSSL as JWK, which on Node 20 is about ten times faster than
 * the PKCS8/SPKI DER route (OpenSSL's decoder framework); DER stays as the fallback. Keys are
 * generated with JWK *encodings* requested from `generateKeyPairSync` itself: calling
 * `.export({ format: 'jwk' })` on generated KeyObjects deadlocks after some thousands of calls on
 * Node 20.20, so this file never does that.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
} from 'node:crypto'
import { sbError } from '../errors.ts'
import { type CryptoProvider, DHLEN, KEYLEN, type KeyPair, TAGLEN } from '../handshake/crypto.ts'

/** DER prefix of an X25519 SubjectPublicKeyInfo; the raw key follows. */
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')
/** DER prefix of an X25519 PKCS#8 PrivateKeyInfo; the raw key follows. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')
/** Bytes of a ChaCha20-Poly1305 nonce. */
const NONCE_BYTES = 12
const MAX_U64 = 0xffff_ffff_ffff_ffffn

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function checkKeyLength(key: Uint8Array, what: string): void {
  if (key.length !== DHLEN) {
    throw sbError('HANDSHAKE_FAILED', `${what} must be ${DHLEN} bytes, got ${key.length}`)
  }
}

function privateKeyObject(raw: Uint8Array): KeyObject {
  const d = asBuffer(raw).toString('base64url')
  try {
    // Node reads only `d` for a private OKP JWK; `x` must merely be a string.
    return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: '' }, format: 'jwk' })
  } catch {
    return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' })
  }
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  const x = asBuffer(raw).toString('base64url')
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' })
  } catch {
    return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
  }
}

/** The 12-byte Noise nonce: 4 zero bytes, then the counter as a 64-bit little-endian integer. */
function noiseNonce(nonce: number | bigint): Buffer {
  const out = Buffer.alloc(NONCE_BYTES)
  if (typeof nonce === 'bigint') {
    if (nonce < 0n || nonce > MAX_U64) throw sbError('INVALID_ARGUMENT', `bad nonce ${nonce}`)
    out.writeBigUInt64LE(nonce, 4)
  } else {
    if (!Number.isSafeInteger(nonce) || nonce < 0) throw sbError('INVALID_ARGUMENT', `bad nonce ${nonce}`)
    out.writeUInt32LE(nonce % 0x1_0000_0000, 4)
    out.writeUInt32LE(Math.floor(nonce / 0x1_0000_0000), 8)
  }
  return out
}

function checkAeadKey(key: Uint8Array): void {
  if (key.length !== KEYLEN) throw sbError('INVALID_ARGUMENT', `cipher key must be ${KEYLEN} bytes`)
}

/** ChaCha20-Poly1305 seal with a raw 12-byte nonce (RFC 8439 §2.8): ciphertext || tag. */
export function aeadSeal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Buffer {
  checkAeadKey(key)
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAGLEN })
  cipher.setAAD(ad, { plaintextLength: plaintext.length })
  const body = cipher.update(plaintext)
  cipher.final()
  return Buffer.concat([body, cipher.getAuthTag()], body.length + TAGLEN)
}

/** ChaCha20-Poly1305 open with a raw 12-byte nonce; throws INTEGRITY when authentication fails. */
export function aeadOpen(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Buffer {
  checkAeadKey(key)
  if (ciphertext.length < TAGLEN) throw sbError('INTEGRITY', 'ciphertext shorter than its tag')
  const split = ciphertext.length - TAGLEN
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAGLEN })
  decipher.setAAD(ad, { plaintextLength: split })
  decipher.setAuthTag(ciphertext.subarray(split))
  const body = decipher.update(ciphertext.subarray(0, split))
  try {
    decipher.final()
  } catch (err) {
    body.fill(0)
    throw sbError('INTEGRITY', 'authentication failed', { cause: err })
  }
  return body
}

/** `generateKeyPairSync` with JWK encodings, which Node supports and @types/node 20 does not declare. */
const generateJwkKeyPair = generateKeyPairSync as unknown as (
  type: 'x25519',
  options: { publicKeyEncoding: { format: 'jwk' }; privateKeyEncoding: { format: 'jwk' } },
) => { publicKey: JsonWebKey; privateKey: JsonWebKey }

const JWK_ENCODINGS = { publicKeyEncoding: { format: 'jwk' }, privateKeyEncoding: { format: 'jwk' } } as const

function generateKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateJwkKeyPair('x25519', JWK_ENCODINGS)
  if (typeof publicKey.x !== 'string' || typeof privateKey.d !== 'string') {
    throw sbError('INTERNAL', 'X25519 key generation returned no key')
  }
  return {
    publicKey: Buffer.from(publicKey.x, 'base64url'),
    privateKey: Buffer.from(privateKey.d, 'base64url'),
  }
}

function publicKeyFromPrivate(privateKey: Uint8Array): Uint8Array {
  checkKeyLength(privateKey, 'private key')
  const spki = createPublicKey(privateKeyObject(privateKey)).export({ type: 'spki', format: 'der' })
  return spki.subarray(SPKI_PREFIX.length)
}

function dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  checkKeyLength(privateKey, 'private key')
  checkKeyLength(publicKey, 'public key')
  try {
    return diffieHellman({ privateKey: privateKeyObject(privateKey), publicKey: publicKeyObject(publicKey) })
  } catch (err) {
    // OpenSSL refuses an all-zero shared secret: the public key has low order (RFC 7748 §6.1).
    throw sbError('HANDSHAKE_FAILED', 'X25519 failed (low-order or invalid public key)', { cause: err })
  }
}

function hash(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const part of parts) h.update(part)
  return h.digest()
}

function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac('sha256', key)
  for (const part of parts) h.update(part)
  return h.digest()
}

/** The node:crypto provider. Stateless, so one shared object serves every session. */
export const nodeCryptoProvider: CryptoProvider = Object.freeze({
  generateKeyPair,
  publicKeyFromPrivate,
  dh,
  encrypt: (key: Uint8Array, nonce: number | bigint, ad: Uint8Array, plaintext: Uint8Array) =>
    aeadSeal(key, noiseNonce(nonce), ad, plaintext),
  decrypt: (key: Uint8Array, nonce: number | bigint, ad: Uint8Array, ciphertext: Uint8Array) =>
    aeadOpen(key, noiseNonce(nonce), ad, ciphertext),
  hash,
  hmac,
  randomBytes: (n: number) => randomBytes(n),
})

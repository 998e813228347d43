/**
 * The crypto seam of the handshake layer. handshake/ is pure: it never imports `node:crypto`;
 * session/ passes a `CryptoProvider` in (session/node-crypto.ts is the default one).
 *
 * The functions are the ones the Noise Protocol Framework (rev 34, §4) names for the suite
 * 25519_ChaChaPoly_SHA256: GENERATE_KEYPAIR, DH, ENCRYPT, DECRYPT, HASH, and HMAC-SHA256 from
 * which HKDF (§4.3) is built here, once, for every provider.
 */
import { sbError } from '../errors.ts'

/** Bytes of an X25519 public key, private key and shared secret (Noise DHLEN). */
export const DHLEN = 32
/** Bytes of a SHA-256 digest (Noise HASHLEN). */
export const HASHLEN = 32
/** Bytes of a ChaCha20-Poly1305 key. */
export const KEYLEN = 32
/** Bytes of the Poly1305 tag ENCRYPT appends. */
export const TAGLEN = 16
/** SHA-256 block size, which Noise calls BLOCKLEN. */
export const BLOCKLEN = 64

/** A raw X25519 key pair (32 bytes each, RFC 7748 encoding). */
export interface KeyPair {
  readonly publicKey: Uint8Array
  readonly privateKey: Uint8Array
}

/**
 * Everything the Noise states need from a crypto library. Implementations must be
 * stateless with respect to secrets (no global key caches) and must turn every failure into a
 * `SwitchboardError`: never a crash, never a bare `Error`.
 */
export interface CryptoProvider {
  /** GENERATE_KEYPAIR(): a fresh random X25519 key pair. */
  generateKeyPair(): KeyPair
  /** The X25519 public key of a raw 32-byte private key (used to accept fixed keys). */
  publicKeyFromPrivate(privateKey: Uint8Array): Uint8Array
  /**
   * DH(privateKey, publicKey): the 32-byte X25519 shared secret. Throws HANDSHAKE_FAILED for
   * a key of the wrong length or a low-order public key (an all-zero result).
   */
  dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array
  /**
   * ENCRYPT(k, n, ad, plaintext): ChaCha20-Poly1305 with the Noise nonce (4 zero bytes, then
   * `nonce` as a 64-bit little-endian integer). Returns ciphertext || 16-byte tag.
   */
  encrypt(key: Uint8Array, nonce: number | bigint, ad: Uint8Array, plaintext: Uint8Array): Uint8Array
  /** DECRYPT(k, n, ad, ciphertext): the plaintext, or throws INTEGRITY when authentication fails. */
  decrypt(key: Uint8Array, nonce: number | bigint, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array
  /** HASH(parts[0] || parts[1] || ...): SHA-256. */
  hash(...parts: Uint8Array[]): Uint8Array
  /** HMAC-SHA256(key, parts[0] || parts[1] || ...). */
  hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array
  /** `n` bytes from a cryptographically secure generator. */
  randomBytes(n: number): Uint8Array
}

const EMPTY = new Uint8Array(0)

/**
 * A fresh copy of `bytes` that shares no memory with it. (`Buffer#slice` shares memory, so
 * `bytes.slice()` is not a copy when a provider hands back Buffers.)
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes)
}

/**
 * HKDF-SHA256 (RFC 5869): extract with `salt`, expand with `info` to `length` bytes
 * (at most 255 * HASHLEN).
 */
export function hkdf(
  crypto: CryptoProvider,
  salt: Uint8Array,
  ikm: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 255 * HASHLEN) {
    throw sbError('INVALID_ARGUMENT', `hkdf length ${length} is outside 0..${255 * HASHLEN}`)
  }
  // An empty salt is HMAC's all-zero key, as RFC 5869 §2.2 asks.
  const prk = crypto.hmac(salt, ikm)
  const blocks = Math.ceil(length / HASHLEN)
  const out = new Uint8Array(blocks * HASHLEN)
  const counter = new Uint8Array(1)
  let previous: Uint8Array = EMPTY
  for (let i = 1; i <= blocks; i++) {
    counter[0] = i
    previous = crypto.hmac(prk, previous, info, counter)
    out.set(previous, (i - 1) * HASHLEN)
  }
  return length === out.length ? out : out.subarray(0, length)
}

/**
 * Noise HKDF(chaining_key, input_key_material, num_outputs) (§4.3): RFC 5869 with the chaining
 * key as salt and empty info, cut into two or three HASHLEN outputs.
 */
export function noiseHkdf(
  crypto: CryptoProvider,
  chainingKey: Uint8Array,
  ikm: Uint8Array,
  numOutputs: 2,
): [Uint8Array, Uint8Array]
export function noiseHkdf(
  crypto: CryptoProvider,
  chainingKey: Uint8Array,
  ikm: Uint8Array,
  numOutputs: 3,
): [Uint8Array, Uint8Array, Uint8Array]
export function noiseHkdf(
  crypto: CryptoProvider,
  chainingKey: Uint8Array,
  ikm: Uint8Array,
  numOutputs: 2 | 3,
): Uint8Array[] {
  const tempKey = crypto.hmac(chainingKey, ikm)
  const output1 = crypto.hmac(tempKey, ONE)
  const output2 = crypto.hmac(tempKey, output1, TWO)
  if (numOutputs === 2) return [output1, output2]
  return [output1, output2, crypto.hmac(tempKey, output2, THREE)]
}

const ONE = Uint8Array.of(1)
const TWO = Uint8Array.of(2)
const THREE = Uint8Array.of(3)

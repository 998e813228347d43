/**
 * CipherState (Noise rev 34, §5.1): a key `k` and a 64-bit nonce `n`. Until a key is set,
 * EncryptWithAd/DecryptWithAd pass bytes through, as the spec says. The nonce never repeats:
 * 2^64-1 is reserved (Rekey uses it), so the state refuses any call once `n` reaches it.
 *
 * After Split the two CipherStates protect records; they also satisfy the record layer's
 * `RecordCipher` shape (`overhead`, `seal`, `open`) so record/ can take them directly.
 */
import { sbError } from '../../errors.ts'
import { type CryptoProvider, copyBytes, KEYLEN, TAGLEN } from '../crypto.ts'

/** The reserved nonce 2^64-1: never used for a message, only by REKEY (§4.2). */
export const MAX_NONCE = 0xffff_ffff_ffff_ffffn

const EMPTY = new Uint8Array(0)
const ZEROS = new Uint8Array(KEYLEN)

export class CipherState {
  readonly #crypto: CryptoProvider
  #k: Uint8Array | undefined
  #n = 0n

  /** InitializeKey(key) at construction; no key means "empty" (pass-through). */
  constructor(crypto: CryptoProvider, key?: Uint8Array) {
    this.#crypto = crypto
    this.initializeKey(key)
  }

  /** InitializeKey(key): sets k (a copy; undefined empties it) and n = 0. */
  initializeKey(key: Uint8Array | undefined): void {
    if (key !== undefined && key.length !== KEYLEN) {
      throw sbError('INVALID_ARGUMENT', `cipher key must be ${KEYLEN} bytes`)
    }
    this.#k?.fill(0)
    this.#k = key === undefined ? undefined : copyBytes(key)
    this.#n = 0n
  }

  /** HasKey(): true when k is set. */
  hasKey(): boolean {
    return this.#k !== undefined
  }

  /** The next nonce this state will use. */
  get nonce(): bigint {
    return this.#n
  }

  /** SetNonce(nonce) (§5.1): for out-of-order transports and tests of the nonce limit. */
  setNonce(nonce: bigint): void {
    if (nonce < 0n || nonce > MAX_NONCE) throw sbError('INVALID_ARGUMENT', `nonce ${nonce} out of range`)
    this.#n = nonce
  }

  /** EncryptWithAd(ad, plaintext): ENCRYPT(k, n++, ad, plaintext), or the plaintext when k is empty. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const k = this.#k
    if (k === undefined) return plaintext
    this.#checkNonce()
    const out = this.#crypto.encrypt(k, this.#n, ad, plaintext)
    this.#n++
    return out
  }

  /**
   * DecryptWithAd(ad, ciphertext): DECRYPT(k, n++, ad, ciphertext), or the ciphertext when k is
   * empty. On a failed authentication it throws INTEGRITY and n stays where it was.
   */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    const k = this.#k
    if (k === undefined) return ciphertext
    this.#checkNonce()
    const out = this.#crypto.decrypt(k, this.#n, ad, ciphertext)
    this.#n++
    return out
  }

  /** Rekey() (§4.2, §11.3): k = first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zeros). n is kept. */
  rekey(): void {
    const k = this.#k
    if (k === undefined) throw sbError('INVALID_ARGUMENT', 'rekey needs a key')
    const next = this.#crypto.encrypt(k, MAX_NONCE, EMPTY, ZEROS).subarray(0, KEYLEN)
    k.set(next)
    next.fill(0)
  }

  /** Overwrites the key; the state is empty afterwards. */
  destroy(): void {
    this.#k?.fill(0)
    this.#k = undefined
  }

  /** Bytes an encryption adds (the tag), for the record layer. */
  get overhead(): number {
    return this.#k === undefined ? 0 : TAGLEN
  }

  /** Record-layer alias: EncryptWithAd(empty, plaintext). */
  seal(plaintext: Uint8Array): Uint8Array {
    return this.encryptWithAd(EMPTY, plaintext)
  }

  /** Record-layer alias: DecryptWithAd(empty, body); INTEGRITY on tampering, replay or reordering. */
  open(body: Uint8Array): Uint8Array {
    return this.decryptWithAd(EMPTY, body)
  }

  #checkNonce(): void {
    if (this.#n >= MAX_NONCE) {
      throw sbError('PROTOCOL_ERROR', 'nonce space exhausted (2^64-1 messages); rekey cannot reset it')
    }
  }
}

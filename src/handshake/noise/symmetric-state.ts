/**
 * SymmetricState (Noise rev 34, §5.2): the chaining key `ck`, the handshake hash `h` and a
 * CipherState. Method names follow the spec one for one.
 */
import { sbError } from '../../errors.ts'
import { type CryptoProvider, copyBytes, HASHLEN, noiseHkdf } from '../crypto.ts'
import { CipherState } from './cipher-state.ts'

const EMPTY = new Uint8Array(0)

/** The ASCII bytes of a protocol name (Noise names are ASCII by definition). */
function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c > 0x7e || c < 0x20) throw sbError('INVALID_ARGUMENT', 'protocol name must be printable ASCII')
    out[i] = c
  }
  return out
}

export class SymmetricState {
  readonly #crypto: CryptoProvider
  readonly #cipher: CipherState
  #ck: Uint8Array
  #h: Uint8Array

  /**
   * InitializeSymmetric(protocol_name): h = the name zero-padded to HASHLEN, or HASH(name) when
   * longer; ck = h; the cipher state starts empty.
   */
  constructor(crypto: CryptoProvider, protocolName: string) {
    this.#crypto = crypto
    const name = ascii(protocolName)
    if (name.length <= HASHLEN) {
      this.#h = new Uint8Array(HASHLEN)
      this.#h.set(name)
    } else {
      this.#h = crypto.hash(name)
    }
    this.#ck = copyBytes(this.#h)
    this.#cipher = new CipherState(crypto)
  }

  /** MixKey(ikm): ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k). */
  mixKey(ikm: Uint8Array): void {
    const [ck, tempK] = noiseHkdf(this.#crypto, this.#ck, ikm, 2)
    this.#ck.fill(0)
    this.#ck = ck
    this.#cipher.initializeKey(tempK)
    tempK.fill(0)
  }

  /** MixHash(data): h = HASH(h || data). */
  mixHash(data: Uint8Array): void {
    this.#h = this.#crypto.hash(this.#h, data)
  }

  /** MixKeyAndHash(ikm): ck, temp_h, temp_k = HKDF(ck, ikm, 3); MixHash(temp_h); InitializeKey(temp_k). */
  mixKeyAndHash(ikm: Uint8Array): void {
    const [ck, tempH, tempK] = noiseHkdf(this.#crypto, this.#ck, ikm, 3)
    this.#ck.fill(0)
    this.#ck = ck
    this.mixHash(tempH)
    this.#cipher.initializeKey(tempK)
    tempK.fill(0)
  }

  /** GetHandshakeHash(): h (a copy). */
  getHandshakeHash(): Uint8Array {
    return copyBytes(this.#h)
  }

  /** True when the inner CipherState has a key (so encrypted fields carry a tag). */
  hasKey(): boolean {
    return this.#cipher.hasKey()
  }

  /** EncryptAndHash(plaintext): ciphertext = EncryptWithAd(h, plaintext); MixHash(ciphertext). */
  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.#cipher.encryptWithAd(this.#h, plaintext)
    this.mixHash(ciphertext)
    return ciphertext
  }

  /** DecryptAndHash(ciphertext): plaintext = DecryptWithAd(h, ciphertext); MixHash(ciphertext). */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.#cipher.decryptWithAd(this.#h, ciphertext)
    this.mixHash(ciphertext)
    return plaintext
  }

  /**
   * Split(): temp_k1, temp_k2 = HKDF(ck, empty, 2); two CipherStates, the first for
   * initiator → responder. The chaining key is wiped: this state is finished.
   */
  split(): [CipherState, CipherState] {
    const [k1, k2] = noiseHkdf(this.#crypto, this.#ck, EMPTY, 2)
    const c1 = new CipherState(this.#crypto, k1)
    const c2 = new CipherState(this.#crypto, k2)
    k1.fill(0)
    k2.fill(0)
    this.#ck.fill(0)
    this.#cipher.destroy()
    return [c1, c2]
  }

  /** Wipes the chaining key and the inner cipher key (after a failure). */
  destroy(): void {
    this.#ck.fill(0)
    this.#cipher.destroy()
  }
}

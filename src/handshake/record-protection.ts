/**
 * One direction of record protection after a Noise handshake (DESIGN.md §5): each record is one
 * ChaCha20-Poly1305 ciphertext under the direction's CipherState, whose nonce is an implicit
 * counter, so a replayed, reordered, dropped, truncated or modified record fails authentication.
 * After REKEY_AFTER_RECORDS records or REKEY_AFTER_BYTES plaintext bytes the key is replaced by
 * Noise Rekey(); both ends count the same records and bytes, so they rekey at the same record.
 */
import { sbError } from '../errors.ts'
import type { RecordCipher } from '../wire/cipher.ts'
import { TAGLEN } from './crypto.ts'
import type { CipherState } from './noise/cipher-state.ts'
import { REKEY_AFTER_BYTES, REKEY_AFTER_RECORDS } from './rekey.ts'

export interface RekeyThresholds {
  /** Records under one key before Rekey(). */
  readonly records: number
  /** Plaintext bytes under one key before Rekey(). */
  readonly bytes: number
}

export const defaultRekeyThresholds: RekeyThresholds = Object.freeze({
  records: REKEY_AFTER_RECORDS,
  bytes: REKEY_AFTER_BYTES,
})

export class RekeyingCipher implements RecordCipher {
  readonly overhead = TAGLEN
  readonly #state: CipherState
  readonly #thresholds: RekeyThresholds
  #records = 0
  #bytes = 0
  /** Records protected in this direction, over all keys. */
  records = 0
  /** How many times the key was replaced. */
  rekeys = 0

  constructor(state: CipherState, thresholds: RekeyThresholds = defaultRekeyThresholds) {
    this.#state = state
    this.#thresholds = thresholds
  }

  seal(plaintext: Uint8Array): Uint8Array {
    const out = this.#state.seal(plaintext)
    this.#count(plaintext.length)
    return out
  }

  open(body: Uint8Array): Uint8Array {
    let plain: Uint8Array
    try {
      plain = this.#state.open(body)
    } catch (err) {
      throw sbError(
        'INTEGRITY',
        `record ${this.records} failed authentication (modified, replayed, reordered or truncated)`,
        { cause: err },
      )
    }
    this.#count(plain.length)
    return plain
  }

  /** Overwrites the key; every later call fails. */
  destroy(): void {
    this.#state.destroy()
  }

  #count(plaintextBytes: number): void {
    this.records++
    this.#records++
    this.#bytes += plaintextBytes
    if (this.#records >= this.#thresholds.records || this.#bytes >= this.#thresholds.bytes) {
      this.#state.rekey()
      this.rekeys++
      this.#records = 0
      this.#bytes = 0
    }
  }
}

/**
 * Helpers for the handshake tests: hex, keys from raw private keys, coded-error assertions.
 */
import assert from 'node:assert/strict'
import { type ErrorCode, isSwitchboardError } from '../../../src/errors.ts'
import type { CryptoProvider, KeyPair } from '../../../src/handshake/crypto.ts'

export function fromHex(hex: string): Uint8Array {
  assert.match(hex, /^(?:[0-9a-fA-F]{2})*$/, `not hex: ${hex}`)
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** A key pair from a raw private key, its public half derived through the provider. */
export function keyPairFromPrivate(crypto: CryptoProvider, privateHex: string): KeyPair {
  const privateKey = fromHex(privateHex)
  return { privateKey, publicKey: crypto.publicKeyFromPrivate(privateKey) }
}

/** Asserts `fn` throws a SwitchboardError with `code` (never a bare Error), and returns it. */
export function assertCode(fn: () => unknown, code: ErrorCode): Error {
  let thrown: unknown
  try {
    fn()
  } catch (err) {
    thrown = err
  }
  assert.ok(thrown !== undefined, `expected ${code}, nothing was thrown`)
  assert.ok(isSwitchboardError(thrown, code), `expected ${code}, got ${String(thrown)}`)
  return thrown as Error
}

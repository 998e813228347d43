/**
 * The seam between a security handshake and the record layer: one direction of record
 * protection. handshake/ produces these (Noise CipherStates after Split); record/ uses them
 * without knowing how they were made. Without security both directions are `identityCipher`.
 */
export interface RecordCipher {
  /** Bytes `seal` adds to each record (the AEAD tag), 0 for identity. */
  readonly overhead: number
  /** Protects one record plaintext; each call uses the next nonce. */
  seal(plaintext: Uint8Array): Uint8Array
  /** Verifies and opens one record body; throws INTEGRITY on any tampering, replay or reordering. */
  open(body: Uint8Array): Uint8Array
}

/** Plain text: records pass through unchanged. */
export const identityCipher: RecordCipher = {
  overhead: 0,
  seal: (plaintext) => plaintext,
  open: (body) => body,
}

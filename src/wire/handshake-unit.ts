/**
 * Byte layouts of the security handshake (docs/protocol.md §6): each Noise message travels as a
 * u16 big-endian length and that many bytes, at most MAX_HANDSHAKE_UNIT_BYTES. A length of 0 is
 * not a message but a refusal: a u16 wire error code follows, and the sender closes.
 *
 * The hello slot has the same escape: a u32 hello length of 0 followed by a u16 wire code is a
 * refusal sent instead of a hello (a listener that is too busy to handshake sends it).
 *
 * Refusals are not authenticated (nothing is, yet): they only tell the peer why the connection is
 * about to close, which anyone on the path could cause anyway by cutting it.
 */

/** Largest Noise message either way, in bytes (the longest switchboard sends is 96). */
export const MAX_HANDSHAKE_UNIT_BYTES = 4096
/** Bytes of a handshake unit's length header. */
export const HANDSHAKE_UNIT_HEADER_BYTES = 2
/** Bytes of a hello's length header. */
export const HELLO_HEADER_BYTES = 4

/** One Noise message with its u16 length header. */
export function frameHandshakeUnit(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(HANDSHAKE_UNIT_HEADER_BYTES + message.length)
  out[0] = message.length >>> 8
  out[1] = message.length & 0xff
  out.set(message, HANDSHAKE_UNIT_HEADER_BYTES)
  return out
}

/** A refusal in a handshake-unit slot: `00 00 | u16 wireCode`. */
export function encodeHandshakeRefusal(wireCode: number): Uint8Array {
  return Uint8Array.of(0, 0, (wireCode >>> 8) & 0xff, wireCode & 0xff)
}

/** A refusal in the hello slot: `00 00 00 00 | u16 wireCode`. */
export function encodeHelloRefusal(wireCode: number): Uint8Array {
  return Uint8Array.of(0, 0, 0, 0, (wireCode >>> 8) & 0xff, wireCode & 0xff)
}

/**
 * The relay's framing (docs/daemon.md, "Relay"). A relayed connection is one streamed call to
 * the daemon, `daemon.relay`; the first bytes of its request stream are this header naming the
 * target instance, and every byte after it is the inner session's, forwarded as is. The daemon
 * reaches the target with a streamed call `relay.accept` on the target's own connection to it
 * (no header: the target's inner handshake says who is calling).
 *
 *   u8  version (1)
 *   u16 length of the target, big-endian (1–1024)
 *   …   the target instance, UTF-8
 */
import { sbError } from '../errors.ts'

/** The method a dialer calls on the daemon. */
export const RELAY_METHOD = 'daemon.relay'
/** The method the daemon calls on the target peer's own connection to it. */
export const RELAY_ACCEPT_METHOD = 'relay.accept'

const VERSION = 1
const MAX_TARGET_BYTES = 1024

export function encodeRelayHeader(target: string): Uint8Array {
  const name = Buffer.from(target, 'utf8')
  if (name.length === 0 || name.length > MAX_TARGET_BYTES)
    throw sbError('INVALID_ARGUMENT', `relay target must be 1–${MAX_TARGET_BYTES} bytes of UTF-8`)
  const out = Buffer.allocUnsafe(3 + name.length)
  out[0] = VERSION
  out.writeUInt16BE(name.length, 1)
  name.copy(out, 3)
  return out
}

/**
 * Reads the header from the front of a stream. Resolves with the target, the bytes that came
 * after the header in the same chunks, and the iterator to go on with. A malformed or short
 * header is PROTOCOL_ERROR; at most 3 + 1024 bytes are held while reading it.
 */
export async function readRelayHeader(
  it: AsyncIterator<Uint8Array>,
): Promise<{ target: string; rest: Uint8Array }> {
  let buf: Uint8Array = new Uint8Array(0)
  let need = 3
  for (;;) {
    if (buf.length >= need) {
      if (buf[0] !== VERSION) throw sbError('PROTOCOL_ERROR', `relay header version ${buf[0]} is not 1`)
      const length = (buf[1]! << 8) | buf[2]!
      if (length === 0 || length > MAX_TARGET_BYTES)
        throw sbError('PROTOCOL_ERROR', `relay header target length ${length} is not 1–${MAX_TARGET_BYTES}`)
      need = 3 + length
      if (buf.length >= need) {
        const target = Buffer.from(buf.subarray(3, need)).toString('utf8')
        return { target, rest: buf.subarray(need) }
      }
    }
    const r = await it.next()
    if (r.done) throw sbError('PROTOCOL_ERROR', 'relay stream ended inside its header')
    buf = buf.length === 0 ? r.value : Buffer.concat([buf, r.value])
  }
}

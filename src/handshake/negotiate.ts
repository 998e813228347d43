/**
 * The hello exchange's pure half: from the two hellos, compute what both sides agreed on.
 * Both sides run the same function on the same bytes, so they reach the same result without
 * another round trip.
 */
import { sbError } from '../errors.ts'
import type { Hello } from '../wire/hello.ts'

export interface Agreement {
  /** Highest protocol major version both speak. */
  version: number
  /** Payload codec: the dialer's first choice that the listener also offers. */
  codec: string
  /** Record compression: the dialer's first choice the listener also offers, else 'none'. */
  compression: string
  /** Security mode: the dialer's first choice the listener also offers. */
  security: string
  local: Hello
  remote: Hello
}

function firstCommon(preferred: readonly string[], other: readonly string[]): string | undefined {
  return preferred.find((name) => other.includes(name))
}

export function negotiate(local: Hello, remote: Hello): Agreement {
  if (local.role === remote.role) {
    throw sbError('PROTOCOL_ERROR', `both sides claim the ${local.role} role`)
  }
  const dialer = local.role === 'dialer' ? local : remote
  const listener = local.role === 'dialer' ? remote : local
  const common = dialer.versions.filter((v) => listener.versions.includes(v))
  if (common.length === 0) {
    throw sbError(
      'VERSION_MISMATCH',
      `no common protocol version (ours ${local.versions.join(',')}, theirs ${remote.versions.join(',')})`,
    )
  }
  const codec = firstCommon(dialer.codecs, listener.codecs)
  if (codec === undefined) {
    throw sbError(
      'NEGOTIATION_FAILED',
      `no common codec (ours ${local.codecs.join(',')}, theirs ${remote.codecs.join(',')})`,
    )
  }
  const security = firstCommon(dialer.security, listener.security)
  if (security === undefined) {
    // The common case worth naming: a keyless dialer at a listener that serves only keyed ones.
    const anonymous = dialer.security.includes('noise-nk')
      ? '; the listener does not accept dialers without a key (acceptAnonymousDialers)'
      : ''
    throw sbError(
      'NEGOTIATION_FAILED',
      `no common security mode (ours ${local.security.join(',')}, theirs ${remote.security.join(',')})${anonymous}`,
    )
  }
  const compression = firstCommon(dialer.compression, listener.compression) ?? 'none'
  return { version: Math.max(...common), codec, compression, security, local, remote }
}

const TRANSCRIPT_LABEL = new TextEncoder().encode('switchboard/1 hello')

function u32(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)
}

/**
 * The hello transcript: SHA-256 over a label and both hello bodies, the dialer's first. A
 * security handshake uses it as its prologue, so a hello rewritten in transit fails there.
 * `hash` is injected (handshake/ imports no node: module).
 */
export function helloTranscript(
  dialerHello: Uint8Array,
  listenerHello: Uint8Array,
  hash: (...parts: Uint8Array[]) => Uint8Array,
): Uint8Array {
  return hash(
    TRANSCRIPT_LABEL,
    u32(dialerHello.length),
    dialerHello,
    u32(listenerHello.length),
    listenerHello,
  )
}

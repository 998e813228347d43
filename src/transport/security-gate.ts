/**
 * DESIGN invariant 6: plain text only on unix sockets in an owner-only (0700, ours) directory.
 * TCP, and unix sockets elsewhere, need a secret, keys or TLS (a tls:// address), or an explicit
 * `insecure: true`. The session options that ask for a Noise handshake are recognised by name
 * (the transport layer does not interpret them).
 */
import { dirname } from 'node:path'
import { sbError } from '../errors.ts'
import type { Endpoint } from './endpoint.ts'
import { ownerOnlyProblem } from './runtime-dir.ts'

export interface SecurityGateOptions {
  /** The user accepted plain text. */
  readonly insecure?: boolean
  /** A handshake or TLS will protect the session (set by a layer above). */
  readonly secure?: boolean
  /** Session options that make the session run a Noise handshake (any value counts). */
  readonly secret?: unknown
  readonly secretFile?: unknown
  readonly passphrase?: unknown
  readonly keys?: unknown
  readonly keyFile?: unknown
  /**
   * A dialer that pinned the listener's key runs a handshake even without keys of its own (NK).
   * A listener ignores it: it secures nothing there.
   */
  readonly serverKey?: unknown
}

const ADVICE =
  'set a secret (secret, secretFile, passphrase), keys (keys or keyFile, with allow) or use a tls:// address; or insecure: true to accept plain text'

/** True when the options ask for a Noise handshake on this side. */
export function asksForHandshake(o: SecurityGateOptions, role: 'dialer' | 'listener'): boolean {
  const own = [o.secret, o.secretFile, o.passphrase, o.keys, o.keyFile].some((v) => v !== undefined)
  return own || (role === 'dialer' && o.serverKey !== undefined)
}

/**
 * Throws INSECURE_TRANSPORT unless the endpoint is private to this user or the options accept it.
 * A unix socket whose directory does not exist passes: the connect or listen then fails with
 * ENOENT (retryable for a dialer), and the gate runs again on the next attempt.
 */
export async function requireSecureOrInsecureOk(
  endpoint: Endpoint,
  options: SecurityGateOptions,
  role: 'dialer' | 'listener',
): Promise<void> {
  if (options.secure === true || options.insecure === true || asksForHandshake(options, role)) return
  if (endpoint.kind === 'tcp' && endpoint.tls) return
  if (endpoint.kind === 'tcp') {
    throw sbError(
      'INSECURE_TRANSPORT',
      `${endpoint.address}: TCP is plain text, reachable by other users and hosts; ${ADVICE}`,
    )
  }
  if (endpoint.pipe) return // Windows pipes: the default DACL lets only the owner (and admins) connect
  const dir = dirname(endpoint.path)
  const problem = await ownerOnlyProblem(dir)
  if (problem === undefined || problem.missing) return
  throw sbError(
    'INSECURE_TRANSPORT',
    `${endpoint.address}: its directory ${dir} ${problem.reason}; plain text needs an owner-only (0700) directory; ${ADVICE}`,
  )
}

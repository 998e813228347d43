/**
 * DESIGN invariant 6: plain text only on unix sockets in an owner-only (0700, ours) directory.
 * TCP, and unix sockets elsewhere, need `secure` (a secret, keys or TLS: a later issue) or an
 * explicit `insecure: true`.
 */
import { dirname } from 'node:path'
import { sbError } from '../errors.ts'
import type { Endpoint } from './endpoint.ts'
import { ownerOnlyProblem } from './runtime-dir.ts'

export interface SecurityGateOptions {
  /** The user accepted plain text. */
  readonly insecure?: boolean
  /** A secret, keys or TLS will protect the session (set by the layers above; later issue). */
  readonly secure?: boolean
}

const ADVICE =
  'use insecure: true to accept plain text (security options — secret, keys, TLS — arrive in a later version)'

/**
 * Throws INSECURE_TRANSPORT unless the endpoint is private to this user or the options accept it.
 * A unix socket whose directory does not exist passes: the connect or listen then fails with
 * ENOENT (retryable for a dialer), and the gate runs again on the next attempt.
 */
export async function requireSecureOrInsecureOk(
  endpoint: Endpoint,
  options: SecurityGateOptions,
): Promise<void> {
  if (options.secure === true || options.insecure === true) return
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

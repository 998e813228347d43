/**
 * Options of connect(), listen() and pair(). Session limits (windows, keepalive, message size)
 * are in `limits`; see docs/limits.md for every default, and docs/delivery.md for the link's.
 */

import type { ConnectionOptions } from '../rpc/connection.ts'
import type { DedupeWindow } from '../rpc/dedupe.ts'
import type { Handler } from '../rpc/types.ts'
import type { TlsOptions, Transport } from '../transport/types.ts'
import { defaultLinkOptions, type LinkTuning } from './defaults.ts'

export interface EndpointOptions extends ConnectionOptions {
  /** Plain text where security is required (TCP; unix paths outside an owner-only dir). Default false. */
  insecure?: boolean
  /** Certificates and trust for tls:// addresses (mutual TLS: `requestCert` on the listener, `cert`/`key` on the dialer). */
  tls?: TlsOptions
  /** The owner-only directory for named sockets. Default: SWITCHBOARD_RUNTIME_DIR, $XDG_RUNTIME_DIR/switchboard, or a per-user dir under the temp dir. */
  runtimeDir?: string
}

/**
 * Opens a byte stream to `address`; rejects coded (CONNECT_FAILED to retry, others final).
 * Default: the transport layer's dial. A joined peer passes on the one in its options; tests
 * pass one that goes through a fault-injection proxy.
 */
export type DialFunction = (address: string, signal: AbortSignal) => Promise<Transport>

export interface ConnectOptions extends EndpointOptions, Partial<Omit<LinkTuning, 'dedupeWindow'>> {
  /** connect() resolves only after the first hello exchange (default false: it resolves at once, in state 'connecting'). */
  waitForReady?: boolean
  /** Handlers for calls the other side makes on this link (a server may call its client back). */
  handlers?: Record<string, Handler>
  /** How connections are opened (see DialFunction). */
  dial?: DialFunction
  /** Memory of idempotent calls the other side makes on this link. */
  dedupeWindow?: Partial<DedupeWindow>
}

export interface ListenOptions extends EndpointOptions {
  /** Most connections served at once; more are refused. Default 1,024. */
  maxConnections?: number
  /** Most connections handshaking at once; more get the retryable HANDSHAKE_BUSY. Default 64. */
  maxHandshaking?: number
  /** Most connections handshaking at once from one remote IP (TCP/TLS); more get HANDSHAKE_BUSY. Default 8. */
  maxHandshakingPerSource?: number
  /** Memory of idempotent calls clients make (by identity, link id, message id). */
  dedupeWindow?: Partial<DedupeWindow>
  /** A client's handle is kept this long after its last connection ended, for it to come back, ms. Default 30,000. */
  clientLingerMs?: number
}

/** The link tuning named in `options` (undefined values keep the defaults). */
export function pickTuning(options: ConnectOptions): Partial<LinkTuning> {
  const out: Partial<LinkTuning> = {}
  for (const key of Object.keys(defaultLinkOptions) as (keyof LinkTuning)[]) {
    const v = options[key as keyof ConnectOptions]
    if (v !== undefined) (out as Record<string, unknown>)[key] = v
  }
  if (options.dedupeWindow !== undefined)
    out.dedupeWindow = { ...defaultLinkOptions.dedupeWindow, ...options.dedupeWindow }
  return out
}

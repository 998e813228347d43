/**
 * Options of connect(), listen() and pair(). Session limits (windows, keepalive, message size)
 * are in `limits`; see docs/limits.md for every default.
 */
import type { ConnectionOptions } from '../rpc/connection.ts'
import type { Handler } from '../rpc/types.ts'
import type { TlsOptions } from '../transport/types.ts'

export interface EndpointOptions extends ConnectionOptions {
  /** Plain text where security is required (TCP; unix paths outside an owner-only dir). Default false. */
  insecure?: boolean
  /** Certificates and trust for tls:// addresses (mutual TLS: `requestCert` on the listener, `cert`/`key` on the dialer). */
  tls?: TlsOptions
  /** The owner-only directory for named sockets. Default: SWITCHBOARD_RUNTIME_DIR, $XDG_RUNTIME_DIR/switchboard, or a per-user dir under the temp dir. */
  runtimeDir?: string
}

export interface ConnectOptions extends EndpointOptions {
  /** connect() resolves only after the first hello exchange (default false: it resolves at once, in state 'connecting'). */
  waitForReady?: boolean
  /** Bytes of messages not yet started that may wait while connecting; beyond it calls fail with QUEUE_FULL. Default 8 MiB. */
  maxQueuedBytes?: number
  /** Handlers for calls the other side makes on this link (peer2peer). */
  handlers?: Record<string, Handler>
}

export interface ListenOptions extends EndpointOptions {
  /** Most connections served at once; more are refused. Default 1,024. */
  maxConnections?: number
  /** Most connections handshaking at once; more get the retryable HANDSHAKE_BUSY. Default 64. */
  maxHandshaking?: number
  /** Most connections handshaking at once from one remote IP (TCP/TLS); more get HANDSHAKE_BUSY. Default 8. */
  maxHandshakingPerSource?: number
}

export const defaultMaxQueuedBytes = 8 * 1024 * 1024

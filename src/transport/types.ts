/**
 * The duplex seam every session uses. A transport is a byte stream with backpressure, a graceful
 * `close()` and an immediate `abort()`; every adapter (unix socket, named pipe, TCP, TLS)
 * implements it and passes the shared conformance suite
 * (test/conformance/transport.conformance.ts).
 */
import type { SecurityGateOptions } from './security-gate.ts'

export interface Transport {
  /**
   * Writes bytes (a list is written as one writev batch). Returns false when the caller should wait
   * for `drain`. Errors surface via `close(err)`, never throw. The chunks must not be modified
   * after the call (they are not copied). After `close()`/`abort()` or the peer's end, writes are
   * dropped and return false; the `close` event follows.
   */
  write(chunks: readonly Uint8Array[]): boolean
  /**
   * Graceful: flush pending writes, then end. Idempotent. Reading resumes (even if paused) so the
   * peer's end can be seen; `data` may still arrive until the `close` event.
   */
  close(): void
  /**
   * Immediately destroy. Idempotent. The `close` event carries `err` (a SwitchboardError as is,
   * any other error wrapped as TRANSPORT_ERROR), or undefined when no error is given.
   */
  abort(err?: Error): void
  /**
   * Set the event handlers (called once by the session). Data that arrived before `bind` is held,
   * not lost: the transport does not read until bound.
   */
  bind(events: TransportEvents): void
  /** Bytes handed to write() and not yet flushed to the OS. */
  readonly writableLength: number
  /** Human-readable description, e.g. 'unix:/run/x.sock' or 'tcp://127.0.0.1:4100'. */
  readonly remote: string
  /** For TCP and TLS the remote IP, else undefined (the key of maxHandshakingPerSource). */
  readonly remoteAddress: string | undefined
  /** Stop delivering `data` (the OS applies backpressure to the peer). */
  pause(): void
  /** Deliver `data` again. */
  resume(): void
}

export interface TransportEvents {
  /** Bytes from the peer. The chunk is owned by the receiver (never reused by the transport). */
  data(chunk: Uint8Array): void
  /** write() returned false earlier and the buffered bytes have now been flushed. */
  drain(): void
  /**
   * Fires exactly once: undefined for a clean end, or a SwitchboardError (TRANSPORT_ERROR with the
   * OS error as cause, or the error given to abort()) for a failure.
   */
  close(err: Error | undefined): void
}

export interface TransportListener {
  /** The resolved address, e.g. tcp://127.0.0.1:34567 (the actual port) or unix:/run/…/x.sock. */
  readonly address: string
  /**
   * Stops accepting and removes the socket file (unix). Connections already handed to
   * `onConnection` are not touched: their owners close them. Idempotent.
   */
  close(): Promise<void>
}

/** Certificates for tls:// addresses (node:tls; PEM strings or Buffers). */
export interface TlsOptions {
  /** Our certificate chain (a listener needs one; a dialer for mutual TLS). */
  readonly cert?: string | Buffer | ReadonlyArray<string | Buffer>
  /** Our private key. */
  readonly key?: string | Buffer
  /** CAs trusted to sign the peer's certificate. Default: Node's bundled roots. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>
  /** Listener: require and verify a client certificate (mutual TLS). Default false. */
  readonly requestCert?: boolean
  /** Dialer: the name the listener's certificate must carry. Default: the host of the address. */
  readonly servername?: string
}

/** Options shared by dial() and listen(). */
export interface TransportOptions extends SecurityGateOptions {
  /** Certificates and trust for tls:// addresses. */
  readonly tls?: TlsOptions
  /**
   * Accept plain text where DESIGN invariant 6 requires security: TCP, and unix sockets whose
   * directory is not owner-only (0700 and ours). Default false.
   */
  readonly insecure?: boolean
  /**
   * The owner-only runtime directory for named sockets. Default: env SWITCHBOARD_RUNTIME_DIR, else
   * $XDG_RUNTIME_DIR/switchboard, else os.tmpdir()/switchboard-<uid>.
   */
  readonly runtimeDir?: string
}

export interface DialOptions extends TransportOptions {
  /** Cancels the dial: it rejects with CANCELLED (the signal's reason as cause). */
  readonly signal?: AbortSignal
}

export interface ListenOptions extends TransportOptions {
  /**
   * tls:// only: admits a connection before its TLS handshake (the server's handshake limits).
   * Returns a function that frees the slot (called when the TLS handshake ends either way), or
   * an error to drop the connection at once: TLS is not up yet, so no coded refusal can be sent.
   */
  readonly admitTls?: (remoteAddress: string | undefined) => (() => void) | Error
}

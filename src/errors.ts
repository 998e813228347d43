/**
 * One error family for the whole library. Every failure a caller can see is a
 * `SwitchboardError` with a stable string `code`; the codes that cross the wire also have a
 * numeric `wire` value, and this table maps both ways (docs/errors.md lists them all).
 *
 * This file is pure (no `node:` imports) so the sans-IO layers can throw these errors.
 */

interface CodeInfo {
  /** Numeric code sent on the wire (END/RESET/GOAWAY frames), or 0 when the code never crosses it. */
  readonly wire: number
  /** True when the same operation may succeed if tried again unchanged. */
  readonly retryable: boolean
  /** Default human message. */
  readonly message: string
}

/** The error code table. Wire values are stable forever; never reuse a retired number. */
export const ErrorCodes = {
  // --- protocol violations (a peer sent bytes that break the spec) ---
  PROTOCOL_ERROR: { wire: 1, retryable: false, message: 'peer violated the protocol' },
  FRAME_MALFORMED: { wire: 2, retryable: false, message: 'malformed frame' },
  FRAME_TOO_LARGE: { wire: 3, retryable: false, message: 'a length exceeds its limit' },
  VERSION_MISMATCH: { wire: 4, retryable: false, message: 'no protocol version in common' },
  NEGOTIATION_FAILED: { wire: 5, retryable: false, message: 'no codec or security mode in common' },
  HELLO_TOO_LARGE: { wire: 6, retryable: false, message: 'hello exceeds maxHelloBytes' },
  FLOW_CONTROL: { wire: 7, retryable: false, message: 'peer sent more than its credit' },
  BAD_PREAMBLE: { wire: 8, retryable: false, message: 'not a switchboard peer (bad preamble)' },
  COMPRESSION_ERROR: { wire: 9, retryable: false, message: 'record failed to decompress' },
  INTEGRITY: { wire: 10, retryable: false, message: 'record failed authentication' },
  // --- liveness ---
  INACTIVITY_TIMEOUT: { wire: 20, retryable: true, message: 'peer silent past the keepalive timeout' },
  KEEPALIVE_FLOOD: { wire: 21, retryable: false, message: 'peer sent too many keepalive pings' },
  // --- calls ---
  CANCELLED: { wire: 30, retryable: false, message: 'cancelled' },
  DEADLINE: { wire: 31, retryable: true, message: 'deadline passed' },
  METHOD_NOT_FOUND: { wire: 32, retryable: false, message: 'no handler for this method' },
  HANDLER_ERROR: { wire: 33, retryable: false, message: 'the remote handler failed' },
  MESSAGE_TOO_LARGE: { wire: 34, retryable: false, message: 'message exceeds maxMessageBytes' },
  CODEC_ERROR: { wire: 35, retryable: false, message: 'payload could not be encoded or decoded' },
  CHANNEL_LIMIT: { wire: 36, retryable: true, message: 'too many open channels' },
  REFUSED: { wire: 37, retryable: false, message: 'refused by the peer' },
  APP_ERROR: { wire: 38, retryable: false, message: 'application error' },
  PAIR_FULL: { wire: 39, retryable: false, message: 'this pair address already has two processes' },
  // --- connection and session lifecycle ---
  GOING_AWAY: { wire: 40, retryable: true, message: 'peer is shutting down' },
  CONNECTION_LOST: { wire: 41, retryable: true, message: 'connection lost' },
  SESSION_CLOSED: { wire: 42, retryable: false, message: 'session closed' },
  HANDSHAKE_TIMEOUT: { wire: 43, retryable: true, message: 'handshake did not finish in time' },
  HANDSHAKE_FAILED: { wire: 44, retryable: false, message: 'handshake failed' },
  HANDSHAKE_BUSY: { wire: 45, retryable: true, message: 'too many handshakes in progress' },
  QUEUE_FULL: { wire: 46, retryable: true, message: 'outbound queue is full' },
  SLOW_CONSUMER: { wire: 47, retryable: false, message: 'a subscriber fell behind and was cut off' },
  INTERNAL: { wire: 49, retryable: false, message: 'internal error' },
  AUTH_FAILED: {
    wire: 50,
    retryable: false,
    message: 'the peer did not prove the shared secret, cookie or password',
  },
  PEER_NOT_ALLOWED: { wire: 51, retryable: false, message: 'public key not in the allow-list' },
  // --- typed contracts (docs/contracts.md) ---
  INPUT_INVALID: { wire: 52, retryable: false, message: "the input failed the method's schema" },
  OUTPUT_INVALID: { wire: 53, retryable: false, message: "the handler's result failed the method's schema" },
  PUBLISH_TIMEOUT: {
    wire: 54,
    retryable: false,
    message: "a 'block' subscriber took no event within publishTimeout; its subscription ended",
  },
  // --- the daemon (docs/daemon.md) ---
  NOT_PERMITTED: {
    wire: 55,
    retryable: false,
    message: "the daemon's policy does not let this principal do that",
  },
  DAEMON_LIMIT: { wire: 56, retryable: false, message: 'a daemon limit was reached' },
  LEASE_UNKNOWN: {
    wire: 57,
    retryable: false,
    message: 'the daemon holds no lease for this instance (it expired, or the daemon restarted)',
  },
  // --- local only: never on the wire ---
  ADDRESS_INVALID: { wire: 0, retryable: false, message: 'address could not be parsed' },
  SCHEME_UNSUPPORTED: { wire: 0, retryable: false, message: 'address scheme not supported' },
  PEER_NAME_UNSUPPORTED: { wire: 0, retryable: false, message: 'sb: names need a joined peer' },
  ADDRESS_IN_USE: { wire: 0, retryable: false, message: 'a live listener already owns this address' },
  NOT_A_SOCKET: { wire: 0, retryable: false, message: 'a non-socket file is at this path' },
  INSECURE_TRANSPORT: { wire: 0, retryable: false, message: 'transport needs security' },
  CONNECT_FAILED: { wire: 0, retryable: true, message: 'could not connect' },
  TRANSPORT_ERROR: { wire: 0, retryable: true, message: 'transport failed' },
  LISTEN_FAILED: { wire: 0, retryable: false, message: 'could not listen on this address' },
  INVALID_ARGUMENT: { wire: 0, retryable: false, message: 'invalid argument' },
  KEY_FILE_INSECURE: { wire: 0, retryable: false, message: 'key file readable by group or others' },
  KEY_FILE_INVALID: { wire: 0, retryable: false, message: 'key file could not be read or parsed' },
  // --- names (peer/, discovery/): local only ---
  PEER_NOT_FOUND: { wire: 0, retryable: true, message: 'no live peer has this name' },
  NO_PORT_AVAILABLE: { wire: 0, retryable: false, message: 'every allowed port is taken' },
  PROTOCOL_UNSUPPORTED: {
    wire: 0,
    retryable: false,
    message: 'the peer does not offer this protocol, or offers another major version',
  },
  METHOD_NOT_OFFERED: {
    wire: 0,
    retryable: false,
    message: "the peer's version of the protocol lacks this method or event",
  },
  EVENT_INVALID: { wire: 0, retryable: false, message: 'an event failed its schema and was dropped' },
  // --- delivery (link/): local only ---
  OUTCOME_UNKNOWN: {
    wire: 0,
    retryable: false,
    message: 'connection lost after the message was written; it may or may not have run',
  },
  NOT_CONNECTED: {
    wire: 0,
    retryable: true,
    message: 'no connection is up (a one-shot message, or a joined peer that left); it was not sent',
  },
  ORDER_BROKEN: {
    wire: 0,
    retryable: false,
    message: 'an ordered message before this one failed, so this one was not sent',
  },
} as const satisfies Record<string, CodeInfo>

export type ErrorCode = keyof typeof ErrorCodes

const byWire = new Map<number, ErrorCode>()
for (const [code, info] of Object.entries(ErrorCodes) as [ErrorCode, CodeInfo][]) {
  if (info.wire !== 0) byWire.set(info.wire, code)
}

/** The numeric wire code for `code` (0 when it never crosses the wire). */
export function wireCodeOf(code: ErrorCode): number {
  return ErrorCodes[code].wire
}

/** The string code for a numeric wire code; unknown numbers (from a newer peer) map to PROTOCOL_ERROR's sibling INTERNAL. */
export function codeFromWire(wire: number): ErrorCode {
  return byWire.get(wire) ?? 'INTERNAL'
}

const brand = Symbol.for('switchboard.error')

export interface SwitchboardErrorOptions {
  cause?: unknown
  /** Free-form, JSON-safe details (never secrets). */
  details?: Record<string, unknown>
}

/** The one error class. `instanceof` works across two copies of the package (Symbol.for brand). */
export class SwitchboardError extends Error {
  readonly code: ErrorCode
  readonly details: Record<string, unknown> | undefined

  constructor(code: ErrorCode, message?: string, options: SwitchboardErrorOptions = {}) {
    super(message ?? ErrorCodes[code].message, options.cause === undefined ? {} : { cause: options.cause })
    this.name = 'SwitchboardError'
    this.code = code
    this.details = options.details
  }

  get wireCode(): number {
    return ErrorCodes[this.code].wire
  }

  get retryable(): boolean {
    return ErrorCodes[this.code].retryable
  }

  get [brand](): true {
    return true
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true
  }
}

/** True when `err` is a SwitchboardError, optionally with the given code. */
export function isSwitchboardError(err: unknown, code?: ErrorCode): err is SwitchboardError {
  return err instanceof SwitchboardError && (code === undefined || err.code === code)
}

/** Shorthand used throughout the library. */
export function sbError(
  code: ErrorCode,
  message?: string,
  options?: SwitchboardErrorOptions,
): SwitchboardError {
  return new SwitchboardError(code, message, options)
}

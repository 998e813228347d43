/**
 * Options of a HandshakeState, their limits, what a finished handshake yields, and the checks
 * run at construction (every misuse is INVALID_ARGUMENT before any crypto runs).
 */
import { sbError } from '../../errors.ts'
import { MAX_HANDSHAKE_UNIT_BYTES } from '../../wire/handshake-unit.ts'
import { DHLEN, type KeyPair } from '../crypto.ts'
import type { CipherState } from './cipher-state.ts'
import type { HandshakePattern, Token } from './patterns.ts'

/** Largest handshake message, in bytes, either way (Noise allows 65535; switchboard needs far less): the wire's unit limit. */
export const MAX_HANDSHAKE_MESSAGE_BYTES = MAX_HANDSHAKE_UNIT_BYTES
/** The one cipher suite: X25519, ChaCha20-Poly1305, SHA-256. */
export const NOISE_SUITE = '25519_ChaChaPoly_SHA256'
/** Bytes of a pre-shared key. */
export const PSK_BYTES = 32

export interface HandshakeOptions {
  /** Pattern name with modifiers: `NN`, `NNpsk0`, `XX`, `XXpsk3`, `IK`, `NK`, ... (patterns.ts). */
  readonly pattern: string
  /** True for the side that sends the first message. */
  readonly initiator: boolean
  /** Bytes both sides must agree on; mixed into h first (default: empty). */
  readonly prologue?: Uint8Array
  /** Our static key pair `s`, required when the pattern sends or pre-knows it. */
  readonly staticKeyPair?: KeyPair
  /** The peer's static public key `rs`, required when the pattern has it as a pre-message. */
  readonly remoteStaticKey?: Uint8Array
  /** The peer's ephemeral public key `re`, for patterns with an `e` pre-message. */
  readonly remoteEphemeralKey?: Uint8Array
  /** Pre-shared keys (32 bytes each), one per `psk` token, in token order. */
  readonly psks?: readonly Uint8Array[]
  /**
   * Fixed ephemeral private key instead of a fresh one (known-answer tests; patterns with an `e`
   * pre-message). The public key is derived through the provider.
   */
  readonly ephemeralPrivateKey?: Uint8Array
  /** Largest message written or read, in bytes (default MAX_HANDSHAKE_MESSAGE_BYTES). */
  readonly maxMessageBytes?: number
}

/** `write`/`read`: whose turn it is; `done` after the last message; `failed` after any error. */
export type HandshakeStatus = 'write' | 'read' | 'done' | 'failed'

/** What a finished handshake yields. */
export interface HandshakeResult {
  /** CipherState for what this side sends (c1 for the initiator, c2 for the responder). */
  readonly send: CipherState
  /** CipherState for what this side receives. */
  readonly receive: CipherState
  /** GetHandshakeHash(): h after the last message, for channel binding. */
  readonly handshakeHash: Uint8Array
  /** The peer's static public key when the pattern has one. */
  readonly remoteStaticKey: Uint8Array | undefined
}

function checkKey(key: Uint8Array | undefined, what: string): void {
  if (key !== undefined && key.length !== DHLEN) {
    throw sbError('INVALID_ARGUMENT', `${what} must be ${DHLEN} bytes, got ${key.length}`)
  }
}

/** Checks options against the pattern; INVALID_ARGUMENT on the first problem. */
export function validateOptions(p: HandshakePattern, options: HandshakeOptions): void {
  const initiator = options.initiator
  const psks = options.psks ?? []
  const maxBytes = options.maxMessageBytes ?? MAX_HANDSHAKE_MESSAGE_BYTES
  const ours = initiator ? p.initiatorPreMessage : p.responderPreMessage
  const theirs = initiator ? p.responderPreMessage : p.initiatorPreMessage
  const sends = (initiatorSide: boolean, token: Token) =>
    p.messages.some((m, i) => i % 2 === (initiatorSide ? 0 : 1) && m.includes(token))
  checkKey(options.staticKeyPair?.publicKey, 'static public key')
  checkKey(options.staticKeyPair?.privateKey, 'static private key')
  checkKey(options.remoteStaticKey, 'remote static key')
  checkKey(options.remoteEphemeralKey, 'remote ephemeral key')
  checkKey(options.ephemeralPrivateKey, 'ephemeral private key')
  if (options.staticKeyPair === undefined && (ours.includes('s') || sends(initiator, 's'))) {
    throw sbError('INVALID_ARGUMENT', `${p.name} needs staticKeyPair`)
  }
  if (options.remoteStaticKey !== undefined && sends(!initiator, 's')) {
    throw sbError('INVALID_ARGUMENT', `${p.name} sends the remote static key; do not pass remoteStaticKey`)
  }
  if (options.remoteStaticKey === undefined && theirs.includes('s')) {
    throw sbError('INVALID_ARGUMENT', `${p.name} needs remoteStaticKey`)
  }
  const pskCount = p.messages.reduce((n, m) => n + m.filter((t) => t === 'psk').length, 0)
  if (psks.length !== pskCount) {
    throw sbError('INVALID_ARGUMENT', `${p.name} takes ${pskCount} psks, got ${psks.length}`)
  }
  for (const psk of psks) {
    if (psk.length !== PSK_BYTES) throw sbError('INVALID_ARGUMENT', `a psk must be ${PSK_BYTES} bytes`)
  }
  if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > 65535) {
    throw sbError('INVALID_ARGUMENT', 'maxMessageBytes must be an integer in 1..65535')
  }
}

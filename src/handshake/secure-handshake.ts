/**
 * The security handshake of one connection, sans I/O (docs/protocol.md §6): drives a Noise
 * HandshakeState for the negotiated mode, checks the peer's static key against the allow
 * decision, and adds one key-confirmation message so that both sides learn the outcome:
 *
 *   the side that reads the last Noise message answers with an AEAD of the empty string under
 *   its new sending key (16 bytes); the side that wrote the last Noise message waits for it.
 *
 * So `connect()` resolves only once the listener has accepted the dialer's key (XX), and a
 * listener only opens records once the dialer has proven the secret and accepted the listener
 * (NNpsk0). Every failure is a coded error the session sends to the peer as a refusal:
 * AUTH_FAILED (a psk mode whose message failed authentication: wrong secret, or tampering),
 * PEER_NOT_ALLOWED (allow said no, or the listener's key is not the one the dialer pinned),
 * HANDSHAKE_FAILED (anything else: tampering, a low-order key, a malformed message; in IK and NK
 * also a listener that does not hold the key the dialer was given, which it cannot tell from
 * tampering). In NK the dialer has no static key, so there is nothing for allow() to decide.
 */
import { isSwitchboardError, type SwitchboardError, sbError } from '../errors.ts'
import type { CryptoProvider, KeyPair } from './crypto.ts'
import { HandshakeState } from './noise/handshake-state.ts'
import { defaultRekeyThresholds, RekeyingCipher, type RekeyThresholds } from './record-protection.ts'
import { type SecurityMode, securityMode } from './security-modes.ts'

export interface SecureHandshakeConfig {
  /** The 32-byte shared secret, for psk modes. */
  readonly psk?: Uint8Array | undefined
  /** Our static key pair, for key modes. */
  readonly staticKeyPair?: KeyPair | undefined
  /** Decides whether the peer's static public key may connect (key modes). */
  readonly allow?: ((peerKey: Uint8Array) => boolean) | undefined
  /** The dialer's knowledge of the listener's static public key (IK, NK); pinned, so allowed. */
  readonly listenerKey?: Uint8Array | undefined
  /** Rekey thresholds of the record ciphers (tests lower them). */
  readonly rekey?: RekeyThresholds | undefined
}

/** What a finished handshake gives the record layer and the user. */
export interface SecureResult {
  readonly send: RekeyingCipher
  readonly receive: RekeyingCipher
  /** Noise GetHandshakeHash(): identical on both sides, unique per connection (channel binding). */
  readonly handshakeHash: Uint8Array
  /** The peer's static public key in key modes. */
  readonly remoteStaticKey: Uint8Array | undefined
}

type Phase = 'noise' | 'confirm' | 'done' | 'failed'

export class SecureHandshake {
  readonly mode: SecurityMode
  readonly #noise: HandshakeState
  readonly #config: SecureHandshakeConfig
  readonly #initiator: boolean
  #phase: Phase = 'noise'
  #result: SecureResult | undefined
  #allowChecked = false

  constructor(
    crypto: CryptoProvider,
    modeName: string,
    initiator: boolean,
    prologue: Uint8Array,
    config: SecureHandshakeConfig,
  ) {
    const mode = securityMode(modeName)
    if (mode === undefined) throw sbError('NEGOTIATION_FAILED', `unknown security mode ${modeName}`)
    if (mode.psk && config.psk === undefined) throw sbError('INVALID_ARGUMENT', `${modeName} needs a secret`)
    // NK: the listener holds a key pair and the dialer none; the other key modes need one each.
    const ownKey = mode.keys || (mode.anonymousDialer && !initiator)
    if (ownKey && config.staticKeyPair === undefined)
      throw sbError('INVALID_ARGUMENT', `${modeName} needs a key pair`)
    const pinned = mode.knownListenerKey && initiator
    if (pinned && config.listenerKey === undefined)
      throw sbError('INVALID_ARGUMENT', `${modeName} needs the listener's public key`)
    this.mode = mode
    this.#config = config
    this.#initiator = initiator
    this.#noise = new HandshakeState(crypto, {
      pattern: mode.pattern,
      initiator,
      prologue,
      ...(ownKey ? { staticKeyPair: config.staticKeyPair! } : {}),
      ...(pinned ? { remoteStaticKey: config.listenerKey! } : {}),
      ...(mode.psk ? { psks: [config.psk!] } : {}),
    })
  }

  get done(): boolean {
    return this.#phase === 'done'
  }

  get result(): SecureResult {
    if (this.#result === undefined) throw sbError('INTERNAL', `secure handshake is ${this.#phase}`)
    return this.#result
  }

  /** Messages to send first: the initiator's first Noise message, nothing for the responder. */
  start(): Uint8Array[] {
    return this.#noise.status === 'write' ? this.#step(() => [this.#noise.writeMessage()]) : []
  }

  /** Processes one received unit (a Noise message or the confirmation); returns messages to send. */
  receive(message: Uint8Array): Uint8Array[] {
    if (this.#phase === 'confirm') return this.#step(() => this.#readConfirmation(message))
    if (this.#phase !== 'noise') throw sbError('PROTOCOL_ERROR', `handshake message while ${this.#phase}`)
    return this.#step(() => {
      this.#noise.readMessage(message)
      this.#checkAllowed()
      if (this.#noise.status === 'write') {
        const next = this.#noise.writeMessage()
        // TypeScript narrowed status to 'write' above; writeMessage moved it on.
        if ((this.#noise.status as string) === 'done') this.#finish('confirm')
        return [next]
      }
      // We read the last Noise message: confirm with our first transport message.
      const result = this.#finish('done')
      return [result.send.seal(new Uint8Array(0))]
    })
  }

  #step(run: () => Uint8Array[]): Uint8Array[] {
    try {
      return run()
    } catch (err) {
      this.#phase = 'failed'
      this.#result?.send.destroy()
      this.#result?.receive.destroy()
      throw this.#coded(err)
    }
  }

  #readConfirmation(message: Uint8Array): Uint8Array[] {
    try {
      this.#result!.receive.open(message)
    } catch (err) {
      throw sbError(
        this.mode.psk ? 'AUTH_FAILED' : 'HANDSHAKE_FAILED',
        'the key confirmation failed authentication',
        { cause: err },
      )
    }
    this.#phase = 'done'
    return []
  }

  /** Once the peer's static key is known, asks allow() exactly once. */
  #checkAllowed(): void {
    if (!this.mode.keys || this.#allowChecked) return
    const key = this.#noise.remoteStaticKey
    if (key === undefined) return
    this.#allowChecked = true
    // A dialer given the listener's key accepts that key and no other; otherwise allow() decides.
    const pinned = this.#initiator ? this.#config.listenerKey : undefined
    let ok = false
    try {
      ok = pinned !== undefined ? isPinned(pinned, key) : this.#config.allow?.(key) === true
    } catch (err) {
      throw sbError('PEER_NOT_ALLOWED', 'the allow callback threw', { cause: err })
    }
    if (!ok) {
      throw sbError(
        'PEER_NOT_ALLOWED',
        pinned !== undefined
          ? "the listener's public key is not the serverKey we were given"
          : "the peer's public key is not in the allow list",
      )
    }
  }

  #finish(phase: 'confirm' | 'done'): SecureResult {
    const r = this.#noise.result
    const thresholds = this.#config.rekey ?? defaultRekeyThresholds
    this.#result = {
      send: new RekeyingCipher(r.send, thresholds),
      receive: new RekeyingCipher(r.receive, thresholds),
      handshakeHash: r.handshakeHash,
      remoteStaticKey: r.remoteStaticKey,
    }
    this.#phase = phase
    return this.#result
  }

  #coded(err: unknown): SwitchboardError {
    if (isSwitchboardError(err, 'HANDSHAKE_FAILED') && this.mode.psk && authFailure(err)) {
      return sbError('AUTH_FAILED', 'the peer does not hold the same secret (or the handshake was altered)', {
        cause: err,
      })
    }
    if (isSwitchboardError(err)) return err
    return sbError('HANDSHAKE_FAILED', 'handshake failed', { cause: err })
  }
}

/** True when `key` is the listener key the dialer was given (compared without early exit). */
function isPinned(pinned: Uint8Array, key: Uint8Array): boolean {
  if (pinned.length !== key.length) return false
  let diff = 0
  for (let i = 0; i < key.length; i++) diff |= pinned[i]! ^ key[i]!
  return diff === 0
}

/** True when a HANDSHAKE_FAILED came from an AEAD authentication failure. */
function authFailure(err: SwitchboardError): boolean {
  return isSwitchboardError(err.cause, 'INTEGRITY')
}

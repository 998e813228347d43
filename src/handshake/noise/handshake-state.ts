/**
 * HandshakeState (Noise rev 34, §5.3): a generic interpreter of handshake patterns for the suite
 * 25519_ChaChaPoly_SHA256. `writeMessage`/`readMessage` walk the tokens of the next message
 * pattern exactly as the spec's WriteMessage/ReadMessage do, including the psk rule of §9.2
 * (in a psk handshake every `e`, pre-messages too, also calls MixKey(e.public_key)).
 *
 * Nothing a peer sends can crash it: a message longer than `maxMessageBytes`, shorter than its
 * tokens need, failing authentication or carrying a low-order key throws HANDSHAKE_FAILED (the
 * cause says which), and the state is then `failed` for good. Misuse by the caller (a wrong key
 * length, writing out of turn) throws INVALID_ARGUMENT.
 */
import { isSwitchboardError, type SwitchboardError, sbError } from '../../errors.ts'
import { type CryptoProvider, copyBytes, DHLEN, type KeyPair, TAGLEN } from '../crypto.ts'
import {
  type HandshakeOptions,
  type HandshakeResult,
  type HandshakeStatus,
  MAX_HANDSHAKE_MESSAGE_BYTES,
  NOISE_SUITE,
  validateOptions,
} from './handshake-options.ts'
import { type HandshakePattern, type PreToken, resolvePattern, type Token } from './patterns.ts'
import { SymmetricState } from './symmetric-state.ts'

export type { HandshakeOptions, HandshakeResult, HandshakeStatus } from './handshake-options.ts'
export { MAX_HANDSHAKE_MESSAGE_BYTES, NOISE_SUITE, PSK_BYTES } from './handshake-options.ts'

const EMPTY = new Uint8Array(0)

/** DH tokens name the initiator's key first: `es` is DH(initiator's e, responder's s). */
const DH_KEYS = {
  ee: ['e', 'e'],
  es: ['e', 's'],
  se: ['s', 'e'],
  ss: ['s', 's'],
} as const satisfies Record<Exclude<Token, 'e' | 's' | 'psk'>, readonly [PreToken, PreToken]>

const ALLOWED_FROM: Record<HandshakeStatus, readonly HandshakeStatus[]> = {
  write: ['read'],
  read: ['write'],
  done: ['write', 'read'],
  failed: ['write', 'read'],
}

function copy(bytes: Uint8Array | undefined): Uint8Array | undefined {
  return bytes === undefined ? undefined : copyBytes(bytes)
}

export class HandshakeState {
  /** The full protocol name, e.g. `Noise_XXpsk3_25519_ChaChaPoly_SHA256`. */
  readonly protocolName: string
  readonly #crypto: CryptoProvider
  readonly #pattern: HandshakePattern
  readonly #initiator: boolean
  readonly #ss: SymmetricState
  readonly #maxBytes: number
  readonly #psks: readonly Uint8Array[]
  #s: KeyPair | undefined
  #e: KeyPair | undefined
  #rs: Uint8Array | undefined
  #re: Uint8Array | undefined
  #status: HandshakeStatus
  #messageIndex = 0
  #pskIndex = 0
  #result: HandshakeResult | undefined

  /** Initialize(handshake_pattern, initiator, prologue, s, e, rs, re) with psks (§5.3, §9). */
  constructor(crypto: CryptoProvider, options: HandshakeOptions) {
    const pattern = resolvePattern(options.pattern)
    this.#crypto = crypto
    this.#pattern = pattern
    this.#initiator = options.initiator
    this.#maxBytes = options.maxMessageBytes ?? MAX_HANDSHAKE_MESSAGE_BYTES
    this.#psks = options.psks ?? []
    this.#s = options.staticKeyPair
    this.#rs = copy(options.remoteStaticKey)
    this.#re = copy(options.remoteEphemeralKey)
    validateOptions(pattern, options)
    if (options.ephemeralPrivateKey !== undefined) {
      const privateKey = copyBytes(options.ephemeralPrivateKey)
      this.#e = { publicKey: crypto.publicKeyFromPrivate(privateKey), privateKey }
    }
    this.protocolName = `Noise_${pattern.name}_${NOISE_SUITE}`
    this.#ss = new SymmetricState(crypto, this.protocolName)
    this.#ss.mixHash(options.prologue ?? EMPTY)
    this.#mixPreMessage(pattern.initiatorPreMessage, this.#initiator)
    this.#mixPreMessage(pattern.responderPreMessage, !this.#initiator)
    this.#status = this.#initiator ? 'write' : 'read'
  }

  /** Whose turn it is, or how the handshake ended. */
  get status(): HandshakeStatus {
    return this.#status
  }

  /** The peer's static public key once known (pre-message or received `s`): check it against an allow-list. */
  get remoteStaticKey(): Uint8Array | undefined {
    return this.#rs
  }

  /** The split cipher states and handshake hash; throws INVALID_ARGUMENT before `done`. */
  get result(): HandshakeResult {
    if (this.#result === undefined) throw sbError('INVALID_ARGUMENT', `handshake is ${this.#status}`)
    return this.#result
  }

  /** WriteMessage(payload, message_buffer): the next handshake message, carrying `payload`. */
  writeMessage(payload: Uint8Array = EMPTY): Uint8Array {
    if (this.#status !== 'write')
      throw sbError('INVALID_ARGUMENT', `cannot write: handshake is ${this.#status}`)
    const tokens = this.#pattern.messages[this.#messageIndex]!
    const size = this.#messageSize(tokens, payload.length)
    if (size > this.#maxBytes) {
      throw sbError('INVALID_ARGUMENT', `handshake message would be ${size} bytes, over ${this.#maxBytes}`)
    }
    const out = new Uint8Array(size)
    let at = 0
    try {
      for (const token of tokens) {
        if (token === 'e') {
          this.#e ??= this.#crypto.generateKeyPair()
          out.set(this.#e.publicKey, at)
          at += DHLEN
          this.#mixEphemeral(this.#e.publicKey)
        } else if (token === 's') {
          const field = this.#ss.encryptAndHash(this.#s!.publicKey)
          out.set(field, at)
          at += field.length
        } else {
          this.#mixToken(token)
        }
      }
      out.set(this.#ss.encryptAndHash(payload), at)
    } catch (err) {
      throw this.#fail(err)
    }
    this.#advance()
    return out
  }

  /** ReadMessage(message, payload_buffer): processes a peer message and returns its payload. */
  readMessage(message: Uint8Array): Uint8Array {
    if (this.#status !== 'read')
      throw sbError('INVALID_ARGUMENT', `cannot read: handshake is ${this.#status}`)
    try {
      if (message.length > this.#maxBytes) {
        throw sbError(
          'HANDSHAKE_FAILED',
          `handshake message of ${message.length} bytes, over ${this.#maxBytes}`,
        )
      }
      const tokens = this.#pattern.messages[this.#messageIndex]!
      const need = this.#messageSize(tokens, 0)
      if (message.length < need) {
        throw sbError('HANDSHAKE_FAILED', `handshake message of ${message.length} bytes, needs ${need}`)
      }
      let at = 0
      for (const token of tokens) {
        if (token === 'e') {
          this.#re = copyBytes(message.subarray(at, at + DHLEN))
          at += DHLEN
          this.#mixEphemeral(this.#re)
        } else if (token === 's') {
          const len = this.#ss.hasKey() ? DHLEN + TAGLEN : DHLEN
          this.#rs = copyBytes(this.#ss.decryptAndHash(message.subarray(at, at + len)))
          at += len
        } else {
          this.#mixToken(token)
        }
      }
      const payload = this.#ss.decryptAndHash(message.subarray(at))
      this.#advance()
      return payload
    } catch (err) {
      throw this.#fail(err)
    }
  }

  /** Exact bytes of the next message for a payload of `payloadLength`, tracking when k gets set. */
  #messageSize(tokens: readonly Token[], payloadLength: number): number {
    let keyed = this.#ss.hasKey()
    let size = 0
    for (const token of tokens) {
      if (token === 'e') {
        size += DHLEN
        if (this.#pattern.hasPsk) keyed = true
      } else if (token === 's') {
        size += keyed ? DHLEN + TAGLEN : DHLEN
      } else {
        keyed = true
      }
    }
    return size + payloadLength + (keyed ? TAGLEN : 0)
  }

  #mixEphemeral(publicKey: Uint8Array): void {
    this.#ss.mixHash(publicKey)
    if (this.#pattern.hasPsk) this.#ss.mixKey(publicKey)
  }

  /** The DH and psk tokens: MixKey(DH(...)) or MixKeyAndHash(psk). */
  #mixToken(token: Exclude<Token, 'e' | 's'>): void {
    if (token === 'psk') {
      this.#ss.mixKeyAndHash(this.#psks[this.#pskIndex++]!)
      return
    }
    const [initiatorKey, responderKey] = DH_KEYS[token]
    const mine = this.#initiator ? initiatorKey : responderKey
    const theirs = this.#initiator ? responderKey : initiatorKey
    const local = mine === 'e' ? this.#e : this.#s
    const remote = theirs === 'e' ? this.#re : this.#rs
    if (local === undefined || remote === undefined) {
      throw sbError('INTERNAL', `token ${token} before its keys are known`)
    }
    const shared = this.#crypto.dh(local.privateKey, remote)
    this.#ss.mixKey(shared)
    shared.fill(0)
  }

  #mixPreMessage(tokens: readonly PreToken[], mine: boolean): void {
    for (const token of tokens) {
      const key = mine ? (token === 'e' ? this.#e : this.#s)?.publicKey : token === 'e' ? this.#re : this.#rs
      if (key === undefined) {
        throw sbError(
          'INVALID_ARGUMENT',
          `${this.#pattern.name} needs ${mine ? 'our' : 'the remote'} ${token} first`,
        )
      }
      if (token === 'e') this.#mixEphemeral(key)
      else this.#ss.mixHash(key)
    }
  }

  #advance(): void {
    this.#messageIndex++
    if (this.#messageIndex < this.#pattern.messages.length) {
      this.#transition(this.#status === 'write' ? 'read' : 'write')
      return
    }
    const [c1, c2] = this.#ss.split()
    this.#result = {
      send: this.#initiator ? c1 : c2,
      receive: this.#initiator ? c2 : c1,
      handshakeHash: this.#ss.getHandshakeHash(),
      remoteStaticKey: this.#rs,
    }
    this.#wipeEphemeral()
    this.#transition('done')
  }

  #fail(err: unknown): SwitchboardError {
    if (this.#status !== 'failed') this.#transition('failed')
    this.#ss.destroy()
    this.#wipeEphemeral()
    if (isSwitchboardError(err, 'HANDSHAKE_FAILED') || isSwitchboardError(err, 'INVALID_ARGUMENT')) return err
    const reason = isSwitchboardError(err, 'INTEGRITY')
      ? 'a handshake message failed authentication'
      : 'handshake failed'
    return sbError('HANDSHAKE_FAILED', reason, { cause: err })
  }

  #wipeEphemeral(): void {
    this.#e?.privateKey.fill(0)
    this.#e = undefined
  }

  #transition(to: HandshakeStatus): void {
    if (!ALLOWED_FROM[to].includes(this.#status)) {
      throw sbError('INTERNAL', `handshake cannot go from ${this.#status} to ${to}`)
    }
    this.#status = to
  }
}

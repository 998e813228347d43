/**
 * A connection's establishment, without I/O (STYLE.md practice 1): preamble, hello exchange and,
 * when security was agreed, the Noise handshake. Bytes go in (`receive`, from the session's one
 * UnitReader); bytes to write come out; when it is done, `result` holds what the record layer
 * needs. It reads no clock and touches no socket, so a test can drive both ends byte by byte.
 *
 *   preamble ──▶ hello ──(security none)──────────────────────▶ done
 *                  └──(a Noise mode)──▶ noise ──(last message)──▶ done
 *   any ──(bad bytes, a refusal from the peer)──▶ a thrown SwitchboardError
 */
import { codeFromWire, type ErrorCode, type SwitchboardError, sbError } from '../errors.ts'
import { type Agreement, negotiate } from '../handshake/negotiate.ts'
import { SecureHandshake, type SecureHandshakeConfig } from '../handshake/secure-handshake.ts'
import { SECURITY_NONE } from '../handshake/security-modes.ts'
import { identityCipher, type RecordCipher } from '../wire/cipher.ts'
import { PREAMBLE_BYTES, PROTOCOL_MAJOR, PROTOCOL_MINOR } from '../wire/constants.ts'
import {
  frameHandshakeUnit,
  HANDSHAKE_UNIT_HEADER_BYTES,
  HELLO_HEADER_BYTES,
  MAX_HANDSHAKE_UNIT_BYTES,
} from '../wire/handshake-unit.ts'
import {
  decodeHello,
  decodePreamble,
  encodeHello,
  encodePreamble,
  frameHello,
  type Hello,
} from '../wire/hello.ts'
import type { UnitReader } from '../wire/unit-reader.ts'
import { helloTranscriptSha256 } from './clock-and-hash.ts'
import { nodeCryptoProvider } from './node-crypto.ts'

export type EstablishmentState = 'preamble' | 'hello' | 'noise' | 'done'

/** What the records need once the establishment is done. */
export interface Established {
  agreement: Agreement
  /** SHA-256 of both hellos (the Noise prologue). */
  transcript: Uint8Array
  send: RecordCipher
  receive: RecordCipher
  /** After a Noise handshake: its hash (channel binding); undefined without one. */
  handshakeHash: Uint8Array | undefined
  /** In keys mode: the peer's static public key. */
  remotePublicKey: Uint8Array | undefined
}

export interface EstablishmentOptions {
  role: 'dialer' | 'listener'
  hello: Hello
  maxHelloBytes: number
  /** The Noise configuration (keys, secret, allow list, rekey thresholds) if security is offered. */
  secure: SecureHandshakeConfig
}

/** The moves the establishment may make (security none goes from the hello straight to done). */
const moves: Record<EstablishmentState, readonly EstablishmentState[]> = {
  preamble: ['hello'],
  hello: ['noise', 'done'],
  noise: ['done'],
  done: [],
}

export class Establishment {
  private current: EstablishmentState = 'preamble'
  private readonly opts: EstablishmentOptions
  private readonly helloBytes: Uint8Array
  private agreement: Agreement | undefined
  private transcript: Uint8Array | undefined
  private secure: SecureHandshake | undefined
  private done: Established | undefined
  /** The peer refused us: the session must not send a refusal back. */
  refusedByPeer = false

  constructor(opts: EstablishmentOptions) {
    this.opts = opts
    this.helloBytes = encodeHello(opts.hello)
  }

  get state(): EstablishmentState {
    return this.current
  }

  /** Moves one step along the path (see `moves`); anything else is a bug. */
  private advance(to: EstablishmentState): void {
    if (!moves[this.current].includes(to)) {
      throw sbError('INTERNAL', `establishment cannot go from ${this.current} to ${to}`)
    }
    this.current = to
  }

  /** Our first bytes: the preamble and our hello. */
  start(): Uint8Array[] {
    return [encodePreamble({ major: PROTOCOL_MAJOR, minor: PROTOCOL_MINOR }), frameHello(this.helloBytes)]
  }

  /** The result, once `state` is 'done'. */
  get result(): Established {
    if (this.done === undefined) throw sbError('INTERNAL', 'the establishment is not done')
    return this.done
  }

  /** True once a Noise handshake is under way (a failure then owes the peer a refusal). */
  get inNoise(): boolean {
    return this.current === 'noise'
  }

  /**
   * Takes what it can from `reader`; returns the bytes to write (possibly none). Throws a coded
   * error for bad bytes or a refusal the peer sent instead of its hello or a handshake message.
   */
  receive(reader: UnitReader): Uint8Array[] {
    const out: Uint8Array[] = []
    if (this.current === 'preamble') {
      const preamble = reader.take(PREAMBLE_BYTES)
      if (preamble === undefined) return out
      decodePreamble(preamble)
      this.advance('hello')
    }
    if (this.current === 'hello') {
      const body = reader.takeUnitOrRefusal(HELLO_HEADER_BYTES, this.opts.maxHelloBytes, 'HELLO_TOO_LARGE')
      if (body === undefined) return out
      if (!(body instanceof Uint8Array)) throw this.refused(body.refusal)
      this.acceptHello(body, out)
    }
    const secure = this.secure
    if (this.current !== 'noise' || secure === undefined) return out
    while (!secure.done) {
      const unit = reader.takeUnitOrRefusal(
        HANDSHAKE_UNIT_HEADER_BYTES,
        MAX_HANDSHAKE_UNIT_BYTES,
        'FRAME_TOO_LARGE',
      )
      if (unit === undefined) return out
      if (!(unit instanceof Uint8Array)) throw this.refused(unit.refusal)
      for (const message of secure.receive(unit)) out.push(frameHandshakeUnit(message))
    }
    const r = secure.result
    this.finish(r.send, r.receive, r.handshakeHash, r.remoteStaticKey)
    return out
  }

  private acceptHello(body: Uint8Array, out: Uint8Array[]): void {
    const { role, hello } = this.opts
    const agreement = negotiate(hello, decodeHello(body))
    const [dialerHello, listenerHello] = role === 'dialer' ? [this.helloBytes, body] : [body, this.helloBytes]
    this.transcript = helloTranscriptSha256(dialerHello, listenerHello)
    this.agreement = agreement
    if (agreement.security === SECURITY_NONE) {
      this.finish(identityCipher, identityCipher, undefined, undefined)
      return
    }
    const config = role === 'dialer' ? this.opts.secure : { ...this.opts.secure, listenerKey: undefined }
    this.secure = new SecureHandshake(
      nodeCryptoProvider,
      agreement.security,
      role === 'dialer',
      this.transcript,
      config,
    )
    this.advance('noise')
    for (const message of this.secure.start()) out.push(frameHandshakeUnit(message))
  }

  private finish(
    send: RecordCipher,
    receive: RecordCipher,
    handshakeHash: Uint8Array | undefined,
    remotePublicKey: Uint8Array | undefined,
  ): void {
    this.done = {
      agreement: this.agreement!,
      transcript: this.transcript!,
      send,
      receive,
      handshakeHash,
      remotePublicKey,
    }
    this.advance('done')
  }

  /** The peer sent a refusal instead of a hello or handshake message: fail with its code. */
  private refused(wire: number): SwitchboardError {
    this.refusedByPeer = true
    const code = codeFromWire(wire)
    return sbError(code, `the peer refused the handshake: ${refusalReason(code)}`)
  }
}

function refusalReason(code: ErrorCode): string {
  switch (code) {
    case 'AUTH_FAILED':
      return 'the two ends do not hold the same secret (or the handshake was altered)'
    case 'PEER_NOT_ALLOWED':
      return 'our public key is not in its allow list'
    case 'HANDSHAKE_BUSY':
      return 'too many handshakes in progress; retry later'
    default:
      return code
  }
}

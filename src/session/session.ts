/**
 * The driver: binds the pure cores (hello negotiation, record packer/opener, Mux) to a transport
 * and timers.
 *
 *   handshaking ──hello agreed──▶ open ──close()──▶ closing ──idle or timeout──▶ closed
 *        │                         │                                             ▲
 *        └──────── error / abort / transport closed ────────────────────────────┘
 *
 * With security configured, the handshake state spans the hello exchange and the Noise handshake
 * (handshake/secure-handshake.ts) that follows it; records then travel as AEAD ciphertexts.
 *
 * Writes are batched: frames queued during one event-loop turn leave in one flush (setImmediate),
 * packed into as few records as fit and handed to the transport as one writev.
 */
import { randomBytes } from 'node:crypto'
import { type ErrorCode, SwitchboardError, sbError, wireCodeOf } from '../errors.ts'
import type { Agreement } from '../handshake/negotiate.ts'
import { channels, debug, publish } from '../internal/diagnostics.ts'
import type { Channel, OpenHeader } from '../mux/channel.ts'
import { limitsFromSettings, limitsToSettings, type MuxLimits } from '../mux/limits.ts'
import type { OutgoingMessage } from '../mux/messages.ts'
import { Mux, type MuxStats } from '../mux/mux.ts'
import { type Compressor, resolveCompressors } from '../record/compression.ts'
import { RecordOpener } from '../record/opener.ts'
import { RecordPacker } from '../record/packer.ts'
import type { Transport } from '../transport/types.ts'
import type { RecordCipher } from '../wire/cipher.ts'
import { MAX_RECORD_BODY, PROTOCOL_MAJOR, PROTOCOL_MINOR } from '../wire/constants.ts'
import type { CancelFrame, Frame, MsgFrame, OfferFrame, ReplyFrame } from '../wire/frame.ts'
import { encodeHandshakeRefusal, encodeHelloRefusal } from '../wire/handshake-unit.ts'
import { encodePreamble, type ProtocolOffer } from '../wire/hello.ts'
import { UnitReader } from '../wire/unit-reader.ts'
import { now } from './clock-and-hash.ts'
import { Establishment } from './establishment.ts'
import { type ResolvedSessionOptions, resolveSessionOptions, type SessionOptions } from './options.ts'
import { type ResolvedSecurity, resolveSecurity } from './security-options.ts'

const utf8 = new TextEncoder()

export type SessionState = 'handshaking' | 'open' | 'closing' | 'closed'

/** What the layer above (rpc/) handles. Given at construction so no frame arrives unhandled. */
export interface SessionHandler {
  /** The peer opened a channel: bind a ChannelHandler synchronously. */
  onChannel(ch: Channel): void
  /** A whole message arrived in one frame (views into the received record, never reused). */
  onMessage?(frame: MsgFrame): void
  /** A reply to one of our requests arrived. */
  onReply?(frame: ReplyFrame): void
  /** The peer gave up on a request. */
  onCancel?(messageId: number, code: number): void
  /** The peer interned a name under an id in its table. */
  onName?(id: number, name: string): void
  /** The peer now implements one more protocol (OFFER frame). */
  onOffer?(offer: ProtocolOffer): void
  /**
   * The peer is going away; our messages after its first `lastProcessed` were refused (their
   * channels reset, their MSG frames told through their callbacks) with GOING_AWAY.
   */
  onGoaway?(lastProcessed: number, code: ErrorCode): void
  /**
   * True while the layer above still has work on this session that no channel shows: requests
   * awaiting replies, or requests of the peer still being answered. A graceful close waits.
   */
  busy?(): boolean
  /** The session closed; `err` is undefined for a clean close. Called exactly once. */
  onClose?(err: SwitchboardError | undefined): void
  /** A flush finished: queued bytes went down (backpressure waiters may proceed). */
  onFlushed?(): void
}

export interface SessionStats extends MuxStats {
  state: SessionState
  /** Body bytes queued in channels plus bytes handed to the transport and not yet flushed. */
  queuedBytes: number
  bytesIn: number
  bytesOut: number
  recordsIn: number
  recordsOut: number
}

type Allowed = Record<SessionState, readonly SessionState[]>
const transitions: Allowed = {
  handshaking: ['open', 'closed'],
  open: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
}

export class Session {
  private current: SessionState = 'handshaking'
  readonly role: 'dialer' | 'listener'
  readonly transport: Transport
  /** Set once the hello exchange finished. */
  agreement: Agreement | undefined
  /** SHA-256 of both hellos (a security handshake's prologue). */
  transcript: Uint8Array | undefined
  readonly linkId: Uint8Array
  /**
   * After a Noise handshake: its handshake hash, the same on both ends and unique to this
   * connection, for channel binding (e.g. sign it to prove who is on this very session).
   */
  handshakeHash: Uint8Array | undefined
  /** In keys mode: the peer's static public key, as allow() accepted it. */
  remotePublicKey: Uint8Array | undefined
  /** The peer's receive limits as announced in its hello (bounded), once the hello is done. */
  remoteLimits: MuxLimits | undefined

  private readonly opts: ResolvedSessionOptions
  private readonly handler: SessionHandler
  private readonly compressors: Map<string, Compressor>
  private readonly security: ResolvedSecurity
  /** Preamble, hello and Noise, without I/O (establishment.ts); done once records flow. */
  private readonly establishment: Establishment
  private holdRecords = false
  private readonly reader = new UnitReader()
  private mux: Mux | undefined
  private packer: RecordPacker | undefined
  private opener: RecordOpener | undefined
  private flushScheduled = false
  private waitingDrain = false
  private ticker: NodeJS.Timeout | undefined
  private handshakeTimer: NodeJS.Timeout | undefined
  private closeTimer: NodeJS.Timeout | undefined
  private goawayReceived = false
  /** The code of the peer's GOAWAY: GOING_AWAY for a graceful close, else why it failed us. */
  private goawayCode: ErrorCode | undefined
  private bytesIn = 0
  private closeError: SwitchboardError | undefined
  private readonly ready: Promise<void>
  private resolveReady!: () => void
  private rejectReady!: (err: SwitchboardError) => void
  private readonly closedPromise: Promise<void>
  private resolveClosed!: () => void
  /** Resolves when the peer acknowledged our first SETTINGS: it has processed our hello. */
  private readonly confirmedPromise: Promise<void>
  private resolveConfirmed!: () => void
  private rejectConfirmed!: (err: SwitchboardError) => void

  private constructor(
    transport: Transport,
    role: 'dialer' | 'listener',
    options: SessionOptions,
    handler: SessionHandler,
    protocols: readonly ProtocolOffer[],
  ) {
    this.transport = transport
    this.role = role
    this.handler = handler
    this.opts = resolveSessionOptions(options)
    this.security = resolveSecurity(options)
    this.compressors = resolveCompressors(this.opts.compression)
    this.linkId = this.opts.linkId ?? new Uint8Array(randomBytes(16))
    this.establishment = new Establishment({
      role,
      hello: {
        versions: [PROTOCOL_MAJOR],
        role,
        linkId: this.linkId,
        codecs: this.opts.codecs,
        compression: [...this.compressors.keys()],
        security: this.security.offer[role],
        limits: limitsToSettings(this.opts.limits),
        protocols,
      },
      maxHelloBytes: this.opts.maxHelloBytes,
      secure: {
        ...this.security.config,
        rekey: { records: this.opts.rekeyAfterRecords, bytes: this.opts.rekeyAfterBytes },
      },
    })
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve
      this.rejectReady = reject
    })
    this.ready.catch(() => {}) // observed through establish(); never an unhandled rejection
    this.closedPromise = new Promise((resolve) => {
      this.resolveClosed = resolve
    })
    this.confirmedPromise = new Promise((resolve, reject) => {
      this.resolveConfirmed = resolve
      this.rejectConfirmed = reject
    })
    this.confirmedPromise.catch(() => {}) // observed through confirmed; never unhandled
  }

  /**
   * Runs the preamble and hello exchange over `transport` and resolves with an open session, or
   * rejects with a coded error (the transport is then closed).
   */
  static async establish(
    transport: Transport,
    role: 'dialer' | 'listener',
    options: SessionOptions,
    handler: SessionHandler,
    /** The protocols this side offers, for its hello (typed contracts, rpc/contract.ts). */
    protocols: readonly ProtocolOffer[] = [],
  ): Promise<Session> {
    const session = new Session(transport, role, options, handler, protocols)
    session.start()
    await session.ready
    return session
  }

  private start(): void {
    publish(channels.connect, { role: this.role, remote: this.transport.remote })
    this.handshakeTimer = setTimeout(
      () =>
        this.fail(
          sbError('HANDSHAKE_TIMEOUT', `handshake not finished within ${this.opts.handshakeTimeoutMs} ms`),
        ),
      this.opts.handshakeTimeoutMs,
    )
    this.transport.bind({
      data: (chunk) => this.onData(chunk),
      drain: () => this.onDrain(),
      close: (err) => this.onTransportClose(err),
    })
    this.transport.write(this.establishment.start())
  }

  /** Where the session is (read-only: it moves only through transition). */
  get state(): SessionState {
    return this.current
  }

  /** The one way the session changes state; a move its table does not allow is refused (false). */
  private transition(to: SessionState): boolean {
    if (!transitions[this.current].includes(to)) {
      debug('%s session: no move from %s to %s', this.role, this.current, to)
      return false
    }
    debug('%s session: %s → %s', this.role, this.current, to)
    this.current = to
    return true
  }

  // ---- receiving ----------------------------------------------------------------------------

  /**
   * Records that arrive with the end of the handshake (the same chunk) wait one macrotask: the
   * layer above gets the session from establish() only after `ready` resolved, so a channel it
   * opened must not reach its handler before then.
   */
  private releaseRecords(): void {
    this.holdRecords = true
    setImmediate(() => {
      this.holdRecords = false
      if (this.state === 'closed' || this.mux === undefined) return
      try {
        this.readRecords()
      } catch (err) {
        const coded = asCoded(err)
        this.mux.fail(coded)
        this.fail(coded)
      }
    })
  }

  private onData(chunk: Uint8Array): void {
    if (this.state === 'closed') return
    this.bytesIn += chunk.length
    this.reader.push(chunk)
    try {
      if (this.state === 'handshaking') this.readHandshake()
      if (this.mux !== undefined && !this.holdRecords) this.readRecords()
      // Closing gracefully: the frames just read may have ended the last open channel with
      // nothing for us to send, so no flush would come to notice the mux went idle.
      if (this.state === 'closing') this.scheduleFlush()
    } catch (err) {
      // After the hello the mux fails itself, so the peer gets a GOAWAY with the code (its
      // onFatal lands in fail()); during the hello there is nothing to send it in.
      const coded = asCoded(err)
      this.mux?.fail(coded)
      this.fail(coded)
    }
  }

  private readHandshake(): void {
    const e = this.establishment
    const out = e.receive(this.reader)
    if (out.length > 0) this.transport.write(out)
    if (e.state !== 'done') return
    const r = e.result
    this.agreement = r.agreement
    this.transcript = r.transcript
    this.handshakeHash = r.handshakeHash
    this.remotePublicKey = r.remotePublicKey
    this.openRecords(r.agreement, r.send, r.receive)
  }

  private openRecords(agreement: Agreement, send: RecordCipher, receive: RecordCipher): void {
    clearTimeout(this.handshakeTimer)
    const compressor = this.compressors.get(agreement.compression)
    this.packer = new RecordPacker({
      cipher: send,
      compressor,
      compressThreshold: this.opts.compressThreshold,
    })
    this.opener = new RecordOpener({ cipher: receive, compressor })
    const remoteLimits = limitsFromSettings(agreement.remote.limits)
    this.remoteLimits = remoteLimits
    this.mux = new Mux(
      { role: this.role, local: this.opts.limits, remote: remoteLimits, now: now() },
      {
        onChannel: (ch) => this.handler.onChannel(ch),
        onMessage: (frame) => this.handler.onMessage?.(frame),
        onReply: (frame) => this.handler.onReply?.(frame),
        onCancel: (id, code) => this.handler.onCancel?.(id, code),
        onSettingsAck: () => this.resolveConfirmed(),
        onName: (id, name) => this.handler.onName?.(id, name),
        onOffer: (offer) => this.handler.onOffer?.(offer),
        onGoaway: (last, code) => this.onGoaway(last, code),
        onFlush: () => this.scheduleFlush(),
        onFatal: (err) => this.fail(err),
      },
    )
    this.ticker = setInterval(() => this.mux?.tick(now()), this.mux.tickEveryMs)
    this.ticker.unref()
    // Our first frame: its acknowledgement proves the peer processed our hello (see confirmed).
    this.mux.control({ type: 'settings', ack: false, values: [] })
    this.transition('open')
    publish(channels.handshake, {
      role: this.role,
      remote: this.transport.remote,
      codec: agreement.codec,
      compression: agreement.compression,
      security: agreement.security,
    })
    debug('%s session open with %s (codec %s)', this.role, this.transport.remote, agreement.codec)
    this.releaseRecords()
    this.resolveReady()
  }

  private readRecords(): void {
    const mux = this.mux!
    const opener = this.opener!
    let t = -1
    for (;;) {
      if (this.state === 'closed') return
      const body = this.reader.takeUnit(2, MAX_RECORD_BODY, 'FRAME_TOO_LARGE')
      if (body === undefined) {
        if (t >= 0) mux.readDone()
        return
      }
      if (t < 0) {
        t = now()
        mux.noteReceived(t)
      }
      const frames = opener.open(body)
      for (let i = 0; i < frames.length; i++) mux.receive(frames[i]!, t)
    }
  }

  // ---- sending ------------------------------------------------------------------------------

  /** Opens a channel toward the peer. Throws GOING_AWAY / SESSION_CLOSED when it cannot. */
  open(header: OpenHeader): Channel {
    if (this.mux === undefined || this.state !== 'open')
      throw sbError('SESSION_CLOSED', `session is ${this.state}`)
    return this.mux.open(header)
  }

  /** Queues a whole message as one MSG frame (see Mux.sendMessage). */
  sendMessage(msg: OutgoingMessage): void {
    if (this.mux === undefined || this.state !== 'open')
      throw sbError('SESSION_CLOSED', `session is ${this.state}`)
    this.mux.sendMessage(msg)
  }

  /** Sends a REPLY or CANCEL (ignored once closed: nobody is left to read it). */
  sendControl(frame: ReplyFrame | CancelFrame | OfferFrame): void {
    if (this.mux === undefined || this.state === 'closed') return
    this.mux.control(frame)
  }

  /** The largest MSG frame payload the peer takes; bigger messages go on a channel. */
  get maxMessageFrameBytes(): number {
    return this.mux?.maxMessageFrameBytes ?? 0
  }

  /**
   * Resolves once the peer has processed our hello (it acknowledged the SETTINGS we send first),
   * so a refusal it sends with its hello (PAIR_FULL) is seen before the session is used; rejects
   * if the session ends first.
   */
  get confirmed(): Promise<void> {
    return this.confirmedPromise
  }

  /** Interns a name in our table: the peer learns it before any OPEN that uses it. */
  sendName(id: number, name: string): void {
    if (this.mux === undefined || this.state === 'closed') throw sbError('SESSION_CLOSED')
    // Encoded once here: sizing and writing the frame both read the bytes.
    this.mux.control({ type: 'name', id, name, bytes: utf8.encode(name) })
  }

  /** True when new channels may be opened (not closing, no GOAWAY received). */
  get canOpen(): boolean {
    return this.state === 'open' && this.mux?.canOpen === true
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.waitingDrain || this.state === 'closed') return
    this.flushScheduled = true
    setImmediate(() => this.flush())
  }

  private flush(): void {
    this.flushScheduled = false
    try {
      this.flushNow()
    } catch (err) {
      // A frame we cannot encode is our own bug, never the peer's: fail this session, coded,
      // instead of throwing out of setImmediate and taking the whole process down.
      this.abort(sbError('INTERNAL', 'a frame could not be encoded', { cause: err }))
    }
  }

  private flushNow(): void {
    const mux = this.mux
    if (mux === undefined || this.state === 'closed' || this.waitingDrain) return
    const frames = mux.drain(now(), this.opts.flushBytes)
    if (frames.length > 0) this.writeFrames(frames)
    if (this.state === 'closing' && this.idle && !mux.hasOutput) {
      this.finishClose()
      return
    }
    if (mux.hasOutput) this.scheduleFlush()
    this.handler.onFlushed?.()
  }

  private writeFrames(frames: Frame[]): void {
    const segments = this.packer!.pack(frames)
    // A socket says "wait" past 16 KiB; waiting for its drain after every flush would leave the
    // pipe empty while the peer reads. Keep flushing until a few flushes' worth are buffered.
    if (!this.transport.write(segments) && this.transport.writableLength >= this.opts.flushBytes * 4)
      this.waitingDrain = true
  }

  private onDrain(): void {
    this.waitingDrain = false
    if (this.mux?.hasOutput) this.scheduleFlush()
    this.handler.onFlushed?.()
  }

  // ---- closing ------------------------------------------------------------------------------

  private onGoaway(lastProcessed: number, code: ErrorCode): void {
    this.goawayReceived = true
    this.goawayCode = code
    // A GOAWAY before our SETTINGS was acknowledged is the peer refusing this connection.
    if (code !== 'GOING_AWAY') this.rejectConfirmed(this.refusal()!)
    this.handler.onGoaway?.(lastProcessed, code)
  }

  /** The peer's GOAWAY code as an error, when it closed us for a reason. */
  private refusal(): SwitchboardError | undefined {
    const code = this.goawayCode
    if (code === undefined || code === 'GOING_AWAY') return undefined
    return sbError(code, `refused by the peer (${code})`)
  }

  /**
   * Graceful close: GOAWAY tells the peer what we processed; open channels get `closeTimeoutMs`
   * to finish; then the transport ends. Resolves when the transport has closed.
   */
  close(): Promise<void> {
    if (this.state === 'handshaking') {
      this.fail(sbError('SESSION_CLOSED', 'closed during the handshake'))
    } else if (this.transition('closing')) {
      this.mux!.goaway()
      this.closeTimer = setTimeout(() => {
        this.abort(
          sbError(
            'SESSION_CLOSED',
            `channels still open after ${this.opts.closeTimeoutMs} ms of graceful close`,
          ),
        )
      }, this.opts.closeTimeoutMs)
      this.closeTimer.unref()
      this.scheduleFlush()
    }
    return this.closedPromise
  }

  private finishClose(): void {
    this.settle(undefined)
    this.transport.close()
  }

  /** Immediate close: everything in flight fails with `err` (default SESSION_CLOSED). */
  abort(err: SwitchboardError = sbError('SESSION_CLOSED')): void {
    if (this.state === 'closed') return
    this.settle(err)
    this.transport.abort(err)
  }

  /** Sends the peer a GOAWAY with `err`'s code (e.g. PAIR_FULL), then closes, failing what is open. */
  closeWithGoaway(err: SwitchboardError): void {
    this.mux?.fail(err)
  }

  /** A fatal error: send what the mux queued (its GOAWAY with the code), then close. */
  private fail(err: SwitchboardError): void {
    if (this.state === 'closed') return
    if (this.state === 'handshaking' && this.establishment.inNoise && !this.establishment.refusedByPeer) {
      // The peer waits for a handshake message: tell it why instead (docs/protocol.md §6).
      const wire = err.wireCode !== 0 ? err.wireCode : wireCodeOf('HANDSHAKE_FAILED')
      this.transport.write([encodeHandshakeRefusal(wire)])
    }
    const final = this.mux?.takeFinalFrames() ?? []
    this.settle(err)
    if (final.length > 0 && this.packer !== undefined) this.writeFrames(final)
    this.transport.close()
  }

  private onTransportClose(err: Error | undefined): void {
    const code = this.goawayCode
    if (this.state === 'closed') {
      // already settled
    } else if (code !== undefined && code !== 'GOING_AWAY') {
      // The peer's GOAWAY said why it failed us (INTEGRITY, FRAME_MALFORMED, ...): report that,
      // even when our side then saw a reset (we were still writing when the peer closed).
      const cause = err === undefined ? undefined : { cause: err }
      this.settle(sbError(code, `${this.transport.remote} closed the session: ${code}`, cause))
    } else if (this.goawayReceived && this.idle && err === undefined) {
      this.settle(undefined) // the peer said goodbye and nothing was left open: a clean close
    } else {
      const cause = err === undefined ? undefined : { cause: err }
      this.settle(sbError('CONNECTION_LOST', `connection to ${this.transport.remote} lost`, cause))
    }
    this.resolveClosed()
  }

  /** No channel open, no message waiting, and nothing the layer above waits for. */
  private get idle(): boolean {
    return this.mux?.idle === true && this.handler.busy?.() !== true
  }

  /** Moves to closed exactly once: stops timers, fails every channel, reports. */
  private settle(err: SwitchboardError | undefined): void {
    if (this.state === 'closed') return
    const wasHandshaking = this.state === 'handshaking'
    this.transition('closed')
    this.closeError = err
    clearTimeout(this.handshakeTimer)
    clearTimeout(this.closeTimer)
    clearInterval(this.ticker)
    this.mux?.closeAll(err ?? sbError('SESSION_CLOSED'))
    if (wasHandshaking) this.rejectReady(err ?? sbError('SESSION_CLOSED'))
    this.rejectConfirmed(this.refusal() ?? err ?? sbError('SESSION_CLOSED'))
    if (err !== undefined)
      publish(channels.error, { role: this.role, remote: this.transport.remote, error: err })
    publish(channels.close, { role: this.role, remote: this.transport.remote, error: err })
    debug('%s session with %s closed%s', this.role, this.transport.remote, err ? `: ${err.code}` : '')
    this.handler.onClose?.(err)
  }

  /** Our own receive limits (what our hello announced). */
  get localLimits(): MuxLimits {
    return this.opts.limits
  }

  /** Resolves when the transport has fully closed. */
  get closed(): Promise<void> {
    return this.closedPromise
  }

  /** The error the session closed with, if any. */
  get error(): SwitchboardError | undefined {
    return this.closeError
  }

  /** Body bytes queued plus bytes handed to the transport and not yet flushed (cheap: read per write). */
  get queuedBytes(): number {
    if (this.state === 'closed' || this.mux === undefined) return 0
    return this.mux.queuedBytes + this.transport.writableLength
  }

  getStats(): SessionStats {
    const mux: MuxStats = this.mux?.getStats() ?? {
      openChannels: 0,
      queuedBytes: 0,
      sendCredit: 0,
      recvCredit: 0,
    }
    const closed = this.state === 'closed'
    return {
      ...mux,
      openChannels: closed ? 0 : mux.openChannels,
      state: this.state,
      queuedBytes: closed ? 0 : mux.queuedBytes + this.transport.writableLength,
      bytesIn: this.bytesIn,
      bytesOut: this.packer?.stats.bytesOut ?? 0,
      recordsIn: this.opener?.records ?? 0,
      recordsOut: this.packer?.stats.records ?? 0,
    }
  }
}

/**
 * Refuses a connection before any handshake (e.g. HANDSHAKE_BUSY): our preamble, then a refusal
 * in the hello slot, then close. The peer fails with `err.code`.
 */
export function refuseHandshake(transport: Transport, err: SwitchboardError): void {
  transport.bind({ data: () => {}, drain: () => {}, close: () => {} })
  transport.write([
    encodePreamble({ major: PROTOCOL_MAJOR, minor: PROTOCOL_MINOR }),
    encodeHelloRefusal(err.wireCode !== 0 ? err.wireCode : wireCodeOf('REFUSED')),
  ])
  transport.close()
  publish(channels.error, { role: 'listener', remote: transport.remote, error: err })
}

function asCoded(err: unknown): SwitchboardError {
  return err instanceof SwitchboardError
    ? err
    : sbError('INTERNAL', 'unexpected failure in the session', { cause: err })
}

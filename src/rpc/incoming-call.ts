/**
 * One request or one-way message from the peer, and the context its handler gets: runs the
 * handler, then answers a request with one REPLY frame, or on a RESPONSE channel when the result
 * is big or a stream.
 *
 * It costs what the handler uses: the AbortController behind ctx.signal is made on first read,
 * and a call enters the connection's table (for CANCEL frames, deadlines, graceful close) only
 * while its handler's promise is pending or its body is still arriving on a channel.
 */
import { performance } from 'node:perf_hooks'
import { codeFromWire, isSwitchboardError, type SwitchboardError, sbError, wireCodeOf } from '../errors.ts'
import type { DeadlineSweep } from '../internal/deadline-sweep.ts'
import { Waiters } from '../internal/waiters.ts'
import type { Channel, ChannelHandler, OpenHeader } from '../mux/channel.ts'
import { BodyFlag, KIND_MASK, MessageKind } from '../wire/constants.ts'
import type { ReplyFrame } from '../wire/frame.ts'
import { type ByteSource, IncomingStream, isByteSource, isBytes, pump } from './body.ts'
import { BodyCollector } from './body-collector.ts'
import type { Codec } from './codec.ts'
import type { DedupeTable, Outcome } from './dedupe.ts'
import { keepBytes } from './outgoing-call.ts'
import { encodeRemoteError } from './remote-error.ts'
import type { Handler, HandlerContext, Peer } from './types.ts'

export interface IncomingHost {
  readonly codec: Codec
  readonly sweep: DeadlineSweep
  readonly localMaxMessageBytes: number
  /** Largest body that still goes as one REPLY frame. */
  readonly maxSingleFrameBody: number
  /** The connection itself, handed to handlers as ctx.peer. */
  readonly peer: Peer
  handlerFor(method: string): Handler | undefined
  /** A one-way message's handler failed: nobody is waiting for it, so report it locally. */
  reportError(err: SwitchboardError): void
  sendReply(frame: ReplyFrame): void
  openChannel(header: OpenHeader): Channel
  /** The call now waits (a pending handler, a body still arriving): enter the table. */
  track(call: IncomingCall): void
  /** The call is over: leave the table. */
  finished(call: IncomingCall): void
  /** Handlers running now (sync ones while they run, async ones until they settle): stats. */
  activeHandlers: number
  /** Memory of idempotent messages and this peer's key prefix in it; undefined: no dedupe. */
  readonly dedupe: { table: DedupeTable; keyOf(messageId: number): string } | undefined
}

const EMPTY = new Uint8Array(0)

export class IncomingCall implements ChannelHandler, HandlerContext {
  readonly method: string
  readonly messageId: number
  readonly trace: Uint8Array | undefined
  readonly body: AsyncIterable<Uint8Array> | undefined
  readonly peer: Peer
  deadlineAt = Number.POSITIVE_INFINITY
  /** True while the call sits in the connection's table. */
  tracked = false
  private readonly host: IncomingHost
  private readonly deadlineMs: number | undefined
  private deadlineEpoch: number | undefined
  private controller: AbortController | undefined
  private abortReason: SwitchboardError | undefined
  private readonly oneWay: boolean
  private readonly raw: boolean
  private readonly idempotent: boolean
  private readonly ch: Channel | undefined
  private readonly stream: IncomingStream | undefined
  /** The body arriving on a channel (not a stream). */
  private collector: BodyCollector | undefined
  private done = false
  /** The response stream's pump, waiting for the channel to take more (made when it streams). */
  private writable: Waiters | undefined
  /** Set while this call is the dedupe table's run of its message id. */
  private dedupeKey: string | undefined
  /** Counted in the host's activeHandlers (from the handler's start until finish). */
  private counted = false

  private constructor(
    host: IncomingHost,
    method: string,
    kind: number,
    messageId: number,
    deadlineMs: number | undefined,
    trace: Uint8Array | undefined,
    ch: Channel | undefined,
  ) {
    this.host = host
    this.method = method
    this.peer = host.peer
    this.messageId = messageId
    this.trace = trace
    this.deadlineMs = deadlineMs
    this.oneWay = (kind & KIND_MASK) === MessageKind.NOTIFY
    this.raw = (kind & BodyFlag.RAW) !== 0
    const streamed = (kind & BodyFlag.STREAM) !== 0
    this.idempotent = (kind & BodyFlag.IDEMPOTENT) !== 0 && !streamed
    this.ch = ch
    if (ch !== undefined && streamed) {
      this.stream = new IncomingStream(ch)
      this.body = this.stream
    }
  }

  /** A whole message from one MSG frame: decode and run now. */
  static fromMessage(
    host: IncomingHost,
    method: string,
    kind: number,
    messageId: number,
    deadlineMs: number | undefined,
    trace: Uint8Array | undefined,
    data: Uint8Array,
  ): void {
    const call = new IncomingCall(host, method, kind, messageId, deadlineMs, trace?.slice(), undefined)
    let value: unknown
    try {
      value = call.raw ? keepBytes(data) : data.length === 0 ? undefined : host.codec.decode(data)
    } catch (err) {
      return call.respondError(err)
    }
    call.run(value)
  }

  /** A message whose body arrives on a channel (bigger than a chunk, or a stream). */
  static fromChannel(host: IncomingHost, method: string, ch: Channel): void {
    const h = ch.header
    const call = new IncomingCall(host, method, h.kind, h.messageId, h.deadlineMs, h.trace?.slice(), ch)
    ch.bind(call)
    call.enter()
    if (call.stream !== undefined) return call.run(undefined)
    if (h.totalSize !== undefined && h.totalSize > host.localMaxMessageBytes)
      call.rejectOversizedBody(`body of ${h.totalSize} bytes exceeds maxMessageBytes`)
  }

  // ---- HandlerContext --------------------------------------------------------------------------

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController()
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason)
    }
    return this.controller.signal
  }

  get deadline(): number | undefined {
    if (this.deadlineMs === undefined) return undefined
    this.deadlineEpoch ??= Date.now() + this.deadlineMs
    return this.deadlineEpoch
  }

  // ---- the request body on a channel ---------------------------------------------------------

  onData(data: Uint8Array, fin: boolean): void {
    if (this.stream !== undefined) return this.stream.push(data, fin)
    if (this.done) return
    const body = (this.collector ??= new BodyCollector(this.ch!.header.totalSize))
    if (!body.add(data) || body.size > this.host.localMaxMessageBytes) {
      return this.rejectOversizedBody(
        `body exceeds its announced size or maxMessageBytes (${this.host.localMaxMessageBytes})`,
      )
    }
    this.ch!.consume(data.length)
    if (!fin) return
    const whole = body.finish()
    this.collector = undefined
    if (whole === undefined)
      return this.respondError(sbError('PROTOCOL_ERROR', 'body ended short of its size'))
    let value: unknown
    try {
      value = this.raw ? whole : whole.length === 0 ? undefined : this.host.codec.decode(whole)
    } catch (err) {
      return this.respondError(err)
    }
    this.run(value)
  }

  onEnd(): void {
    // A request direction never ends with an error status; treat it as a cancel.
    this.cancel(wireCodeOf('CANCELLED'))
  }

  onReset(code: number): void {
    this.cancel(code)
  }

  onWritable(): void {
    this.writable?.wake()
  }

  // ---- giving up -------------------------------------------------------------------------------

  /** The caller gave up (CANCEL frame, a reset of its body), or the connection went. */
  cancel(code: number): void {
    const name = codeFromWire(code)
    if (this.dedupeKey !== undefined && name !== 'CANCELLED' && name !== 'DEADLINE') {
      // The connection went, not the caller: the run goes on so the caller's resend (on a new
      // connection) gets its result from the dedupe table.
      return
    }
    this.abort(sbError(name, `caller gave up on '${this.method}' (${name})`))
  }

  expire(): void {
    this.ch?.reset(wireCodeOf('DEADLINE'))
    this.abort(sbError('DEADLINE', `'${this.method}' passed its deadline`))
  }

  private abort(err: SwitchboardError): void {
    this.stream?.fail(err)
    if (this.abortReason === undefined) {
      this.abortReason = err
      this.controller?.abort(err)
    }
    this.finish()
  }

  /** The body is over maxMessageBytes or its announced size: reset it, fail the run, unread. */
  private rejectOversizedBody(message: string): void {
    this.ch?.reset(wireCodeOf('MESSAGE_TOO_LARGE'))
    this.abort(sbError('MESSAGE_TOO_LARGE', message))
  }

  // ---- running the handler ---------------------------------------------------------------------

  private enter(): void {
    if (this.tracked || this.done) return
    if (this.deadlineMs !== undefined) {
      this.deadlineAt = performance.now() + this.deadlineMs
      this.host.sweep.add(this)
    }
    this.host.track(this)
  }

  private run(value: unknown): void {
    if (this.done) return
    const dedupe = this.host.dedupe
    if (this.idempotent && dedupe !== undefined) {
      const key = dedupe.keyOf(this.messageId)
      const begun = dedupe.table.begin(key, (outcome) => this.replay(outcome, value))
      if (begun === 'wait') return this.enter()
      if (begun !== 'run') return this.replay(begun, value)
      this.dedupeKey = key
    }
    const handler = this.host.handlerFor(this.method)
    if (handler === undefined) {
      return this.respondError(sbError('METHOD_NOT_FOUND', `no handler for '${this.method}'`))
    }
    let result: unknown
    this.counted = true
    this.host.activeHandlers++
    try {
      result = handler(value, this)
    } catch (err) {
      return this.respondError(err)
    }
    if (result instanceof Promise) {
      this.enter()
      result.then(
        (v) => this.respond(v),
        (err: unknown) => this.respondError(err),
      )
    } else {
      this.respond(result)
    }
  }

  /** Answers a repeat of an idempotent message from the first run (or runs it when none was kept). */
  private replay(outcome: Outcome | undefined, value: unknown): void {
    if (this.done) return
    if (outcome === undefined) return this.run(value)
    if (outcome.kind === 'response') this.sendBody(outcome.bytes, outcome.raw)
    else if (outcome.kind === 'error') this.sendError(outcome.status, outcome.detail)
    this.finish()
  }

  /** Records this run's outcome for repeats (once). */
  private remember(outcome: Outcome | undefined): void {
    const key = this.dedupeKey
    if (key === undefined) return
    this.dedupeKey = undefined
    this.host.dedupe?.table.finish(key, outcome)
  }

  private respond(result: unknown): void {
    if (this.done && this.dedupeKey === undefined) return
    if (this.oneWay) {
      this.remember({ kind: 'done' })
      return this.finish()
    }
    if (isByteSource(result)) {
      this.remember(undefined)
      if (this.done) return
      return this.streamResponse(result)
    }
    let bytes: Uint8Array
    const raw = isBytes(result)
    try {
      bytes = raw ? result : result === undefined ? EMPTY : this.host.codec.encode(result)
    } catch (err) {
      return this.respondError(err)
    }
    this.remember({ kind: 'response', raw, bytes })
    if (this.done) return
    this.sendBody(bytes, raw)
    this.finish()
  }

  /** One REPLY frame when it fits, else a RESPONSE channel of announced size. */
  private sendBody(bytes: Uint8Array, raw: boolean): void {
    if (bytes.length <= this.host.maxSingleFrameBody) {
      this.host.sendReply({ type: 'reply', messageId: this.messageId, status: 0, raw, data: bytes })
      return
    }
    try {
      const ch = this.host.openChannel({
        kind: MessageKind.RESPONSE | (raw ? BodyFlag.RAW : 0),
        method: 0,
        messageId: this.messageId,
        oneWay: true, // the caller sends nothing back on it
        totalSize: bytes.length,
      })
      ch.write(bytes, true)
    } catch {
      // The session ended under us: the caller learns it from its own connection.
    }
  }

  private streamResponse(source: ByteSource): void {
    let ch: Channel
    try {
      ch = this.host.openChannel({
        kind: MessageKind.RESPONSE | BodyFlag.STREAM,
        method: 0,
        messageId: this.messageId,
        oneWay: true, // the caller sends nothing back on it
      })
    } catch {
      return this.finish()
    }
    ch.bind(this)
    this.enter()
    this.writable = new Waiters()
    pump(source, ch, this.writable).then(
      () => this.finish(),
      (err: unknown) => {
        // Already over (the caller stopped reading, its deadline passed, the connection went):
        // the pump stopped because the call did, which is no failure of the handler's.
        if (this.done) return
        // The caller learns why: END with the coded error, as a REPLY would carry it.
        const failure = sbError('HANDLER_ERROR', `response stream of '${this.method}' failed`, { cause: err })
        if (ch.canSend) {
          const { status, detail } = encodeRemoteError(err instanceof Error ? err : failure)
          ch.end(status, detail)
        } else {
          ch.reset(wireCodeOf('HANDLER_ERROR'))
        }
        this.host.reportError(failure)
        this.finish()
      },
    )
  }

  private sendError(status: number, detail: Uint8Array): void {
    this.host.sendReply({ type: 'reply', messageId: this.messageId, status, raw: false, data: detail })
  }

  private respondError(err: unknown): void {
    if (this.done && this.dedupeKey === undefined) return
    if (this.oneWay) {
      this.remember({ kind: 'done' })
      this.host.reportError(
        isSwitchboardError(err)
          ? err
          : sbError('HANDLER_ERROR', `one-way '${this.method}' failed`, { cause: err }),
      )
      return this.finish()
    }
    const { status, detail } = encodeRemoteError(err)
    this.remember({ kind: 'error', status, detail })
    if (this.done) return
    this.sendError(status, detail)
    this.finish()
  }

  private finish(): void {
    if (this.done) return
    this.done = true
    this.collector = undefined
    // A response pump waiting for room on a channel that was reset would wait for ever: wake it,
    // so it sees the channel closed and closes the handler's source.
    this.writable?.wake()
    if (this.counted) this.host.activeHandlers--
    if (this.tracked) {
      this.host.sweep.delete(this)
      this.host.finished(this)
    }
  }
}

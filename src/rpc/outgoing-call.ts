/**
 * One request from this side, from start until it settles exactly once: with the response, or a
 * coded error (deadline, cancel, connection lost, remote error).
 *
 * A body that fits in one chunk goes as one MSG frame, and this object is that frame (no channel,
 * no copy); a bigger or streamed body goes on a one-way channel. Either way the response comes
 * back by message id: one REPLY frame, or a RESPONSE channel when it is big or a stream.
 */
import { performance } from 'node:perf_hooks'
import { codeFromWire, type ErrorCode, SwitchboardError, sbError, wireCodeOf } from '../errors.ts'
import type { DeadlineSweep } from '../internal/deadline-sweep.ts'
import { Waiters } from '../internal/waiters.ts'
import type { Channel, ChannelHandler, OpenHeader } from '../mux/channel.ts'
import type { OutgoingMessage } from '../mux/messages.ts'
import { BodyFlag, MessageKind } from '../wire/constants.ts'
import type { ReplyFrame } from '../wire/frame.ts'
import { type ByteSource, IncomingStream, isByteSource, isBytes, pump } from './body.ts'
import { BodyCollector } from './body-collector.ts'
import type { Codec } from './codec.ts'
import { lossError } from './loss.ts'
import { decodeRemoteError } from './remote-error.ts'
import type { CallSink } from './sinks.ts'

/** What a call needs from its connection. */
export interface CallHost {
  readonly codec: Codec
  readonly sweep: DeadlineSweep
  /** Largest non-streamed body the peer accepts. */
  readonly remoteMaxMessageBytes: number
  /** Largest non-streamed body we accept. */
  readonly localMaxMessageBytes: number
  /** Largest body that still goes as one MSG frame. */
  readonly maxSingleFrameBody: number
  /** The id of a method or topic name in our table (announced to the peer on first use). */
  nameId(name: string): number
  /** Queues a whole message; throws GOING_AWAY / SESSION_CLOSED when it cannot. */
  sendMessage(msg: OutgoingMessage): void
  /** Opens a channel; throws as sendMessage. */
  openChannel(header: OpenHeader): Channel
  /** Tells the peer we gave up on a request. */
  sendCancel(messageId: number, code: number): void
  settled(call: OutgoingCall): void
  /** True once the session has closed (a reset now means the connection is gone). */
  readonly sessionEnded: boolean
}

const EMPTY = new Uint8Array(0)

/** Encodes a value or bytes into one body; returns the kind flags that say which it is. */
export function encodeBody(codec: Codec, data: unknown): { flags: number; bytes: Uint8Array } {
  if (isBytes(data)) return { flags: BodyFlag.RAW, bytes: data }
  return { flags: 0, bytes: data === undefined ? EMPTY : codec.encode(data) }
}

/** A received body of raw bytes: small ones are copied so they do not pin the socket's chunk. */
export function keepBytes(view: Uint8Array): Uint8Array {
  return view.length < 1024 ? view.slice() : view
}

export class OutgoingCall implements OutgoingMessage, ChannelHandler {
  // ---- the MSG frame (when the body fits in one) --------------------------------------------
  readonly type = 'msg'
  kind = MessageKind.REQUEST as number
  method = 0
  readonly messageId: number
  deadlineMs: number | undefined
  trace: Uint8Array | undefined
  data: Uint8Array = EMPTY
  seq = 0

  readonly name: string
  deadlineAt = Number.POSITIVE_INFINITY
  private readonly host: CallHost
  private readonly sink: CallSink
  private readonly signal: AbortSignal | undefined
  /** The channel carrying a big or streamed request body. */
  private requestChannel: Channel | undefined
  /** The channel carrying a big or streamed response. */
  private responseChannel: Channel | undefined
  private written = false
  private done = false
  /** Nothing more can happen to it: answered (a streamed response: fully received) or failed. */
  private over = false
  private explicitDeadline = false
  /** A big response arriving on its channel (not a stream). */
  private collector: BodyCollector | undefined
  private raw = false
  private stream: IncomingStream | undefined
  private onAbort: (() => void) | undefined
  /** The request stream's pump, waiting for the channel to take more (made when it streams). */
  private writable: Waiters | undefined

  constructor(
    host: CallHost,
    name: string,
    messageId: number,
    sink: CallSink,
    signal: AbortSignal | undefined,
  ) {
    this.host = host
    this.name = name
    this.messageId = messageId
    this.sink = sink
    this.signal = signal
  }

  /**
   * Sends the request. `timeoutMs` was validated by the caller (undefined: no deadline).
   * `explicit`: the caller set it (a streamed response then keeps it).
   */
  start(
    data: unknown,
    timeoutMs: number | undefined,
    explicit: boolean,
    trace: Uint8Array | undefined,
    idempotent: boolean,
  ): void {
    if (this.signal?.aborted)
      return this.fail(sbError('CANCELLED', `'${this.name}' was cancelled before it started`))
    this.explicitDeadline = explicit
    const streamed = isByteSource(data)
    let flags = idempotent ? BodyFlag.IDEMPOTENT : 0
    let bytes: Uint8Array | undefined
    try {
      if (streamed) {
        flags |= BodyFlag.STREAM
      } else {
        const body = encodeBody(this.host.codec, data)
        flags |= body.flags
        bytes = body.bytes
        if (bytes.length > this.host.remoteMaxMessageBytes) {
          throw sbError(
            'MESSAGE_TOO_LARGE',
            `body of ${bytes.length} bytes exceeds the peer's maxMessageBytes (${this.host.remoteMaxMessageBytes}); send a stream instead`,
          )
        }
      }
      this.kind = MessageKind.REQUEST | flags
      this.method = this.host.nameId(this.name)
      // The wire carries whole ms (a varint); round a fraction up so the peer never stops early.
      this.deadlineMs = timeoutMs === undefined ? undefined : Math.ceil(timeoutMs)
      this.trace = trace
      if (bytes !== undefined && bytes.length <= this.host.maxSingleFrameBody) {
        this.data = bytes
        this.host.sendMessage(this)
      } else {
        this.requestChannel = this.host.openChannel({
          kind: this.kind,
          method: this.method,
          messageId: this.messageId,
          oneWay: true,
          deadlineMs: this.deadlineMs,
          trace,
          totalSize: bytes?.length,
        })
        this.requestChannel.bind(this)
      }
    } catch (err) {
      const e = err instanceof SwitchboardError ? err : sbError('INTERNAL', 'request failed', { cause: err })
      // Refused by a session that ended or is going away: nothing was written.
      if (this.host.sessionEnded || e.code === 'GOING_AWAY') return this.fail(lossError(e, false))
      return this.fail(e)
    }
    if (timeoutMs !== undefined) {
      this.deadlineAt = performance.now() + timeoutMs
      this.host.sweep.add(this)
    }
    if (this.signal !== undefined) {
      this.onAbort = () => this.giveUp('CANCELLED', `'${this.name}' was cancelled`)
      this.signal.addEventListener('abort', this.onAbort, { once: true })
    }
    const ch = this.requestChannel
    if (ch === undefined) return
    if (bytes !== undefined) {
      ch.write(bytes, true)
      return
    }
    this.writable = new Waiters()
    pump(data as ByteSource, ch, this.writable).catch((err: unknown) => {
      // The caller's body source failed: stop the peer's handler and fail the call, coded.
      const e =
        err instanceof SwitchboardError ? err : sbError('CANCELLED', 'request stream failed', { cause: err })
      this.giveUp(e.wireCode === 0 ? 'CANCELLED' : e.code, e.message, e)
    })
  }

  // ---- OutgoingMessage: what became of the MSG frame -----------------------------------------

  onWritten(): void {
    this.written = true
  }

  onRefused(code: number): void {
    const name = codeFromWire(code)
    this.fail(lossError(sbError(name, `'${this.name}' was not processed: ${name} (safe to retry)`), false))
  }

  onLost(code: number): void {
    const name = codeFromWire(code)
    this.fail(lossError(sbError(name, `connection ended while '${this.name}' was in flight (${name})`), true))
  }

  // ---- the response --------------------------------------------------------------------------

  /** The whole response in one REPLY frame. */
  reply(frame: ReplyFrame): void {
    if (this.done) return
    if (frame.status !== 0) return this.fail(decodeRemoteError(frame.status, frame.data, this.name))
    if (frame.raw) return this.succeed(keepBytes(frame.data))
    try {
      this.succeed(frame.data.length === 0 ? undefined : this.host.codec.decode(frame.data))
    } catch (err) {
      this.fail(err as SwitchboardError)
    }
  }

  /** The response comes on its own channel (big, or a stream). */
  responseOn(ch: Channel): void {
    if (this.done || this.responseChannel !== undefined) {
      ch.reset(wireCodeOf('CANCELLED'))
      return
    }
    this.responseChannel = ch
    const kind = ch.header.kind
    this.raw = (kind & BodyFlag.RAW) !== 0
    if ((kind & BodyFlag.STREAM) !== 0) {
      // A reader that stops early ends the call: a local reset tells no channel handler.
      this.stream = new IncomingStream(ch, () => this.cleanup())
      // A streamed response has no default deadline once it starts; an explicit one still runs.
      if (!this.explicitDeadline) this.host.sweep.delete(this)
      this.succeed(this.stream)
    } else if (ch.header.totalSize !== undefined && ch.header.totalSize > this.host.localMaxMessageBytes) {
      ch.reset(wireCodeOf('MESSAGE_TOO_LARGE'))
      this.fail(sbError('MESSAGE_TOO_LARGE', `response to '${this.name}' exceeds maxMessageBytes`))
      return
    }
    ch.bind(this)
  }

  // ---- ChannelHandler: the request channel (we send) and the response channel (we receive) ----

  onData(data: Uint8Array, fin: boolean): void {
    if (this.stream !== undefined) {
      this.stream.push(data, fin)
      if (fin) this.cleanup()
      return
    }
    const ch = this.responseChannel
    if (ch === undefined || this.done) return
    const body = (this.collector ??= new BodyCollector(ch.header.totalSize))
    if (!body.add(data) || body.size > this.host.localMaxMessageBytes) {
      ch.reset(wireCodeOf('MESSAGE_TOO_LARGE'))
      return this.fail(
        sbError('MESSAGE_TOO_LARGE', `response to '${this.name}' exceeds its size or maxMessageBytes`),
      )
    }
    ch.consume(data.length)
    if (!fin) return
    const whole = body.finish()
    this.collector = undefined
    if (whole === undefined)
      return this.fail(sbError('PROTOCOL_ERROR', `response to '${this.name}' ended short`))
    if (this.raw) return this.succeed(whole)
    try {
      this.succeed(whole.length === 0 ? undefined : this.host.codec.decode(whole))
    } catch (err) {
      this.fail(err as SwitchboardError)
    }
  }

  onEnd(status: number, detail: Uint8Array): void {
    this.fail(decodeRemoteError(status, detail, this.name))
  }

  onReset(code: number): void {
    const name = codeFromWire(code)
    if (this.host.sessionEnded) {
      const err = sbError(name, `connection ended while '${this.name}' was in flight (${name})`)
      return this.fail(lossError(err, this.wasWritten()))
    }
    if (name === 'GOING_AWAY') {
      // The peer's GOAWAY refused our request channel: it never ran.
      const err = sbError(name, `'${this.name}' was not processed: the peer is going away (safe to retry)`)
      return this.fail(lossError(err, false))
    }
    this.fail(sbError(name, `'${this.name}' was reset by the peer (${name})`))
  }

  onWritable(): void {
    this.writable?.wake()
  }

  private wasWritten(): boolean {
    return this.written || this.requestChannel?.openSent === true
  }

  // ---- giving up -----------------------------------------------------------------------------

  /** The sweep found the deadline passed. */
  expire(): void {
    this.giveUp('DEADLINE', `'${this.name}' did not complete before its deadline`)
  }

  /** Cancel, deadline or a failed body: tell the peer (if it may have the request), then fail. */
  private giveUp(code: ErrorCode, message: string, cause?: SwitchboardError): void {
    // A streamed response settled the call when it began; until it ends, a cancel or an explicit
    // deadline still stops it (and fails the stream its reader holds).
    if (this.over) return
    const wire = wireCodeOf(code)
    this.requestChannel?.reset(wire)
    this.responseChannel?.reset(wire)
    if (this.wasWritten()) this.host.sendCancel(this.messageId, wire)
    const reason = this.signal?.aborted ? this.signal.reason : undefined
    this.fail(cause ?? sbError(code, message, reason === undefined ? undefined : { cause: reason }))
  }

  private succeed(value: unknown): void {
    if (this.done) return
    this.done = true
    if (this.stream === undefined) this.cleanup()
    this.sink.resolved(value)
  }

  private fail(err: SwitchboardError): void {
    this.stream?.fail(err)
    this.cleanup()
    if (this.done) return
    this.done = true
    this.sink.rejected(err)
  }

  private cleanup(): void {
    this.over = true
    this.host.sweep.delete(this)
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort)
    this.onWritable()
    this.host.settled(this)
  }
}

/**
 * One request or one-way message from the peer: gathers the body (or exposes it as a stream),
 * runs the handler with a context whose signal aborts on cancel, deadline or connection loss,
 * and writes the response or a coded error.
 */
import { performance } from 'node:perf_hooks'
import { codeFromWire, type SwitchboardError, sbError, wireCodeOf } from '../errors.ts'
import type { DeadlineSweep } from '../internal/deadline-sweep.ts'
import type { Channel, ChannelHandler } from '../mux/channel.ts'
import { BodyFlag, MessageKind, ResponseType } from '../wire/constants.ts'
import { IncomingStream, isByteSource, isBytes, pump } from './body.ts'
import type { Codec } from './codec.ts'
import type { DedupeTable, Outcome } from './dedupe.ts'
import { concat } from './outgoing-call.ts'
import { encodeRemoteError } from './remote-error.ts'
import type { Handler, HandlerContext, Peer } from './types.ts'

export interface IncomingHost {
  readonly codec: Codec
  readonly sweep: DeadlineSweep
  readonly localMaxMessageBytes: number
  /** The connection itself, handed to handlers as ctx.peer. */
  readonly peer: Peer
  handlerFor(method: string): Handler | undefined
  /** A one-way message's handler failed: nobody is waiting for it, so report it locally. */
  reportError(err: SwitchboardError): void
  finished(call: IncomingCall): void
  /** Memory of idempotent messages and this peer's key prefix in it; undefined: no dedupe. */
  readonly dedupe: { table: DedupeTable; keyOf(messageId: number): string } | undefined
}

export class IncomingCall implements ChannelHandler, HandlerContext {
  readonly method: string
  readonly messageId: number
  readonly deadline: number | undefined
  readonly trace: Uint8Array | undefined
  readonly body: AsyncIterable<Uint8Array> | undefined
  readonly peer: Peer
  deadlineAt = Number.POSITIVE_INFINITY
  private readonly ch: Channel
  private readonly host: IncomingHost
  private readonly controller = new AbortController()
  private readonly oneWay: boolean
  private readonly raw: boolean
  private readonly stream: IncomingStream | undefined
  private parts: Uint8Array[] = []
  private size = 0
  private done = false
  private writableWaiter: (() => void) | undefined
  /** Set while this call is the dedupe table's run of its message id. */
  private dedupeKey: string | undefined
  private readonly idempotent: boolean

  constructor(ch: Channel, method: string, host: IncomingHost) {
    this.ch = ch
    this.host = host
    this.method = method
    this.peer = host.peer
    const h = ch.header
    this.messageId = h.messageId
    this.trace = h.trace
    this.oneWay = (h.kind & 0x0f) === MessageKind.NOTIFY
    this.raw = (h.kind & BodyFlag.RAW) !== 0
    this.idempotent = (h.kind & BodyFlag.IDEMPOTENT) !== 0 && (h.kind & BodyFlag.STREAM) === 0
    if (h.deadlineMs !== undefined) {
      this.deadline = Date.now() + h.deadlineMs
      this.deadlineAt = performance.now() + h.deadlineMs
      host.sweep.add(this)
    }
    if ((h.kind & BodyFlag.STREAM) !== 0) {
      this.stream = new IncomingStream(ch)
      this.body = this.stream
    } else if (h.totalSize !== undefined && h.totalSize > host.localMaxMessageBytes) {
      this.refuse('MESSAGE_TOO_LARGE', `body of ${h.totalSize} bytes exceeds maxMessageBytes`)
    }
    ch.bind(this)
    if (this.stream !== undefined) this.run(undefined)
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  onData(data: Uint8Array, fin: boolean): void {
    if (this.stream !== undefined) return this.stream.push(data, fin)
    if (this.done) return
    this.size += data.length
    if (this.size > this.host.localMaxMessageBytes) {
      return this.refuse(
        'MESSAGE_TOO_LARGE',
        `body exceeds maxMessageBytes (${this.host.localMaxMessageBytes})`,
      )
    }
    if (data.length > 0) this.parts.push(data)
    this.ch.consume(data.length)
    if (!fin) return
    const whole = this.parts.length === 1 ? this.parts[0]! : concat(this.parts, this.size)
    this.parts = []
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
    this.abort(sbError('CANCELLED', 'caller ended the request with an error'))
  }

  onReset(code: number): void {
    const name = codeFromWire(code)
    if (this.dedupeKey !== undefined && name !== 'CANCELLED' && name !== 'DEADLINE') {
      // The connection went, not the caller: the run goes on so the caller's resend (on a new
      // connection) gets its result from the dedupe table.
      return
    }
    this.abort(sbError(name, `caller reset '${this.method}' (${name})`))
  }

  onWritable(): void {
    const w = this.writableWaiter
    this.writableWaiter = undefined
    w?.()
  }

  expire(): void {
    const err = sbError('DEADLINE', `'${this.method}' passed its deadline`)
    this.ch.reset(wireCodeOf('DEADLINE'))
    this.abort(err)
  }

  private abort(err: SwitchboardError): void {
    this.stream?.fail(err)
    if (!this.controller.signal.aborted) this.controller.abort(err)
    this.finish()
  }

  private run(value: unknown): void {
    if (this.done) return
    const dedupe = this.host.dedupe
    if (this.idempotent && dedupe !== undefined) {
      const key = dedupe.keyOf(this.messageId)
      const begun = dedupe.table.begin(key, (outcome) => this.replay(outcome, value))
      if (begun === 'wait') return
      if (begun !== 'run') return this.replay(begun, value)
      this.dedupeKey = key
    }
    const handler = this.host.handlerFor(this.method)
    if (handler === undefined) {
      return this.respondError(sbError('METHOD_NOT_FOUND', `no handler for '${this.method}'`))
    }
    let result: unknown
    try {
      result = handler(value, this)
    } catch (err) {
      return this.respondError(err)
    }
    if (result instanceof Promise) {
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
    const ch = this.ch
    if (outcome.kind === 'response' && ch.canSend) ch.write(outcome.bytes, true)
    else if (outcome.kind === 'error' && ch.canSend) ch.end(outcome.status, outcome.detail)
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
    const ch = this.ch
    if (!isByteSource(result) && this.dedupeKey !== undefined) {
      try {
        const bytes = isBytes(result) ? withType(ResponseType.RAW, result) : this.valueBytes(result)
        this.remember({ kind: 'response', bytes })
      } catch {
        this.remember(undefined)
      }
    } else {
      this.remember(undefined)
    }
    if (this.done || !ch.canSend) return this.finish()
    try {
      if (isByteSource(result)) {
        ch.write(Uint8Array.of(ResponseType.STREAM))
        pump(result, ch, () => this.writable()).then(
          () => this.finish(),
          (err: unknown) => {
            ch.reset(wireCodeOf('HANDLER_ERROR'))
            this.host.reportError(
              sbError('HANDLER_ERROR', `response stream of '${this.method}' failed`, { cause: err }),
            )
            this.finish()
          },
        )
        return
      }
      if (isBytes(result)) {
        ch.write(Uint8Array.of(ResponseType.RAW))
        ch.write(result, true)
      } else {
        ch.write(this.valueBytes(result), true)
      }
    } catch (err) {
      return this.respondError(err)
    }
    this.finish()
  }

  private valueBytes(result: unknown): Uint8Array {
    const encoded = result === undefined ? new Uint8Array(0) : this.host.codec.encode(result)
    return withType(ResponseType.VALUE, encoded)
  }

  private writable(): Promise<void> {
    return new Promise((resolve) => {
      this.writableWaiter = resolve
    })
  }

  private respondError(err: unknown): void {
    if (this.done && this.dedupeKey === undefined) return
    if (this.oneWay) {
      this.remember({ kind: 'done' })
      this.host.reportError(
        err instanceof Error && 'code' in err
          ? (err as SwitchboardError)
          : sbError('HANDLER_ERROR', `one-way '${this.method}' failed`, { cause: err }),
      )
      return this.finish()
    }
    const { status, detail } = encodeRemoteError(err)
    this.remember({ kind: 'error', status, detail })
    if (this.done) return
    if (this.ch.canSend) this.ch.end(status, detail)
    this.finish()
  }

  private refuse(code: 'MESSAGE_TOO_LARGE', message: string): void {
    this.ch.reset(wireCodeOf(code))
    this.abort(sbError(code, message))
  }

  private finish(): void {
    if (this.done) return
    this.done = true
    this.parts = []
    this.host.sweep.delete(this)
    this.host.finished(this)
  }
}

function withType(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1)
  out[0] = type
  out.set(body, 1)
  return out
}

/**
 * One request from this side: opens a channel, writes the body, settles exactly once with the
 * response or a coded error (deadline, cancel, connection lost, remote error).
 */
import { performance } from 'node:perf_hooks'
import { codeFromWire, isSwitchboardError, SwitchboardError, sbError, wireCodeOf } from '../errors.ts'
import type { DeadlineSweep } from '../internal/deadline-sweep.ts'
import type { Channel, ChannelHandler } from '../mux/channel.ts'
import { BodyFlag, MessageKind, ResponseType } from '../wire/constants.ts'
import { type ByteSource, IncomingStream, isByteSource, isBytes, pump } from './body.ts'
import type { Codec } from './codec.ts'
import { decodeRemoteError } from './remote-error.ts'
import type { RequestOptions } from './types.ts'

/** Default deadline of a call whose body and response are values, ms. */
export const DEFAULT_TIMEOUT_MS = 30_000

/** What a call needs from its connection. */
export interface CallHost {
  readonly codec: Codec
  readonly sweep: DeadlineSweep
  /** Largest non-streamed body the peer accepts. */
  readonly remoteMaxMessageBytes: number
  /** Largest non-streamed body we accept. */
  readonly localMaxMessageBytes: number
  open(
    method: string,
    kind: number,
    messageId: number,
    deadlineMs: number | undefined,
    trace: Uint8Array | undefined,
    totalSize: number | undefined,
    oneWay: boolean,
  ): Channel
  nextMessageId(): number
  settled(call: OutgoingCall): void
  /** True once the session has closed (a channel reset now means the connection is gone). */
  readonly sessionEnded: boolean
}

/**
 * Details on an error that ended a call because its connection ended: `lost` is true, and
 * `written` says whether any byte of it (its OPEN) had been handed to the transport. link/ uses
 * them to decide between a resend and OUTCOME_UNKNOWN.
 */
export interface LossDetails {
  lost: true
  written: boolean
}

/** The error for a call whose connection ended; see LossDetails. */
export function lossError(err: SwitchboardError, written: boolean): SwitchboardError {
  const details: LossDetails = { lost: true, written }
  return new SwitchboardError(err.code, err.message, { cause: err, details: { ...details } })
}

/** True when `err` ended a call because its connection ended (see LossDetails). */
export function lossOf(err: unknown): LossDetails | undefined {
  if (!(err instanceof SwitchboardError) || err.details?.lost !== true) return undefined
  return { lost: true, written: err.details.written === true }
}

/** Encodes a value or bytes into one body; returns the kind flags that say which it is. */
export function encodeBody(codec: Codec, data: unknown): { flags: number; bytes: Uint8Array } {
  if (isBytes(data)) return { flags: BodyFlag.RAW, bytes: data }
  return { flags: 0, bytes: data === undefined ? new Uint8Array(0) : codec.encode(data) }
}

export class OutgoingCall implements ChannelHandler {
  readonly method: string
  deadlineAt = Number.POSITIVE_INFINITY
  private readonly host: CallHost
  private readonly resolve: (value: unknown) => void
  private readonly reject: (err: SwitchboardError) => void
  private readonly signal: AbortSignal | undefined
  private ch: Channel | undefined
  private settledFlag = false
  private explicitDeadline = false
  private responseType = -1
  private parts: Uint8Array[] = []
  private size = 0
  private stream: IncomingStream | undefined
  private readonly onAbort = (): void => this.cancel()

  constructor(
    host: CallHost,
    method: string,
    resolve: (v: unknown) => void,
    reject: (e: SwitchboardError) => void,
    signal: AbortSignal | undefined,
  ) {
    this.host = host
    this.method = method
    this.resolve = resolve
    this.reject = reject
    this.signal = signal
  }

  start(data: unknown, options: RequestOptions, messageId: number): void {
    if (this.signal?.aborted)
      return this.fail(sbError('CANCELLED', `'${this.method}' was cancelled before it started`))
    const streamed = isByteSource(data)
    let timeout = options.timeout
    if (timeout !== undefined && (!Number.isFinite(timeout) || timeout <= 0)) {
      return this.fail(sbError('INVALID_ARGUMENT', 'timeout must be a positive number of ms'))
    }
    this.explicitDeadline = timeout !== undefined
    if (timeout === undefined && !streamed) timeout = DEFAULT_TIMEOUT_MS
    let flags = 0
    let bytes: Uint8Array | undefined
    try {
      if (streamed) {
        flags = BodyFlag.STREAM
      } else {
        const body = encodeBody(this.host.codec, data)
        flags = body.flags
        bytes = body.bytes
        if (bytes.length > this.host.remoteMaxMessageBytes) {
          throw sbError(
            'MESSAGE_TOO_LARGE',
            `body of ${bytes.length} bytes exceeds the peer's maxMessageBytes (${this.host.remoteMaxMessageBytes}); send a stream instead`,
          )
        }
      }
      if (options.idempotent === true) flags |= BodyFlag.IDEMPOTENT
      this.ch = this.host.open(
        this.method,
        MessageKind.REQUEST | flags,
        messageId,
        // The wire carries whole ms (a varint); round a fraction up so the peer never stops early.
        timeout === undefined ? undefined : Math.ceil(timeout),
        options.trace,
        bytes?.length,
        false,
      )
    } catch (err) {
      // A session that ended before the OPEN was queued: nothing was written.
      if (this.host.sessionEnded || isSwitchboardError(err, 'GOING_AWAY'))
        return this.fail(lossError(err as SwitchboardError, false))
      return this.fail(err as SwitchboardError)
    }
    this.ch.bind(this)
    if (timeout !== undefined) {
      this.deadlineAt = performance.now() + timeout
      this.host.sweep.add(this)
    }
    this.signal?.addEventListener('abort', this.onAbort, { once: true })
    if (bytes !== undefined) {
      this.ch.write(bytes, true)
    } else {
      const ch = this.ch
      pump(data as ByteSource, ch, () => this.writable()).catch((err: unknown) => {
        // The caller's body source failed: stop the peer's handler and fail the call, coded.
        const e =
          err instanceof SwitchboardError
            ? err
            : sbError('CANCELLED', 'request stream failed', { cause: err })
        ch.reset(e.wireCode === 0 ? wireCodeOf('CANCELLED') : e.wireCode)
        this.fail(e)
      })
    }
  }

  private writableWaiter: (() => void) | undefined

  private writable(): Promise<void> {
    return new Promise((resolve) => {
      this.writableWaiter = resolve
    })
  }

  onWritable(): void {
    const w = this.writableWaiter
    this.writableWaiter = undefined
    w?.()
  }

  onData(data: Uint8Array, fin: boolean): void {
    let body = data
    if (this.responseType < 0) {
      if (body.length === 0) return fin ? this.fail(sbError('PROTOCOL_ERROR', 'empty response')) : undefined
      this.responseType = body[0]!
      body = body.subarray(1)
      if (this.responseType === ResponseType.STREAM) {
        this.stream = new IncomingStream(this.ch!)
        // A streamed response has no default deadline once it starts; an explicit one still runs.
        if (!this.explicitDeadline) this.host.sweep.delete(this)
        this.succeed(this.stream)
      }
    }
    if (this.stream !== undefined) {
      this.stream.push(body, fin)
      if (fin) this.cleanup()
      return
    }
    this.size += body.length
    if (this.size > this.host.localMaxMessageBytes) {
      this.ch!.reset(wireCodeOf('MESSAGE_TOO_LARGE'))
      return this.fail(sbError('MESSAGE_TOO_LARGE', `response to '${this.method}' exceeds maxMessageBytes`))
    }
    if (body.length > 0) this.parts.push(body)
    this.ch!.consume(data.length)
    if (!fin) return
    const whole = this.parts.length === 1 ? this.parts[0]! : concat(this.parts, this.size)
    this.parts = []
    if (this.responseType === ResponseType.RAW) return this.succeed(whole)
    if (this.responseType !== ResponseType.VALUE)
      return this.fail(sbError('PROTOCOL_ERROR', `unknown response type ${this.responseType}`))
    try {
      this.succeed(whole.length === 0 ? undefined : this.host.codec.decode(whole))
    } catch (err) {
      this.fail(err as SwitchboardError)
    }
  }

  onEnd(status: number, detail: Uint8Array): void {
    this.fail(decodeRemoteError(status, detail, this.method))
  }

  onReset(code: number): void {
    const name = codeFromWire(code)
    if (this.host.sessionEnded) {
      const err = sbError(name, `connection ended while '${this.method}' was in flight (${name})`)
      return this.fail(lossError(err, this.ch !== undefined && !this.ch.needsOpen))
    }
    const messages: Partial<Record<string, string>> = {
      GOING_AWAY: `'${this.method}' was not processed: the peer is going away (safe to retry)`,
      CONNECTION_LOST: `connection lost while '${this.method}' was in flight (outcome unknown)`,
    }
    this.fail(sbError(name, messages[name] ?? `'${this.method}' was reset by the peer (${name})`))
  }

  /** The sweep found the deadline passed. */
  expire(): void {
    this.ch?.reset(wireCodeOf('DEADLINE'))
    this.fail(sbError('DEADLINE', `'${this.method}' did not complete before its deadline`))
  }

  private cancel(): void {
    this.ch?.reset(wireCodeOf('CANCELLED'))
    this.fail(sbError('CANCELLED', `'${this.method}' was cancelled`, { cause: this.signal?.reason }))
  }

  private succeed(value: unknown): void {
    if (this.settledFlag) return
    this.settledFlag = true
    if (this.stream === undefined) this.cleanup()
    this.resolve(value)
  }

  private fail(err: SwitchboardError): void {
    this.stream?.fail(err)
    this.cleanup()
    if (this.settledFlag) return
    this.settledFlag = true
    this.reject(err)
  }

  private cleanup(): void {
    this.host.sweep.delete(this)
    this.signal?.removeEventListener('abort', this.onAbort)
    this.onWritable()
    this.host.settled(this)
  }
}

export function concat(parts: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size)
  let pos = 0
  for (const p of parts) {
    out.set(p, pos)
    pos += p.length
  }
  return out
}

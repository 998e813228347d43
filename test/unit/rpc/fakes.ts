/**
 * Small fake collaborators for the rpc call classes: a channel that records what a call does to
 * it, a recording CallSink, and the host interfaces of OutgoingCall and IncomingCall backed by
 * plain arrays. Each implements only what the classes use; casts to the real types stay here.
 */
import type { SwitchboardError } from '../../../src/errors.ts'
import { DeadlineSweep } from '../../../src/internal/deadline-sweep.ts'
import type { Channel, ChannelHandler, OpenHeader } from '../../../src/mux/channel.ts'
import type { OutgoingMessage } from '../../../src/mux/messages.ts'
import { msgpackCodec } from '../../../src/rpc/codec.ts'
import type { DedupeTable } from '../../../src/rpc/dedupe.ts'
import type { IncomingCall, IncomingHost } from '../../../src/rpc/incoming-call.ts'
import type { CallHost, OutgoingCall } from '../../../src/rpc/outgoing-call.ts'
import type { CallSink } from '../../../src/rpc/sinks.ts'
import type { Handler, Peer } from '../../../src/rpc/types.ts'
import type { ReplyFrame } from '../../../src/wire/frame.ts'

/** A channel that records writes, resets, ends and consumed credit. */
export class FakeChannel {
  handler: ChannelHandler | undefined
  readonly writes: { data: Uint8Array; fin: boolean }[] = []
  readonly resets: number[] = []
  ends: { status: number; detail: Uint8Array }[] = []
  consumed = 0
  /** True until the OPEN is written (a reset before then means nothing reached the peer). */
  needsOpen = true
  canSend = true
  get openSent(): boolean {
    return !this.needsOpen
  }
  state = 'open'
  /** write() answers this (false: wait for onWritable). */
  accept = true

  constructor(readonly header: OpenHeader) {}

  bind(handler: ChannelHandler): void {
    this.handler = handler
  }

  write(data: Uint8Array, fin = false): boolean {
    this.writes.push({ data, fin })
    if (fin) this.canSend = false
    return this.accept
  }

  end(status = 0, detail: Uint8Array = new Uint8Array(0)): void {
    this.ends.push({ status, detail })
    this.canSend = false
  }

  reset(code: number): void {
    this.resets.push(code)
    this.canSend = false
    this.state = 'closed'
  }

  consume(bytes: number): void {
    this.consumed += bytes
  }

  /** The bytes written, joined. */
  written(): Buffer {
    return Buffer.concat(this.writes.map((w) => w.data))
  }

  get asChannel(): Channel {
    return this as unknown as Channel
  }
}

/** A CallSink that records every call (the class must call exactly one, once). */
export class RecordingSink implements CallSink {
  readonly outcomes: ({ value: unknown } | { err: SwitchboardError })[] = []
  private wake: (() => void) | undefined

  resolved(value: unknown): void {
    this.outcomes.push({ value })
    this.wake?.()
  }

  rejected(err: SwitchboardError): void {
    this.outcomes.push({ err })
    this.wake?.()
  }

  /** The only outcome's error (throws if there is not exactly one rejection). */
  get error(): SwitchboardError {
    if (this.outcomes.length !== 1) throw new Error(`${this.outcomes.length} outcomes`)
    const o = this.outcomes[0]!
    if (!('err' in o)) throw new Error(`resolved with ${String(o.value)}`)
    return o.err
  }

  /** The only outcome's value (throws if there is not exactly one resolution). */
  get value(): unknown {
    if (this.outcomes.length !== 1) throw new Error(`${this.outcomes.length} outcomes`)
    const o = this.outcomes[0]!
    if (!('value' in o)) throw new Error(`rejected with ${o.err.code}`)
    return o.value
  }

  /** Resolves at the first outcome. */
  settled(): Promise<void> {
    if (this.outcomes.length > 0) return Promise.resolve()
    return new Promise((resolve) => {
      this.wake = resolve
    })
  }
}

/** OutgoingCall's connection: records messages, channels, cancels and settles. */
export class FakeCallHost implements CallHost {
  readonly codec = msgpackCodec
  readonly sweep = new DeadlineSweep(5)
  remoteMaxMessageBytes = 1024 * 1024
  localMaxMessageBytes = 1024 * 1024
  maxSingleFrameBody = 1000
  sessionEnded = false
  /** sendMessage/openChannel throw this when set (a session going away or closed). */
  refuseWith: SwitchboardError | undefined
  readonly names: string[] = []
  readonly messages: OutgoingMessage[] = []
  readonly channels: FakeChannel[] = []
  readonly cancels: { messageId: number; code: number }[] = []
  readonly settledCalls: OutgoingCall[] = []

  nameId(name: string): number {
    let id = this.names.indexOf(name)
    if (id < 0) id = this.names.push(name) - 1
    return id + 1
  }

  sendMessage(msg: OutgoingMessage): void {
    if (this.refuseWith !== undefined) throw this.refuseWith
    this.messages.push(msg)
  }

  openChannel(header: OpenHeader): Channel {
    if (this.refuseWith !== undefined) throw this.refuseWith
    const ch = new FakeChannel(header)
    this.channels.push(ch)
    return ch.asChannel
  }

  sendCancel(messageId: number, code: number): void {
    this.cancels.push({ messageId, code })
  }

  settled(call: OutgoingCall): void {
    this.settledCalls.push(call)
  }
}

/** IncomingCall's connection: a handler table, recorded replies, channels and errors. */
export class FakeIncomingHost implements IncomingHost {
  readonly codec = msgpackCodec
  readonly sweep = new DeadlineSweep(5)
  localMaxMessageBytes = 1024 * 1024
  maxSingleFrameBody = 1000
  readonly peer = {} as Peer
  readonly handlers = new Map<string, Handler>()
  readonly replies: ReplyFrame[] = []
  readonly channels: FakeChannel[] = []
  readonly errors: SwitchboardError[] = []
  readonly tracked = new Set<IncomingCall>()
  activeHandlers = 0
  dedupe: { table: DedupeTable; keyOf(messageId: number): string } | undefined
  private wake: (() => void) | undefined

  handlerFor(method: string): Handler | undefined {
    return this.handlers.get(method)
  }

  reportError(err: SwitchboardError): void {
    this.errors.push(err)
    this.wake?.()
  }

  sendReply(frame: ReplyFrame): void {
    this.replies.push(frame)
    this.wake?.()
  }

  openChannel(header: OpenHeader): Channel {
    const ch = new FakeChannel(header)
    this.channels.push(ch)
    return ch.asChannel
  }

  // As RpcConnection: the host marks the call, which then knows to leave the table when done.
  track(call: IncomingCall): void {
    call.tracked = true
    this.tracked.add(call)
  }

  finished(call: IncomingCall): void {
    call.tracked = false
    this.tracked.delete(call)
    this.wake?.()
  }

  /** Resolves at the next reply, reported error or finished call. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve
    })
  }
}

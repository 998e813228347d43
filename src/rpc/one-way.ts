/**
 * One one-way message (send, or a published event) that fits in one chunk: it is its own MSG
 * frame. The mux keeps it after writing until the peer counts it, so a GOAWAY or a lost
 * connection still reaches its sink (SendSink.undone) after send() resolved.
 */
import { codeFromWire, sbError } from '../errors.ts'
import type { OutgoingMessage } from '../mux/messages.ts'
import { lossError } from './loss.ts'
import type { SendSink, SentMessage } from './sinks.ts'

export class OneWayMessage implements OutgoingMessage, SentMessage {
  readonly type = 'msg'
  readonly deadlineMs = undefined
  readonly trace = undefined
  seq = 0
  private written = false

  constructor(
    readonly kind: number,
    readonly method: number,
    readonly messageId: number,
    readonly data: Uint8Array,
    /** The method or topic. */
    readonly name: string,
    /** The caller's data as given, should it have to be sent again on another connection. */
    readonly value: unknown,
    private readonly sink: SendSink,
  ) {}

  onWritten(): void {
    this.written = true
    this.sink.written()
  }

  onRefused(code: number): void {
    const name = codeFromWire(code)
    const err = lossError(
      sbError(name, `'${this.name}' was not processed: ${name} (safe to send again)`),
      false,
    )
    if (this.written) this.sink.undone(err, this)
    else this.sink.failed(err, this)
  }

  onLost(code: number): void {
    const name = codeFromWire(code)
    this.sink.undone(
      lossError(sbError(name, `connection ended before the peer took '${this.name}' (${name})`), true),
      this,
    )
  }
}

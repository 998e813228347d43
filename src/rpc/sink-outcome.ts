/**
 * A copy of an event sent through one connection's publish() (or a link's), reported to the
 * SendSink of that publish: delivered or dropped resolve it, a failure of the subscription
 * rejects it with the code.
 */
import { type ErrorCode, sbError } from '../errors.ts'
import type { SendSink } from './sinks.ts'
import type { CopyOutcome } from './subscriber-stream.ts'

export class SinkOutcome implements CopyOutcome {
  constructor(
    private readonly sink: SendSink,
    private readonly kind: number,
    private readonly name: string,
    private readonly value: unknown,
    private readonly messageId: number,
  ) {}

  delivered(): void {
    this.sink.written()
  }

  dropped(): void {
    this.sink.written()
  }

  failed(label: string, code: ErrorCode): void {
    const who = label === '' ? 'the subscriber' : `subscriber '${label}'`
    this.sink.failed(sbError(code, `event on '${this.name}' not delivered to ${who}`), {
      kind: this.kind,
      name: this.name,
      value: this.value,
      messageId: this.messageId,
    })
  }
}

/**
 * Message bodies: a value (codec-encoded), raw bytes (sent without a serializer), or a byte
 * stream of any size (AsyncIterable<Uint8Array>, a Node Readable, or a web ReadableStream).
 */
import { type SwitchboardError, sbError, wireCodeOf } from '../errors.ts'
import { PullQueue } from '../internal/pull-queue.ts'
import type { Waiters } from '../internal/waiters.ts'
import type { Channel } from '../mux/channel.ts'

/** Anything the library accepts as a streamed body. */
export type ByteSource = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>

/** True for a streamed body (async iterable or web ReadableStream), which can be read once. */
export function isByteSource(value: unknown): value is ByteSource {
  if (typeof value !== 'object' || value === null) return false
  if (value instanceof Uint8Array) return false
  return (
    Symbol.asyncIterator in value ||
    (typeof ReadableStream !== 'undefined' && value instanceof ReadableStream)
  )
}

export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array
}

/** Normalizes a source to an async iterable of byte chunks. */
export function iterate(source: ByteSource): AsyncIterable<Uint8Array> {
  if (Symbol.asyncIterator in source) return source as AsyncIterable<Uint8Array>
  const stream = source as ReadableStream<Uint8Array>
  return {
    async *[Symbol.asyncIterator]() {
      const reader = stream.getReader()
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return
          yield value
        }
      } finally {
        reader.releaseLock()
      }
    },
  }
}

/**
 * Writes a stream into a channel under its credit: waits whenever the channel's queue is above
 * its high-water mark (until the channel's handler wakes `writable`), so backpressure reaches the
 * producer. Ends the channel with FIN at the end of the source. Rejects if the source throws or
 * the channel dies; the caller then resets or ends the channel with the reason.
 */
export async function pump(source: ByteSource, ch: Channel, writable: Waiters): Promise<void> {
  for await (const chunk of iterate(source)) {
    if (!(chunk instanceof Uint8Array))
      throw sbError('INVALID_ARGUMENT', 'a byte stream must yield Uint8Array chunks')
    if (ch.state === 'closed' || !ch.canSend)
      throw sbError('CONNECTION_LOST', 'channel closed while streaming')
    if (chunk.length === 0) continue
    if (!ch.write(chunk)) await writable.wait()
  }
  if (ch.canSend) ch.end()
}

/**
 * The receiving end of a streamed body: an async iterable fed by the channel. Credit goes back to
 * the sender only as the consumer takes chunks, so a slow reader slows the writer instead of
 * growing a buffer (at most one channel window is held here).
 */
export class IncomingStream implements AsyncIterable<Uint8Array> {
  private readonly chunks = new PullQueue<Uint8Array>()
  private ended = false
  private error: SwitchboardError | undefined
  private readonly ch: Channel
  private iterating = false
  /** next() was called: only a consumer that began reading and stopped early cancels the sender. */
  private pulled = false
  /** Told when the consumer stopped before the end (the channel is reset by then). */
  private readonly onStop: (() => void) | undefined
  bytes = 0

  constructor(ch: Channel, onStop?: () => void) {
    this.ch = ch
    this.onStop = onStop
  }

  push(data: Uint8Array, fin: boolean): void {
    if (data.length > 0 && this.chunks.push(data)) this.took(data)
    if (!fin) return
    this.ended = true
    this.chunks.settle()
  }

  fail(err: SwitchboardError): void {
    if (this.ended && this.chunks.length === 0) return
    this.error = err
    this.chunks.settle(err)
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.iterating) throw sbError('INVALID_ARGUMENT', 'a stream body can be read once')
    this.iterating = true
    return { next: () => this.next(), return: () => this.stop() }
  }

  private next(): Promise<IteratorResult<Uint8Array>> {
    this.pulled = true
    if (this.chunks.length > 0) {
      const chunk = this.chunks.shift()
      this.took(chunk)
      return Promise.resolve({ done: false, value: chunk })
    }
    if (this.error !== undefined) return Promise.reject(this.error)
    if (this.ended) return Promise.resolve(DONE)
    return this.chunks.wait()
  }

  /** The consumer took a chunk: the sender may send that much more. */
  private took(chunk: Uint8Array): void {
    this.bytes += chunk.length
    this.ch.consume(chunk.length)
  }

  /**
   * A consumer that stops early tells the sender to stop too. One that never pulled (an iterator
   * taken, then given back because its handler failed) leaves the channel to the call, so the
   * call's own error reply is not overtaken by a CANCELLED reset (as a generator never started).
   */
  private stop(): Promise<IteratorResult<Uint8Array>> {
    const early = this.pulled && !this.ended && this.error === undefined
    this.ended = true
    this.chunks.clear()
    if (early) {
      this.ch.reset(wireCodeOf('CANCELLED'))
      this.onStop?.()
    }
    return Promise.resolve(DONE)
  }
}

const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined })

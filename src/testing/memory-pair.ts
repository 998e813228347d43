/**
 * An in-memory duplex pair of transports (as ws's duplex-pair): bytes written on one end arrive
 * at the other on a later event-loop turn. It behaves as a local socket does, and passes the same
 * conformance suite (test/conformance/transport.conformance.ts):
 *
 * - `capacity` plays the OS socket buffers: up to that many bytes per direction are "in the
 *   kernel" and cost the writer nothing; bytes beyond it count in `writableLength`, make write()
 *   return false, and `drain` follows once the reader has taken enough to bring them back under.
 * - An end reads nothing until bound: bytes (and the other end's close) written before `bind()`
 *   are held and delivered once bound.
 * - `abort()` destroys this end at once (its `close` carries the given error, or undefined); the
 *   other end, as with a destroyed socket, receives what was already written and then a clean
 *   end (undefined).
 *
 * States: open → ending (close(): our end is queued behind our writes) → closed (the other end's
 * end was read, or abort()). The `close` event is reported once closed and bound.
 */
import { SwitchboardError, sbError } from '../errors.ts'
import type { Transport, TransportEvents } from '../transport/types.ts'

export interface MemoryPairOptions {
  /**
   * Bytes one direction holds as if in the OS buffers; past that write() returns false and the
   * excess counts in `writableLength`. Default 64 KiB.
   */
  capacity?: number
  /** Names used in `remote`, for messages. */
  names?: [string, string]
}

type State = 'open' | 'ending' | 'closed'

/** Marks the writer's end in the reader's inbox (an empty chunk is never queued as data). */
const END = new Uint8Array(0)

class MemoryEnd implements Transport {
  peer!: MemoryEnd
  readonly remote: string
  readonly remoteAddress = undefined
  private events: TransportEvents | undefined
  private state: State = 'open'
  /** Chunks written by the other end and not yet delivered here, then END once it ended. */
  private inbox: Uint8Array[] = []
  /** Bytes in `inbox`. */
  private inFlight = 0
  private paused = false
  private delivering = false
  /** Our write() returned false; `drain` is owed once the other end has read enough. */
  private wantDrain = false
  private reported = false
  private failure: Error | undefined
  private readonly capacity: number

  constructor(remote: string, capacity: number) {
    this.remote = remote
    this.capacity = capacity
  }

  get writableLength(): number {
    return Math.max(0, this.peer.inFlight - this.capacity)
  }

  bind(events: TransportEvents): void {
    if (this.events !== undefined)
      throw sbError('INVALID_ARGUMENT', 'Transport.bind() may be called only once')
    this.events = events
    if (this.state === 'closed') this.report()
    else this.scheduleDelivery()
  }

  write(chunks: readonly Uint8Array[]): boolean {
    // A destroyed peer reads nothing more: drop, as a socket's write to a closed peer is lost.
    if (this.state !== 'open' || this.peer.state === 'closed') return false
    for (const c of chunks) {
      if (c.length === 0) continue
      this.peer.inbox.push(c.slice()) // the receiver owns its chunk, as with a socket
      this.peer.inFlight += c.length
    }
    this.peer.scheduleDelivery()
    if (this.writableLength === 0) return true
    this.wantDrain = true
    return false
  }

  close(): void {
    if (this.state !== 'open') return
    this.state = 'ending'
    this.sendEnd()
    // Read on so the other end's end (and with it our close) can arrive even if paused.
    this.paused = false
    this.scheduleDelivery()
  }

  abort(err?: Error): void {
    if (this.state === 'closed') return
    if (this.state === 'open') this.sendEnd()
    this.finish(err === undefined ? undefined : wrap(err))
  }

  pause(): void {
    this.paused = true
  }

  resume(): void {
    this.paused = false
    this.scheduleDelivery()
  }

  private sendEnd(): void {
    if (this.peer.state === 'closed') return
    this.peer.inbox.push(END)
    this.peer.scheduleDelivery()
  }

  private scheduleDelivery(): void {
    if (this.delivering || this.events === undefined || this.paused || this.state === 'closed') return
    this.delivering = true
    setImmediate(() => this.deliver())
  }

  private deliver(): void {
    this.delivering = false
    while (!this.paused && this.state !== 'closed' && this.inbox.length > 0) {
      const chunk = this.inbox.shift()!
      if (chunk === END) {
        // Ends are not half-open (as allowHalfOpen false on a socket): seeing the other end's
        // end closes both.
        this.finish(undefined)
        this.peer.finish(undefined)
        return
      }
      this.inFlight -= chunk.length
      this.events!.data(chunk)
    }
    const writer = this.peer
    if (writer.wantDrain && writer.writableLength === 0 && writer.state === 'open') {
      writer.wantDrain = false
      writer.events?.drain()
    }
  }

  private finish(err: Error | undefined): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.failure = err
    this.inbox = []
    this.inFlight = 0
    if (this.events !== undefined) this.report()
  }

  /** Reports `close` once, on a later turn (never from inside the caller's abort() or bind()). */
  private report(): void {
    if (this.reported) return
    this.reported = true
    const events = this.events!
    const err = this.failure
    setImmediate(() => events.close(err))
  }
}

function wrap(err: Error): Error {
  return err instanceof SwitchboardError ? err : sbError('TRANSPORT_ERROR', err.message, { cause: err })
}

/** Two connected in-memory transports. */
export function memoryPair(options: MemoryPairOptions = {}): [Transport, Transport] {
  const capacity = options.capacity ?? 64 * 1024
  const [a, b] = options.names ?? ['memory:a', 'memory:b']
  const left = new MemoryEnd(b, capacity)
  const right = new MemoryEnd(a, capacity)
  left.peer = right
  right.peer = left
  return [left, right]
}

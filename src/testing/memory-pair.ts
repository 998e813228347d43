/**
 * An in-memory duplex pair of transports (as ws's duplex-pair): bytes written on one end arrive
 * at the other on a later event-loop turn. `capacity` bounds the bytes in flight per direction,
 * so write() returns false and `drain` follows exactly as on a socket.
 */
import { SwitchboardError, sbError } from '../errors.ts'
import type { Transport, TransportEvents } from '../transport/types.ts'

export interface MemoryPairOptions {
  /** Bytes one direction holds before write() returns false. Default 64 KiB. */
  capacity?: number
  /** Names used in `remote`, for messages. */
  names?: [string, string]
}

class MemoryEnd implements Transport {
  peer!: MemoryEnd
  readonly remote: string
  readonly remoteAddress = undefined
  private events: TransportEvents | undefined
  private inbox: Uint8Array[] = []
  private inFlight = 0
  private paused = false
  private delivering = false
  private closed = false
  private ended = false
  private wantDrain = false
  private readonly capacity: number

  constructor(remote: string, capacity: number) {
    this.remote = remote
    this.capacity = capacity
  }

  get writableLength(): number {
    return this.peer.inFlight
  }

  bind(events: TransportEvents): void {
    this.events = events
    this.scheduleDelivery()
  }

  write(chunks: readonly Uint8Array[]): boolean {
    if (this.closed || this.ended) return false
    for (const c of chunks) {
      if (c.length === 0) continue
      this.peer.inbox.push(c.slice()) // the receiver owns its chunk, as with a socket
      this.peer.inFlight += c.length
    }
    this.peer.scheduleDelivery()
    const ok = this.peer.inFlight < this.capacity
    if (!ok) this.wantDrain = true
    return ok
  }

  close(): void {
    if (this.closed || this.ended) return
    this.ended = true
    this.peer.inbox.push(END)
    this.peer.scheduleDelivery()
  }

  abort(err?: Error): void {
    if (this.closed) return
    this.finish(err === undefined ? undefined : wrap(err))
    this.peer.finish(sbError('TRANSPORT_ERROR', 'peer aborted the memory transport'))
  }

  pause(): void {
    this.paused = true
  }

  resume(): void {
    this.paused = false
    this.scheduleDelivery()
  }

  private scheduleDelivery(): void {
    if (this.delivering || this.events === undefined || this.paused || this.closed) return
    this.delivering = true
    setImmediate(() => this.deliver())
  }

  private deliver(): void {
    this.delivering = false
    while (!this.paused && !this.closed && this.inbox.length > 0) {
      const chunk = this.inbox.shift()!
      if (chunk === END) {
        this.finish(undefined)
        this.peer.finish(undefined)
        return
      }
      this.inFlight -= chunk.length
      this.events!.data(chunk)
    }
    if (this.inFlight < this.capacity && this.peer.wantDrain) {
      this.peer.wantDrain = false
      this.peer.events?.drain()
    }
  }

  private finish(err: Error | undefined): void {
    if (this.closed) return
    this.closed = true
    this.inbox = []
    this.inFlight = 0
    const events = this.events
    if (events !== undefined) setImmediate(() => events.close(err))
  }
}

const END = new Uint8Array(0)

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

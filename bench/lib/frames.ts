/**
 * The raw ceiling's framing: a u32 big-endian length, then the body (requests put a u32 id first
 * in the body). Nothing else: no types, no flow control, no encryption.
 *
 *   FrameWriter, coalesced  frames under 16 KiB are copied into a slab, and everything queued in
 *                           one event-loop turn is written once, on setImmediate, to every target
 *                           socket (fan-out writes the one slab to each subscriber). A frame of
 *                           16 KiB or more is written at once, as the header (in the slab, after
 *                           the frames queued before it) plus the body by reference.
 *   FrameWriter, naive      one socket.write per frame per target (a fresh header+body buffer;
 *                           large bodies as a header write and a body write).
 *   FrameReader             parses chunks without concatenating them: a frame inside one chunk is
 *                           handed out as a view; a small frame split across chunks is assembled;
 *                           a large one goes out in parts (views) when the reader streams.
 */
import { once } from 'node:events'
import type { Socket } from 'node:net'

/** Bodies this large and larger are referenced (writer) or streamed in parts (reader), never copied. */
export const COPY_LIMIT = 16 * 1024
const SLAB = 64 * 1024
const EMPTY = new Uint8Array(0)

/** Resolves on 'drain' or 'close', whichever comes first, leaving no listener behind. */
async function drainOrClose(socket: Socket): Promise<void> {
  const stop = new AbortController()
  try {
    await Promise.race([
      once(socket, 'drain', { signal: stop.signal }),
      once(socket, 'close', { signal: stop.signal }),
    ])
  } finally {
    stop.abort()
  }
}

export class FrameReader {
  private readonly header = Buffer.alloc(4)
  private headerHave = 0
  /** Body bytes still expected for the current frame; -1 while reading a header. */
  private remaining = -1
  private streaming = false
  private body: Buffer | undefined
  private bodyOff = 0

  /**
   * `onMessage` gets each frame's body (a view: copy to keep it); bodies of COPY_LIMIT bytes and
   * more go to `onPart` in pieces instead when it is given (`last` on the final piece).
   */
  constructor(
    private readonly onMessage: (msg: Uint8Array) => void,
    private readonly onPart?: (part: Uint8Array, last: boolean) => void,
  ) {}

  push(chunk: Buffer): void {
    let off = 0
    const n = chunk.length
    while (off < n) {
      if (this.remaining < 0) {
        let len: number
        if (this.headerHave === 0 && n - off >= 4) {
          len = chunk.readUInt32BE(off)
          off += 4
        } else {
          const take = Math.min(4 - this.headerHave, n - off)
          chunk.copy(this.header, this.headerHave, off, off + take)
          this.headerHave += take
          off += take
          if (this.headerHave < 4) return
          this.headerHave = 0
          len = this.header.readUInt32BE(0)
        }
        if (len === 0) {
          this.onMessage(EMPTY)
          continue
        }
        if (len >= COPY_LIMIT && this.onPart !== undefined) {
          this.streaming = true
        } else if (n - off >= len) {
          this.onMessage(chunk.subarray(off, off + len))
          off += len
          continue
        } else {
          this.streaming = false
          this.body = Buffer.allocUnsafe(len)
          this.bodyOff = 0
        }
        this.remaining = len
      }
      const take = Math.min(this.remaining, n - off)
      this.remaining -= take
      if (this.streaming) {
        this.onPart!(chunk.subarray(off, off + take), this.remaining === 0)
      } else {
        chunk.copy(this.body!, this.bodyOff, off, off + take)
        this.bodyOff += take
      }
      off += take
      if (this.remaining === 0) {
        this.remaining = -1
        if (!this.streaming) {
          const body = this.body!
          this.body = undefined
          this.onMessage(body)
        }
        this.streaming = false
      }
    }
  }
}

export class FrameWriter {
  private chunks: Uint8Array[] = []
  private slab = Buffer.allocUnsafe(SLAB)
  private start = 0
  private off = 0
  private scheduled = false
  private readonly flushNow = (): void => this.flush()

  /** `targets` may change between flushes (fan-out subscribers come and go). */
  constructor(
    private readonly targets: Socket[],
    private readonly coalesce: boolean,
  ) {}

  /** Queues one frame. A large `body` is not copied: it must not change until written. */
  send(body: Uint8Array): void {
    this.frame(-1, body)
  }

  /** Queues one frame whose body is a u32 `id`, then `body`. */
  sendWithId(id: number, body: Uint8Array): void {
    this.frame(id, body)
  }

  private frame(id: number, body: Uint8Array): void {
    const idBytes = id < 0 ? 0 : 4
    const len = idBytes + body.length
    if (!this.coalesce) {
      this.naive(id, idBytes, len, body)
      return
    }
    const inline = body.length < COPY_LIMIT
    const need = 4 + idBytes + (inline ? body.length : 0)
    if (this.off + need > this.slab.length) {
      this.seal()
      this.slab = Buffer.allocUnsafe(Math.max(SLAB, need))
      this.start = this.off = 0
    }
    this.slab.writeUInt32BE(len, this.off)
    if (idBytes > 0) this.slab.writeUInt32BE(id, this.off + 4)
    this.off += 4 + idBytes
    if (inline) {
      this.slab.set(body, this.off)
      this.off += body.length
    } else {
      // A large frame goes out now, after whatever small frames were queued before it.
      this.seal()
      this.chunks.push(body)
      this.flush()
      return
    }
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flushNow)
    }
  }

  private naive(id: number, idBytes: number, len: number, body: Uint8Array): void {
    if (body.length >= COPY_LIMIT) {
      const header = Buffer.allocUnsafe(4 + idBytes)
      header.writeUInt32BE(len, 0)
      if (idBytes > 0) header.writeUInt32BE(id, 4)
      for (const s of this.targets) {
        s.write(header)
        s.write(body)
      }
      return
    }
    const frame = Buffer.allocUnsafe(4 + len)
    frame.writeUInt32BE(len, 0)
    if (idBytes > 0) frame.writeUInt32BE(id, 4)
    frame.set(body, 4 + idBytes)
    for (const s of this.targets) s.write(frame)
  }

  /** Bytes queued here plus the most any target socket still holds. */
  get queuedBytes(): number {
    let pending = this.off - this.start
    for (const c of this.chunks) pending += c.length
    let most = 0
    for (const s of this.targets) most = Math.max(most, s.writableLength)
    return pending + most
  }

  /** True when a target socket asked for `drain` (its last write returned false). */
  get needsDrain(): boolean {
    for (const s of this.targets) if (s.writableNeedDrain) return true
    return false
  }

  /** Writes what is queued now, then waits for `drain` on every target that needs it. */
  async drained(): Promise<void> {
    this.flush()
    for (const s of this.targets) {
      while (s.writableNeedDrain && !s.destroyed) await drainOrClose(s)
    }
  }

  private seal(): void {
    if (this.off > this.start) {
      // The sealed region is never written again: the next frames go after it or to a new slab.
      this.chunks.push(this.slab.subarray(this.start, this.off))
      this.start = this.off
    }
  }

  private flush(): void {
    this.scheduled = false
    this.seal()
    const chunks = this.chunks
    if (chunks.length === 0) return
    this.chunks = []
    for (const s of this.targets) {
      if (s.destroyed) continue
      if (chunks.length === 1) {
        s.write(chunks[0]!)
        continue
      }
      s.cork()
      for (const c of chunks) s.write(c)
      s.uncork()
    }
  }
}

/**
 * The raw ceiling: u32 length-prefixed frames straight over a node:net socket, nothing else.
 *
 *   coalesced  every frame queued during one event-loop turn leaves in one socket write (small
 *              frames are copied into a slab, large bodies are referenced and sent with writev),
 *              flushed on setImmediate — what switchboard's session does, minus the protocol.
 *   naive      one socket.write per frame (a fresh header+body buffer; large bodies as a header
 *              write and a body write).
 *
 * Reads are parsed from the socket's chunks without concatenating them: a frame inside one chunk
 * is a view, a small frame split across chunks is assembled, a large one is streamed in parts.
 */
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { type BenchClient, HIGH_WATER, RawMode, readU32, u32 } from './common.ts'

/** Bodies at least this large are referenced (writer) or streamed (reader), never copied. */
const LARGE = 64 * 1024
/** Size of the coalescing writer's copy slab. */
const SLAB = 64 * 1024
/** A frame longer than this is a bug in the bench, not a workload. */
const MAX_FRAME = 1024 * 1024 * 1024
const EMPTY = new Uint8Array(0)

export class FrameReader {
  private readonly header = Buffer.alloc(4)
  private headerHave = 0
  /** Body bytes still expected for the current frame; -1 while reading a header. */
  private remaining = -1
  private streaming = false
  private body: Buffer | undefined
  private bodyOff = 0

  /**
   * `onMessage` gets each frame (a view: copy to keep it); frames longer than LARGE go to
   * `onPart` in pieces instead when it is given.
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
        if (len > MAX_FRAME) throw new Error(`frame of ${len} bytes is beyond the bench's limit`)
        if (len === 0) {
          this.onMessage(EMPTY)
          continue
        }
        if (len > LARGE && this.onPart !== undefined) {
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

  constructor(
    private readonly socket: Socket,
    private readonly coalesce: boolean,
  ) {}

  /** Queues one frame. `body` is not copied when large: it must not change until written. */
  send(body: Uint8Array): void {
    if (!this.coalesce) {
      if (body.length >= LARGE) {
        this.socket.write(u32(body.length))
        this.socket.write(body)
        return
      }
      const frame = Buffer.allocUnsafe(4 + body.length)
      frame.writeUInt32BE(body.length, 0)
      frame.set(body, 4)
      this.socket.write(frame)
      return
    }
    if (body.length >= LARGE) {
      this.seal()
      this.chunks.push(u32(body.length), body)
    } else {
      const total = 4 + body.length
      if (this.off + total > this.slab.length) {
        this.seal()
        this.slab = Buffer.allocUnsafe(Math.max(SLAB, total))
        this.start = this.off = 0
      }
      this.slab.writeUInt32BE(body.length, this.off)
      this.slab.set(body, this.off + 4)
      this.off += total
    }
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flushNow)
    }
  }

  /** Bytes queued here and in the socket, not yet handed to the OS. */
  get queuedBytes(): number {
    let pending = this.off - this.start
    for (const c of this.chunks) pending += c.length
    return pending + this.socket.writableLength
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
    if (chunks.length === 0 || this.socket.destroyed) return
    this.chunks = []
    if (chunks.length === 1) {
      this.socket.write(chunks[0]!)
      return
    }
    this.socket.cork()
    for (const c of chunks) this.socket.write(c)
    this.socket.uncork()
  }
}

/** The server side of one raw connection. */
export function serveRaw(socket: Socket, coalesce: boolean): void {
  const writer = new FrameWriter(socket, coalesce)
  let mode = -1
  let count = 0
  let bigBytes = 0
  const reader = new FrameReader(
    (msg) => {
      if (mode < 0) {
        mode = msg[0] ?? -1
        return
      }
      if (mode === RawMode.ECHO) {
        writer.send(msg.length >= LARGE ? msg.slice() : msg)
      } else if (mode === RawMode.ONEWAY) {
        if (msg.length > 0) {
          count++
        } else {
          writer.send(u32(count))
          count = 0
        }
      } else if (mode === RawMode.BIG) {
        writer.send(u32(msg.length))
      }
    },
    (part, last) => {
      bigBytes += part.length
      if (last) {
        writer.send(u32(bigBytes))
        bigBytes = 0
      }
    },
  )
  socket.on('data', (chunk: Buffer) => {
    try {
      reader.push(chunk)
    } catch (err) {
      socket.destroy(err as Error)
    }
  })
  socket.on('error', () => {}) // the client going away mid-run is its business; 'close' follows
}

type Pending = (reply: Uint8Array | undefined, err?: Error) => void

/** The client side of one raw connection, in the mode of its workload. */
export class RawClient implements BenchClient {
  private readonly writer: FrameWriter
  /** Reply callbacks, oldest first: the server answers in order. */
  private readonly pending: Pending[] = []
  private head = 0
  private failure: Error | undefined
  private readonly closed: Promise<void>
  /** Rejects once the connection has closed (for racing waits against it). */
  private readonly gone: Promise<never>

  constructor(
    private readonly socket: Socket,
    coalesce: boolean,
    mode: number,
  ) {
    this.writer = new FrameWriter(socket, coalesce)
    const reader = new FrameReader((msg) => this.onReply(msg))
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk)
      } catch (err) {
        socket.destroy(err as Error)
      }
    })
    socket.on('error', (err) => {
      this.failure ??= err
    })
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.failAll(this.failure ?? new Error('connection closed'))
        resolve()
      })
    })
    this.gone = this.closed.then(() => {
      throw this.failure ?? new Error('connection closed')
    })
    this.gone.catch(() => {})
    this.writer.send(Uint8Array.of(mode))
  }

  private onReply(msg: Uint8Array): void {
    const cb = this.pending[this.head]
    if (cb === undefined) {
      this.socket.destroy(new Error('reply without a request'))
      return
    }
    this.pending[this.head++] = undefined as unknown as Pending
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head)
      this.head = 0
    }
    cb(msg)
  }

  private failAll(err: Error): void {
    const list = this.pending.splice(this.head)
    this.head = 0
    this.pending.length = 0
    for (const cb of list) cb(undefined, err)
  }

  private expectReply(): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed) return reject(this.failure ?? new Error('connection closed'))
      this.pending.push((reply, err) => (reply === undefined ? reject(err) : resolve(reply)))
    })
  }

  sendOneWay(payload: Uint8Array): void {
    this.writer.send(payload)
  }

  async barrier(): Promise<number> {
    const reply = this.expectReply()
    this.writer.send(EMPTY)
    return readU32(await reply)
  }

  request(payload: Uint8Array, done: (err?: Error) => void): void {
    if (this.socket.destroyed) {
      done(this.failure ?? new Error('connection closed'))
      return
    }
    const expected = payload.length
    this.pending.push((reply, err) => {
      if (reply === undefined) done(err)
      else if (reply.length !== expected) done(new Error(`echo of ${reply.length} bytes, sent ${expected}`))
      else done()
    })
    this.writer.send(payload)
  }

  async big(payload: Uint8Array): Promise<void> {
    const reply = this.expectReply()
    this.writer.send(payload)
    const got = readU32(await reply)
    if (got !== payload.length) throw new Error(`server acknowledged ${got} bytes, sent ${payload.length}`)
  }

  backlogged(): boolean {
    return this.writer.queuedBytes > HIGH_WATER
  }

  async waitWritable(): Promise<void> {
    while (this.backlogged()) {
      if (this.socket.destroyed) throw this.failure ?? new Error('connection closed')
      await Promise.race([once(this.socket, 'drain'), this.gone])
    }
  }

  close(): Promise<void> {
    this.socket.end()
    return this.closed
  }

  destroy(): void {
    this.socket.destroy()
  }
}

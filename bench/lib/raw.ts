/**
 * The raw ceiling over node:net, coalesced (`raw-coalesced`) or one write per frame
 * (`raw-naive`), with the framing of frames.ts. A connection's first frame is one byte, its mode:
 *
 *   oneway   count frames; an empty frame is the barrier: reply with the u32 count, reset
 *   values   the same, each frame unpacked with msgpackr first
 *   echo     frames are [u32 id][payload]; each is written back as it came
 *   big      one frame, read in parts and discarded; reply with its u32 length
 *   stream   frames of 256 KiB read in parts and discarded; an empty frame ends: reply u64 total
 *   sub      a fan-out subscriber: published frames go to it (one slab written to every one)
 *
 * A connection without a mode frame is a handshake: it is closed when the client ends it.
 */
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import {
  type Adapter,
  type AgentEnv,
  type BenchClient,
  type BenchServer,
  HIGH_WATER,
  readU32,
  type SampleValue,
  u32,
  type WorkloadName,
} from './common.ts'
import { FrameReader, FrameWriter } from './frames.ts'
import { dialNet, listenNet } from './net.ts'
import { Deferred, Pending } from './util.ts'
import { packValue, unpackValue } from './values.ts'

const Mode = { ONEWAY: 0x6f, VALUES: 0x76, ECHO: 0x65, BIG: 0x62, STREAM: 0x73, SUB: 0x66 } as const
const EMPTY = new Uint8Array(0)

function modeOf(workload: WorkloadName): number {
  switch (workload) {
    case 'oneway':
      return Mode.ONEWAY
    case 'oneway-values':
      return Mode.VALUES
    case 'echo':
    case 'echo64':
      return Mode.ECHO
    case 'big':
      return Mode.BIG
    case 'stream':
      return Mode.STREAM
    case 'fanout':
      return Mode.SUB
    case 'handshake':
      throw new Error('handshakes send no mode')
  }
}

function u64(n: number): Buffer {
  const out = Buffer.allocUnsafe(8)
  out.writeUInt32BE(Math.floor(n / 2 ** 32), 0)
  out.writeUInt32BE(n >>> 0, 4)
  return out
}

function readU64(bytes: Uint8Array): number {
  return readU32(bytes, 0) * 2 ** 32 + readU32(bytes, 4)
}

function serveConnection(socket: Socket, coalesce: boolean, subscribers: Socket[]): void {
  const writer = new FrameWriter([socket], coalesce)
  let mode = -1
  let count = 0
  let bytes = 0
  const reader = new FrameReader(
    (msg) => {
      if (mode < 0) {
        mode = msg[0] ?? -1
        if (mode === Mode.SUB) {
          subscribers.push(socket)
          socket.once('close', () => subscribers.splice(subscribers.indexOf(socket), 1))
        }
        return
      }
      switch (mode) {
        case Mode.ECHO:
          writer.send(msg)
          break
        case Mode.ONEWAY:
        case Mode.VALUES:
          if (msg.length === 0) {
            writer.send(u32(count))
            count = 0
          } else {
            if (mode === Mode.VALUES) unpackValue(msg)
            count++
          }
          break
        case Mode.BIG:
          writer.send(u32(msg.length))
          break
        case Mode.STREAM:
          if (msg.length === 0) {
            writer.send(u64(bytes))
            bytes = 0
          } else {
            bytes += msg.length
          }
          break
      }
    },
    (part, last) => {
      bytes += part.length
      if (last && mode === Mode.BIG) {
        writer.send(u32(bytes))
        bytes = 0
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
  socket.on('error', () => {}) // the client going away is its business; 'close' follows
}

class RawClient implements BenchClient {
  private readonly writer: FrameWriter
  private readonly pending = new Pending()
  private readonly reply = new Deferred<Uint8Array>()
  private failure: Error | undefined
  private readonly closed: Promise<void>

  constructor(
    private readonly socket: Socket,
    coalesce: boolean,
    mode: number,
  ) {
    this.writer = new FrameWriter([socket], coalesce)
    const reader = new FrameReader((msg) => {
      if (mode === Mode.ECHO) {
        if (!this.pending.settle(readU32(msg), msg.length - 4))
          socket.destroy(new Error('reply to no request'))
      } else if (!this.reply.resolve(msg.slice())) {
        socket.destroy(new Error('reply to no request'))
      }
    })
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
        const err = this.failure ?? new Error('connection closed')
        this.pending.failAll(err)
        this.reply.reject(err)
        resolve()
      })
    })
    this.writer.send(Uint8Array.of(mode))
  }

  send(payload: Uint8Array): undefined {
    this.writer.send(payload)
  }

  sendValue(value: SampleValue): undefined {
    this.writer.send(packValue(value))
  }

  async barrier(): Promise<number> {
    const reply = this.reply.expect()
    this.writer.send(EMPTY)
    return readU32(await reply)
  }

  echo(payload: Uint8Array): Promise<void> {
    if (this.socket.destroyed) return Promise.reject(this.failure ?? new Error('connection closed'))
    const { id, promise } = this.pending.open(payload.length)
    this.writer.sendWithId(id, payload)
    return promise
  }

  async big(payload: Uint8Array): Promise<void> {
    const reply = this.reply.expect()
    this.writer.send(payload)
    const got = readU32(await reply)
    if (got !== payload.length) throw new Error(`server acknowledged ${got} bytes, sent ${payload.length}`)
  }

  async stream(chunk: Uint8Array, total: number): Promise<void> {
    const reply = this.reply.expect()
    for (let sent = 0; sent < total; ) {
      const view = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent)
      this.writer.send(view)
      sent += view.length
      if (this.writer.needsDrain) await this.writer.drained()
      if (this.socket.destroyed) throw this.failure ?? new Error('connection closed')
    }
    this.writer.send(EMPTY)
    const got = readU64(await reply)
    if (got !== total) throw new Error(`server counted ${got} bytes, sent ${total}`)
  }

  backlogged(): boolean {
    return this.writer.queuedBytes > HIGH_WATER
  }

  async waitWritable(): Promise<void> {
    await this.writer.drained()
    if (this.socket.destroyed) throw this.failure ?? new Error('connection closed')
  }

  close(): Promise<void> {
    this.socket.end()
    return this.closed
  }

  destroy(): void {
    this.socket.destroy()
  }
}

const coalesced = (env: AgentEnv): boolean => env.system === 'raw-coalesced'

export const adapter: Adapter = {
  async serve(env) {
    const coalesce = coalesced(env)
    const subscribers: Socket[] = []
    const fanout = new FrameWriter(subscribers, coalesce)
    const server = createServer((socket) => {
      if (env.transport === 'tcp') socket.setNoDelay(true)
      serveConnection(socket, coalesce, subscribers)
    })
    const address = await listenNet(server, env)
    const bench: BenchServer = {
      address,
      publish: (msg) => void fanout.send(msg),
      backlogged: () => fanout.queuedBytes > HIGH_WATER,
      waitWritable: () => fanout.drained(),
      close: async () => {
        server.close()
        for (const s of subscribers) s.destroy()
      },
    }
    return bench
  },

  async connect(env, address) {
    return new RawClient(await dialNet(address), coalesced(env), modeOf(env.workload))
  },

  async subscribe(env, address, onMessage) {
    const socket = await dialNet(address)
    const reader = new FrameReader(onMessage)
    socket.on('data', (chunk: Buffer) => reader.push(chunk))
    socket.on('error', () => {})
    new FrameWriter([socket], coalesced(env)).send(Uint8Array.of(Mode.SUB))
    return {
      close: async () => {
        socket.end()
        if (!socket.destroyed) await once(socket, 'close')
      },
    }
  },

  async handshake(_env, address) {
    const socket = await dialNet(address)
    socket.end()
    if (!socket.destroyed) await once(socket, 'close')
  },
}

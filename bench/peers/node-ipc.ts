/**
 * node-ipc 14 (declares Node ≥ 22.13; runs on 20 here), default `fast` profile, logging off:
 * events are `{ type, data }` JSON envelopes ended by '\f' on a unix socket. Bytes travel as
 * base64 strings (JSON has no bytes) and the receiver decodes them.
 *
 *   one-way   ipc.of.id.emit('o', base64) / emit('m', value); 'barrier' is answered with the count
 *   echo      emit('echo', { i, d }): node-ipc has no request/response correlation, so the
 *             request carries our own id and the client keeps a Map of them
 *   big       emit('big', base64), answered with the decoded length
 *   fan-out   ipc.server.broadcast('f', base64) to every connected client
 *
 * node-ipc ships no types: the few members used are declared below (and in ambient.d.ts).
 */
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { IPCModule } from 'node-ipc'
import { type Adapter, type BenchClient, HIGH_WATER, type SampleValue } from '../lib/common.ts'
import { socketPath } from '../lib/net.ts'
import { Deferred, Pending } from '../lib/util.ts'
import { fromBase64, toBase64 } from '../lib/values.ts'

interface IpcServer {
  on(event: string, handler: (data: never, socket: Socket) => void): void
  emit(socket: Socket, type: string, data?: unknown): boolean
  broadcast(type: string, data?: unknown): boolean
  start(): void
  stop(): void
  sockets: Socket[]
}

interface IpcClient {
  on(event: string, handler: (data: never) => void): void
  emit(type: string, data?: unknown): boolean
  socket: Socket
}

interface Ipc {
  config: Record<string, unknown>
  server: IpcServer
  of: Record<string, IpcClient>
  serve(path: string, callback: () => void): void
  connectTo(id: string, path: string, callback: () => void): void
  disconnect(id: string): void
}

function newIpc(id: string): Ipc {
  const ipc = new IPCModule() as Ipc
  ipc.config.id = id
  ipc.config.silent = true
  ipc.config.maxRetries = 0
  return ipc
}

async function connectIpc(address: string): Promise<{ ipc: Ipc; server: IpcClient }> {
  const ipc = newIpc(`client-${process.pid}`)
  const connected = new Promise<void>((resolve, reject) => {
    ipc.connectTo('bench', address, () => {
      ipc.of.bench!.on('connect', () => resolve())
      ipc.of.bench!.on('error', (err: never) => reject(err as Error))
    })
  })
  await connected
  return { ipc, server: ipc.of.bench! }
}

class IpcBenchClient implements BenchClient {
  private readonly pending = new Pending()
  private readonly reply = new Deferred<number>()

  constructor(
    private readonly ipc: Ipc,
    private readonly server: IpcClient,
  ) {
    server.on('barrier', (n: number) => this.reply.resolve(n))
    server.on('big', (n: number) => this.reply.resolve(n))
    server.on('echo', (m: { i: number; d: string }) => this.pending.settle(m.i, fromBase64(m.d).length))
    server.on('disconnect', () => {
      const err = new Error('disconnected')
      this.pending.failAll(err)
      this.reply.reject(err)
    })
  }

  send(payload: Uint8Array): undefined {
    this.server.emit('o', toBase64(payload))
  }

  sendValue(value: SampleValue): undefined {
    this.server.emit('m', value)
  }

  barrier(): Promise<number> {
    const reply = this.reply.expect()
    this.server.emit('barrier')
    return reply
  }

  echo(payload: Uint8Array): Promise<void> {
    const { id, promise } = this.pending.open(payload.length)
    this.server.emit('echo', { i: id, d: toBase64(payload) })
    return promise
  }

  async big(payload: Uint8Array): Promise<void> {
    const reply = this.reply.expect()
    this.server.emit('big', toBase64(payload))
    const got = await reply
    if (got !== payload.length) throw new Error(`server acknowledged ${got} bytes, sent ${payload.length}`)
  }

  backlogged(): boolean {
    return this.server.socket.writableLength > HIGH_WATER
  }

  async waitWritable(): Promise<void> {
    const s = this.server.socket
    while (s.writableLength > HIGH_WATER && !s.destroyed) await once(s, 'drain')
  }

  async close(): Promise<void> {
    this.ipc.disconnect('bench')
  }

  destroy(): void {
    this.ipc.disconnect('bench')
  }
}

export const adapter: Adapter = {
  async serve(env) {
    const ipc = newIpc(env.cell)
    const path = socketPath(env)
    await new Promise<void>((resolve) => {
      ipc.serve(path, () => resolve())
      ipc.server.start()
    })
    const server = ipc.server
    let count = 0
    server.on('o', (b64: string) => {
      fromBase64(b64)
      count++
    })
    server.on('m', () => {
      count++
    })
    server.on('barrier', (_: never, socket) => {
      server.emit(socket, 'barrier', count)
      count = 0
    })
    server.on('echo', (m: { i: number; d: string }, socket) => server.emit(socket, 'echo', m))
    server.on('big', (b64: string, socket) => server.emit(socket, 'big', fromBase64(b64).length))
    const waiting = (): Socket[] => server.sockets.filter((s) => s.writableLength > HIGH_WATER)
    return {
      address: path,
      publish: (msg) => void server.broadcast('f', toBase64(msg)),
      backlogged: () => waiting().length > 0,
      waitWritable: async () => {
        for (const s of waiting()) if (!s.destroyed) await once(s, 'drain')
      },
      close: async () => server.stop(),
    }
  },

  async connect(_env, address) {
    const { ipc, server } = await connectIpc(address)
    return new IpcBenchClient(ipc, server)
  },

  async subscribe(_env, address, onMessage) {
    const { ipc, server } = await connectIpc(address)
    server.on('f', (b64: string) => onMessage(fromBase64(b64)))
    return { close: async () => ipc.disconnect('bench') }
  },
}

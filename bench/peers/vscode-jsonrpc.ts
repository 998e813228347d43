/**
 * vscode-jsonrpc (the JSON-RPC 2.0 library under the Language Server Protocol) over a socket:
 * SocketMessageReader/Writer (Content-Length framing), a unix socket or 127.0.0.1. Bytes travel
 * as base64 strings (JSON has no bytes) and the receiver decodes them; values are JSON.
 *
 *   one-way   sendNotification('o', base64) / ('m', value); 'barrier' is a request answered with
 *             the count (a connection handles messages in order)
 *   echo      sendRequest('echo', base64): the built-in request/response
 *   big       sendRequest('big', base64), answered with the decoded length
 *   fan-out   sendNotification('f', base64) on each subscriber's connection
 *
 * Its writer sends one message at a time behind a semaphore and resolves each send's promise
 * once written: producers stop at 4096 unresolved sends.
 */
import { createServer, type Socket } from 'node:net'
import {
  createMessageConnection,
  type MessageConnection,
  SocketMessageReader,
  SocketMessageWriter,
} from 'vscode-jsonrpc/node'
import type { Adapter, BenchClient, SampleValue } from '../lib/common.ts'
import { dialNet, listenNet } from '../lib/net.ts'
import { InflightGate } from '../lib/util.ts'
import { fromBase64, toBase64 } from '../lib/values.ts'

function open(socket: Socket): MessageConnection {
  const conn = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket))
  conn.listen()
  return conn
}

class JsonRpcClient implements BenchClient {
  private readonly gate = new InflightGate(4096)

  constructor(
    private readonly conn: MessageConnection,
    private readonly socket: Socket,
  ) {
    conn.onClose(() => this.gate.fail(new Error('connection closed')))
  }

  send(payload: Uint8Array): undefined {
    this.gate.add()
    this.conn.sendNotification('o', toBase64(payload)).then(this.gate.done, this.gate.done)
  }

  sendValue(value: SampleValue): undefined {
    this.gate.add()
    this.conn.sendNotification('m', value).then(this.gate.done, this.gate.done)
  }

  barrier(): Promise<number> {
    return this.conn.sendRequest<number>('barrier')
  }

  async echo(payload: Uint8Array): Promise<void> {
    const reply = await this.conn.sendRequest<string>('echo', toBase64(payload))
    const got = fromBase64(reply).length
    if (got !== payload.length) throw new Error(`echo of ${got} bytes, sent ${payload.length}`)
  }

  async big(payload: Uint8Array): Promise<void> {
    const got = await this.conn.sendRequest<number>('big', toBase64(payload))
    if (got !== payload.length) throw new Error(`server acknowledged ${got} bytes, sent ${payload.length}`)
  }

  backlogged(): boolean {
    return this.gate.backlogged
  }

  waitWritable(): Promise<void> {
    return this.gate.wait()
  }

  async close(): Promise<void> {
    this.conn.dispose()
    this.socket.end()
  }

  destroy(): void {
    this.conn.dispose()
    this.socket.destroy()
  }
}

export const adapter: Adapter = {
  async serve(env) {
    const subscribers = new Set<MessageConnection>()
    const server = createServer((socket) => {
      if (env.transport === 'tcp') socket.setNoDelay(true)
      socket.on('error', () => {})
      const conn = open(socket)
      let count = 0
      conn.onNotification('o', (b64: string) => {
        fromBase64(b64)
        count++
      })
      conn.onNotification('m', () => {
        count++
      })
      conn.onRequest('barrier', () => {
        const n = count
        count = 0
        return n
      })
      conn.onRequest('echo', (b64: string) => b64)
      conn.onRequest('big', (b64: string) => fromBase64(b64).length)
      conn.onNotification('subscribe', () => {
        subscribers.add(conn)
      })
      conn.onClose(() => subscribers.delete(conn))
    })
    const address = await listenNet(server, env)
    const gate = new InflightGate(4096)
    return {
      address,
      publish: (msg) => {
        const b64 = toBase64(msg)
        for (const conn of subscribers) {
          gate.add()
          conn.sendNotification('f', b64).then(gate.done, gate.done)
        }
        return undefined
      },
      backlogged: () => gate.backlogged,
      waitWritable: () => gate.wait(),
      close: async () => {
        server.close()
        for (const conn of subscribers) conn.dispose()
      },
    }
  },

  async connect(_env, address) {
    const socket = await dialNet(address)
    return new JsonRpcClient(open(socket), socket)
  },

  async subscribe(_env, address, onMessage) {
    const socket = await dialNet(address)
    socket.on('error', () => {})
    const conn = open(socket)
    conn.onNotification('f', (b64: string) => onMessage(fromBase64(b64)))
    await conn.sendNotification('subscribe')
    return {
      close: async () => {
        conn.dispose()
        socket.end()
      },
    }
  },
}

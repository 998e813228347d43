/**
 * The switchboard adapter: drives a `Session` directly (the public API does not exist yet), one
 * channel per message, as the rpc layer will.
 *
 *   one-way   OPEN(NOTIFY, oneWay) carrying the body and FIN
 *   echo      OPEN(REQUEST) + body + FIN; the server writes the body back with FIN
 *   big       one REQUEST channel with the whole body (chunked and flow-controlled by the mux)
 *   barrier   a REQUEST after the one-way messages: channels are handled in order, so its reply
 *             proves every earlier message arrived (the reply carries their count)
 *
 * Server side: sockets accepted by server.ts are wrapped in `SocketTransport` (transport/ has
 * no listen() yet); the client uses `dial()`.
 */
import type { Socket } from 'node:net'
import type { Channel, ChannelHandler } from '../../src/mux/channel.ts'
import { Session, type SessionHandler } from '../../src/session/session.ts'
import { dial } from '../../src/transport/dial.ts'
import { SocketTransport } from '../../src/transport/socket-transport.ts'
import { MessageKind } from '../../src/wire/constants.ts'
import { type BenchClient, HIGH_WATER, Method, readU32, u32 } from './common.ts'
import { turn } from './util.ts'

const EMPTY = new Uint8Array(0)

/** Collects a reply on a client channel and calls `done` once. */
class ReplyHandler implements ChannelHandler {
  private parts: Uint8Array[] | undefined
  private got = 0

  constructor(
    private readonly ch: Channel,
    private readonly keep: boolean,
    private readonly done: (err: Error | undefined, bytes: number, body: Uint8Array | undefined) => void,
  ) {}

  onData(data: Uint8Array, fin: boolean): void {
    this.got += data.length
    if (this.keep && data.length > 0) (this.parts ??= []).push(data.slice())
    this.ch.consume(data.length)
    if (fin) this.done(undefined, this.got, this.parts === undefined ? EMPTY : Buffer.concat(this.parts))
  }

  onEnd(status: number): void {
    this.done(new Error(`channel ended with status ${status}`), this.got, undefined)
  }

  onReset(code: number): void {
    this.done(new Error(`channel reset with code ${code}`), this.got, undefined)
  }

  onWritable(): void {}
}

export class SwitchboardClient implements BenchClient {
  private messageId = 0

  private constructor(private readonly session: Session) {}

  static async connect(address: string, runtimeDir: string, tcp: boolean): Promise<SwitchboardClient> {
    const transport = await dial(address, { runtimeDir, insecure: tcp })
    const session = await Session.establish(transport, 'dialer', {}, { onChannel: (ch) => ch.reset(0) })
    return new SwitchboardClient(session)
  }

  private nextId(): number {
    this.messageId = (this.messageId + 1) & 0x7fffffff
    return this.messageId
  }

  private call(
    method: number,
    body: Uint8Array,
    keep: boolean,
  ): Promise<{ bytes: number; body: Uint8Array }> {
    return new Promise((resolve, reject) => {
      const ch = this.session.open({ kind: MessageKind.REQUEST, method, messageId: this.nextId() })
      ch.bind(
        new ReplyHandler(ch, keep, (err, bytes, reply) =>
          err ? reject(err) : resolve({ bytes, body: reply! }),
        ),
      )
      ch.write(body, true)
    })
  }

  sendOneWay(payload: Uint8Array): void {
    if (this.session.state === 'closed') throw this.session.error ?? new Error('session closed')
    const ch = this.session.open({
      kind: MessageKind.NOTIFY,
      method: Method.ONEWAY,
      messageId: this.nextId(),
      oneWay: true,
    })
    ch.write(payload, true)
  }

  async barrier(): Promise<number> {
    return readU32((await this.call(Method.BARRIER, EMPTY, true)).body)
  }

  request(payload: Uint8Array, done: (err?: Error) => void): void {
    let ch: Channel
    try {
      ch = this.session.open({ kind: MessageKind.REQUEST, method: Method.ECHO, messageId: this.nextId() })
    } catch (err) {
      done(err as Error)
      return
    }
    const expected = payload.length
    ch.bind(
      new ReplyHandler(ch, false, (err, bytes) => {
        if (err) done(err)
        else if (bytes !== expected) done(new Error(`echo of ${bytes} bytes, sent ${expected}`))
        else done()
      }),
    )
    ch.write(payload, true)
  }

  async big(payload: Uint8Array): Promise<void> {
    const got = readU32((await this.call(Method.BIG, payload, true)).body)
    if (got !== payload.length) throw new Error(`server acknowledged ${got} bytes, sent ${payload.length}`)
  }

  backlogged(): boolean {
    return this.session.getStats().queuedBytes > HIGH_WATER
  }

  async waitWritable(): Promise<void> {
    // The session exposes no drain event to the layer above yet: poll once per loop turn.
    while (this.backlogged()) {
      if (this.session.state === 'closed') throw this.session.error ?? new Error('session closed')
      await turn()
    }
  }

  close(): Promise<void> {
    return this.session.close()
  }

  destroy(): void {
    this.session.abort()
  }
}

/** Per-connection server state: the one-way count since the last barrier. */
class ServerState {
  oneway = 0
}

function reply(ch: Channel, body: Uint8Array): void {
  ch.write(body, true)
}

/** The server's handler for one session. */
function serverHandler(state: ServerState): SessionHandler {
  return {
    onChannel(ch: Channel) {
      switch (ch.header.method) {
        case Method.ONEWAY:
          ch.bind({
            onData(data, fin) {
              ch.consume(data.length)
              if (fin) state.oneway++
            },
            onEnd() {},
            onReset() {},
            onWritable() {},
          })
          return
        case Method.BARRIER:
          ch.bind({
            onData(data, fin) {
              ch.consume(data.length)
              if (!fin) return
              reply(ch, u32(state.oneway))
              state.oneway = 0
            },
            onEnd() {},
            onReset() {},
            onWritable() {},
          })
          return
        case Method.ECHO:
          ch.bind({
            onData(data, fin) {
              // `data` is a view into the record: copy it before queuing it again.
              if (data.length > 0) ch.write(data.slice(), fin)
              else if (fin) ch.end()
              ch.consume(data.length)
            },
            onEnd() {},
            onReset() {},
            onWritable() {},
          })
          return
        case Method.BIG: {
          let bytes = 0
          ch.bind({
            onData(data, fin) {
              bytes += data.length
              ch.consume(data.length)
              if (fin) reply(ch, u32(bytes))
            },
            onEnd() {},
            onReset() {},
            onWritable() {},
          })
          return
        }
        default:
          ch.reset(1)
      }
    },
  }
}

/** Serves one accepted socket with a listener session. */
export function serveSwitchboard(socket: Socket, tcp: boolean): void {
  if (tcp) socket.setNoDelay(true)
  const remote = tcp ? `tcp://${socket.remoteAddress}:${socket.remotePort}` : 'unix:bench-client'
  const transport = new SocketTransport(socket, remote, tcp ? socket.remoteAddress : undefined)
  Session.establish(transport, 'listener', {}, serverHandler(new ServerState())).catch((err: unknown) => {
    process.stderr.write(`bench server: session failed: ${(err as Error).message}\n`)
  })
}

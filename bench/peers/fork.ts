/**
 * Node's own `child_process.fork` IPC channel (a unix socketpair; default `json`
 * serialization): what two Node processes of one program use without any library. A channel
 * links a parent and its child only, so the client forks its server, and the fan-out publisher
 * forks its subscribers. Bytes travel as base64 strings and the receiver decodes them.
 *
 *   one-way   child.send(base64) / child.send({ v: value }); { b: 1 } is the barrier, answered
 *             with { b: count }
 *   echo      { e: id, d: base64 } sent back as is: no request/response correlation is built
 *             in, so the request carries our own id and the client keeps a Map of them
 *   big       { B: base64 }, answered with { B: decoded length }
 *   fan-out   the publisher sends each message to every child
 *
 * Back-pressure: send()'s callback fires once a message is written; producers stop at 4096
 * unwritten messages.
 */
import type { ChildProcess } from 'node:child_process'
import type { Adapter, BenchClient, BenchServer, SampleValue } from '../lib/common.ts'
import { Deferred, InflightGate, Pending } from '../lib/util.ts'
import { fromBase64, toBase64 } from '../lib/values.ts'

type Message = string | { v: unknown } | { b: number } | { e: number; d: string } | { B: string | number }

class ForkClient implements BenchClient {
  private readonly pending = new Pending()
  private readonly reply = new Deferred<number>()
  private readonly gate = new InflightGate(4096)

  constructor(private readonly child: ChildProcess) {
    child.on('message', (m: Message) => {
      if (typeof m !== 'object') return
      if ('e' in m) this.pending.settle(m.e, fromBase64(m.d).length)
      else if ('b' in m) this.reply.resolve(m.b)
      else if ('B' in m) this.reply.resolve(m.B as number)
    })
    child.once('disconnect', () => {
      const err = new Error('IPC channel closed')
      this.pending.failAll(err)
      this.reply.reject(err)
      this.gate.fail(err)
    })
  }

  private post(m: Message): void {
    this.gate.add()
    this.child.send(m, this.gate.done)
  }

  send(payload: Uint8Array): undefined {
    this.post(toBase64(payload))
  }

  sendValue(value: SampleValue): undefined {
    this.post({ v: value })
  }

  barrier(): Promise<number> {
    const reply = this.reply.expect()
    this.post({ b: 1 })
    return reply
  }

  echo(payload: Uint8Array): Promise<void> {
    const { id, promise } = this.pending.open(payload.length)
    this.post({ e: id, d: toBase64(payload) })
    return promise
  }

  async big(payload: Uint8Array): Promise<void> {
    const reply = this.reply.expect()
    this.post({ B: toBase64(payload) })
    const got = await reply
    if (got !== payload.length) throw new Error(`server acknowledged ${got} bytes, sent ${payload.length}`)
  }

  backlogged(): boolean {
    return this.gate.backlogged
  }

  waitWritable(): Promise<void> {
    return this.gate.wait()
  }

  async close(): Promise<void> {
    if (this.child.connected) this.child.disconnect()
  }

  destroy(): void {
    if (this.child.connected) this.child.disconnect()
  }
}

/** The server end inside a forked child: answers its parent over process.send. */
function serveParent(): void {
  const send = process.send!.bind(process)
  let count = 0
  process.on('message', (m: Message) => {
    if (typeof m === 'string') {
      fromBase64(m)
      count++
    } else if ('v' in m) {
      count++
    } else if ('b' in m) {
      send({ b: count })
      count = 0
    } else if ('e' in m) {
      send(m)
    } else if ('B' in m) {
      send({ B: fromBase64(m.B as string).length })
    }
  })
}

/** The publisher: sends every message to each child it forked. */
class ForkPublisher implements BenchServer {
  readonly address = 'ipc'
  readonly children: ChildProcess[] = []
  private readonly gate = new InflightGate(4096)

  publish(msg: Uint8Array): undefined {
    const b64 = toBase64(msg)
    for (const child of this.children) {
      this.gate.add()
      child.send(b64, this.gate.done)
    }
  }

  backlogged(): boolean {
    return this.gate.backlogged
  }

  waitWritable(): Promise<void> {
    return this.gate.wait()
  }

  async close(): Promise<void> {
    for (const child of this.children) if (child.connected) child.disconnect()
  }
}

export const adapter: Adapter = {
  async serve() {
    // A forked child serves its parent; the agent the runner started is a fan-out publisher.
    if (process.send !== undefined) serveParent()
    return new ForkPublisher()
  },

  async connect(env) {
    const { child, agent } = await env.forkAgent('server')
    await agent.request('serve')
    return new ForkClient(child)
  },

  async subscribe(_env, _address, onMessage) {
    if (process.send === undefined) throw new Error('a fork subscriber must be a forked child')
    const handler = (m: Message): void => {
      if (typeof m === 'string') onMessage(fromBase64(m))
    }
    process.on('message', handler)
    return { close: async () => void process.off('message', handler) }
  },

  async spawnSubscribers(env, server, n) {
    const forked = await Promise.all(Array.from({ length: n }, () => env.forkAgent('sub')))
    ;(server as ForkPublisher).children.push(...forked.map((f) => f.child))
  },
}

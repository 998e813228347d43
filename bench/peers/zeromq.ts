/**
 * ZeroMQ (the `zeromq` 6 package: libzmq with prebuilt binaries, no install step), as its
 * documentation writes it: `await socket.send(...)` for every message, `for await` to receive.
 *
 *   client/server  DEALER → ROUTER; the first frame says what a message is: one-way bytes,
 *                  one-way value (msgpackr), barrier (replied with the u32 count), echo (a u32 id
 *                  frame and the payload, sent back), big (replied with its u32 length)
 *   fan-out        PUB → SUB on topic "f"; PUB drops at its high-water mark, counted as lost
 *   unix           ipc:// (a unix socket file); tcp: tcp://127.0.0.1 on an ephemeral port
 */
import { join } from 'node:path'
import { Dealer, Publisher, Router, Subscriber } from 'zeromq'
import {
  type Adapter,
  type AgentEnv,
  type BenchClient,
  readU32,
  type SampleValue,
  u32,
} from '../lib/common.ts'
import { Deferred, Pending } from '../lib/util.ts'
import { packValue, unpackValue } from '../lib/values.ts'

const T = { ONEWAY: 1, VALUE: 2, BARRIER: 3, ECHO: 4, BIG: 5 } as const
const TYPE = Object.fromEntries(Object.entries(T).map(([k, v]) => [k, Buffer.of(v)])) as Record<
  keyof typeof T,
  Buffer
>
const TOPIC = Buffer.from('f')

function endpoint(env: AgentEnv): string {
  return env.transport === 'tcp' ? 'tcp://127.0.0.1:*' : `ipc://${join(env.dir, `${env.cell}.ipc`)}`
}

class ZmqClient implements BenchClient {
  private readonly pending = new Pending()
  private readonly reply = new Deferred<Buffer>()

  constructor(private readonly dealer: Dealer) {
    void this.receive()
  }

  private async receive(): Promise<void> {
    try {
      for await (const [type, a, b] of this.dealer) {
        if (type![0] === T.ECHO) this.pending.settle(readU32(a!), b!.length)
        else this.reply.resolve(a!)
      }
    } catch (err) {
      this.pending.failAll(err as Error)
      this.reply.reject(err as Error)
    }
  }

  send(payload: Uint8Array): Promise<void> {
    return this.dealer.send([TYPE.ONEWAY, payload])
  }

  sendValue(value: SampleValue): Promise<void> {
    return this.dealer.send([TYPE.VALUE, packValue(value)])
  }

  async barrier(): Promise<number> {
    const reply = this.reply.expect()
    await this.dealer.send([TYPE.BARRIER])
    return readU32(await reply)
  }

  async echo(payload: Uint8Array): Promise<void> {
    const { id, promise } = this.pending.open(payload.length)
    await this.dealer.send([TYPE.ECHO, u32(id), payload])
    return promise
  }

  async big(payload: Uint8Array): Promise<void> {
    const reply = this.reply.expect()
    await this.dealer.send([TYPE.BIG, payload])
    const got = readU32(await reply)
    if (got !== payload.length) throw new Error(`server acknowledged ${got} bytes, sent ${payload.length}`)
  }

  backlogged(): boolean {
    return false // send() resolves only once the message is queued under the high-water mark
  }

  async waitWritable(): Promise<void> {}

  async close(): Promise<void> {
    this.dealer.linger = 0
    this.dealer.close()
  }

  destroy(): void {
    this.dealer.linger = 0
    this.dealer.close()
  }
}

async function serveRouter(router: Router): Promise<void> {
  let count = 0
  for await (const [id, type, a, b] of router) {
    switch (type![0]) {
      case T.ONEWAY:
        count++
        break
      case T.VALUE:
        unpackValue(a!)
        count++
        break
      case T.BARRIER:
        await router.send([id!, type!, u32(count)])
        count = 0
        break
      case T.ECHO:
        await router.send([id!, type!, a!, b!])
        break
      case T.BIG:
        await router.send([id!, type!, u32(a!.length)])
        break
    }
  }
}

export const adapter: Adapter = {
  async serve(env) {
    if (env.workload === 'fanout') {
      const pub = new Publisher()
      await pub.bind(endpoint(env))
      return {
        address: pub.lastEndpoint!,
        publish: (msg) => pub.send([TOPIC, msg]),
        backlogged: () => false,
        waitWritable: async () => {},
        close: async () => {
          pub.linger = 0
          pub.close()
        },
      }
    }
    const router = new Router()
    await router.bind(endpoint(env))
    serveRouter(router).catch(() => {})
    return {
      address: router.lastEndpoint!,
      publish: () => {
        throw new Error('not a publisher')
      },
      backlogged: () => false,
      waitWritable: async () => {},
      close: async () => {
        router.linger = 0
        router.close()
      },
    }
  },

  async connect(_env, address) {
    const dealer = new Dealer()
    dealer.connect(address)
    const client = new ZmqClient(dealer)
    await client.barrier() // connected, and the server is serving
    return client
  },

  async subscribe(_env, address, onMessage) {
    const sub = new Subscriber()
    sub.connect(address)
    sub.subscribe('f')
    const reading = (async () => {
      for await (const [, msg] of sub) onMessage(msg!)
    })()
    reading.catch(() => {})
    return {
      close: async () => {
        sub.linger = 0
        sub.close()
      },
    }
  },
}

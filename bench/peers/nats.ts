/**
 * NATS (the `nats` 2.29 client) through the run's nats-server (bench/lib/nats-server.ts) on
 * 127.0.0.1: the "server" is a responder client subscribed to the cell's subjects. Callback
 * subscriptions (the client's fast path); payloads are bytes, values go through msgpackr.
 *
 *   one-way   nc.publish(CELL.o, bytes) / nc.publish(CELL.v, packed value); the barrier is a
 *             nc.request on the same subject (a message with a reply subject), answered with the
 *             count: a connection's messages reach the responder in order
 *   echo      nc.request(CELL.e, bytes): the client's built-in request/reply
 *   big       nc.request(CELL.b, bytes), answered with the length (max_payload is 64 MiB)
 *   fan-out   nc.publish(CELL.f, bytes) to 4 subscribing clients; the broker drops messages for
 *             a slow consumer (counted as lost)
 *
 * The client buffers publishes itself and exposes no writable state: the producer waits on
 * nc.flush() (a PING/PONG with the broker) once 1 MiB was published since the last one.
 */
import { connect, type Msg, type NatsConnection } from 'nats'
import {
  type Adapter,
  type AgentEnv,
  type BenchClient,
  type BenchServer,
  HIGH_WATER,
  readU32,
  type SampleValue,
  u32,
} from '../lib/common.ts'
import { packValue, unpackValue } from '../lib/values.ts'

const TIMEOUT = 120_000
const EMPTY = new Uint8Array(0)

function natsUrl(env: AgentEnv): string {
  if (env.natsUrl === undefined) throw new Error('no nats-server for this run')
  return env.natsUrl
}

/** Publish-side back-pressure: flush (a round trip to the broker) after each MiB. */
class FlushGate {
  private bytes = 0

  constructor(private readonly nc: NatsConnection) {}

  add(n: number): void {
    this.bytes += n
  }

  get backlogged(): boolean {
    return this.bytes > HIGH_WATER
  }

  async wait(): Promise<void> {
    this.bytes = 0
    await this.nc.flush()
  }
}

class NatsClient implements BenchClient {
  private readonly gate: FlushGate

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
  ) {
    this.gate = new FlushGate(nc)
  }

  send(payload: Uint8Array): undefined {
    this.nc.publish(`${this.subject}.o`, payload)
    this.gate.add(payload.length)
  }

  sendValue(value: SampleValue): undefined {
    const packed = packValue(value)
    this.nc.publish(`${this.subject}.v`, packed)
    this.gate.add(packed.length)
  }

  async barrier(): Promise<number> {
    // Both one-way subjects count into the same total; a request on either is the barrier.
    const reply = await this.nc.request(`${this.subject}.o`, EMPTY, { timeout: TIMEOUT })
    return readU32(reply.data)
  }

  async echo(payload: Uint8Array): Promise<void> {
    const reply = await this.nc.request(`${this.subject}.e`, payload, { timeout: TIMEOUT })
    if (reply.data.length !== payload.length)
      throw new Error(`echo of ${reply.data.length} bytes, sent ${payload.length}`)
  }

  async big(payload: Uint8Array): Promise<void> {
    const reply = await this.nc.request(`${this.subject}.b`, payload, { timeout: TIMEOUT })
    const got = readU32(reply.data)
    if (got !== payload.length) throw new Error(`server acknowledged ${got} bytes, sent ${payload.length}`)
  }

  backlogged(): boolean {
    return this.gate.backlogged
  }

  waitWritable(): Promise<void> {
    return this.gate.wait()
  }

  async close(): Promise<void> {
    await this.nc.close()
  }

  destroy(): void {
    void this.nc.close()
  }
}

export const adapter: Adapter = {
  async serve(env) {
    const nc = await connect({ servers: natsUrl(env) })
    const subject = env.cell
    if (env.workload === 'fanout') {
      const gate = new FlushGate(nc)
      const server: BenchServer = {
        address: subject,
        publish: (msg) => {
          nc.publish(`${subject}.f`, msg)
          gate.add(msg.length)
          return undefined
        },
        backlogged: () => gate.backlogged,
        waitWritable: () => gate.wait(),
        close: () => nc.close(),
      }
      return server
    }
    let count = 0
    const oneway = (decode: boolean) => (err: Error | null, msg: Msg) => {
      if (err !== null) return
      if (msg.reply !== undefined && msg.reply !== '') {
        msg.respond(u32(count))
        count = 0
        return
      }
      if (decode) unpackValue(msg.data)
      count++
    }
    nc.subscribe(`${subject}.o`, { callback: oneway(false) })
    nc.subscribe(`${subject}.v`, { callback: oneway(true) })
    nc.subscribe(`${subject}.e`, { callback: (err, msg) => err === null && msg.respond(msg.data) })
    nc.subscribe(`${subject}.b`, {
      callback: (err, msg) => err === null && msg.respond(u32(msg.data.length)),
    })
    await nc.flush() // the broker has the subscriptions before any client publishes
    return {
      address: subject,
      publish: () => {
        throw new Error('not a publisher')
      },
      backlogged: () => false,
      waitWritable: async () => {},
      close: () => nc.close(),
    }
  },

  async connect(env, address) {
    return new NatsClient(await connect({ servers: natsUrl(env) }), address)
  },

  async subscribe(env, address, onMessage) {
    const nc = await connect({ servers: natsUrl(env) })
    nc.subscribe(`${address}.f`, { callback: (err, msg) => err === null && onMessage(msg.data) })
    await nc.flush()
    return { close: () => nc.close() }
  },
}

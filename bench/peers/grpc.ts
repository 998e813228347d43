/**
 * gRPC (`@grpc/grpc-js`) with a hand-written service definition (no protoc): bytes go through
 * identity serializers (Buffer in, Buffer out), values through msgpackr. Insecure credentials,
 * on a unix socket (`unix:PATH`) or 127.0.0.1.
 *
 *   one-way   a client-streaming call: call.write(msg), waiting for 'drain' while the call
 *             needs it; the barrier ends the call and its response is the count
 *   echo      a unary call returning its request
 *   big       a unary call (the server's grpc.max_receive_message_length raised from 4 MiB)
 *   fan-out   a server-streaming call per subscriber; the publisher writes each message to every
 *             call, waiting for 'drain' on calls that need it
 */
import { once } from 'node:events'
import {
  type ClientWritableStream,
  credentials,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServerWritableStream,
  type ServiceClientConstructor,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js'
import {
  type Adapter,
  type AgentEnv,
  type BenchClient,
  readU32,
  type SampleValue,
  u32,
} from '../lib/common.ts'
import { socketPath } from '../lib/net.ts'
import { packValue, unpackValue } from '../lib/values.ts'

/** Identity: a Buffer as is, any other Uint8Array viewed as one (no copy). */
const bytes = (b: Uint8Array): Buffer =>
  Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)
const method = (name: string, requestStream: boolean, responseStream: boolean, values = false) => ({
  path: `/bench.Bench/${name}`,
  requestStream,
  responseStream,
  requestSerialize: values ? (v: unknown) => packValue(v) : bytes,
  requestDeserialize: values ? (b: Buffer) => unpackValue(b) : bytes,
  responseSerialize: bytes,
  responseDeserialize: bytes,
})

const SERVICE: ServiceDefinition = {
  oneway: method('Oneway', true, false),
  onewayValues: method('OnewayValues', true, false, true),
  echo: method('Echo', false, false),
  big: method('Big', false, false),
  subscribe: method('Subscribe', false, true),
}
const BenchService: ServiceClientConstructor = makeGenericClientConstructor(SERVICE, 'Bench')
type ServiceClient = InstanceType<ServiceClientConstructor>
/** The big message is over gRPC's default 4 MiB receive limit. */
const OPTIONS = { 'grpc.max_receive_message_length': -1 }
type Callback = (err: Error | null, reply?: Buffer) => void

function target(env: AgentEnv): string {
  return env.transport === 'tcp' ? '127.0.0.1:0' : `unix:${socketPath(env)}`
}

async function dial(address: string): Promise<ServiceClient> {
  const client = new BenchService(address, credentials.createInsecure(), OPTIONS) as ServiceClient
  await new Promise<void>((resolve, reject) =>
    client.waitForReady(Date.now() + 10_000, (err?: Error) => (err ? reject(err) : resolve())),
  )
  return client
}

function unary(client: ServiceClient, name: 'echo' | 'big', request: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const call = client[name] as (req: Uint8Array, cb: Callback) => void
    call.call(client, request, (err, reply) => (err ? reject(err) : resolve(reply!)))
  })
}

class GrpcClient implements BenchClient {
  private call: ClientWritableStream<unknown> | undefined
  private reply: Promise<Buffer> | undefined

  constructor(private readonly client: ServiceClient) {}

  private openCall(name: 'oneway' | 'onewayValues'): ClientWritableStream<unknown> {
    if (this.call === undefined) {
      const open = this.client[name] as (cb: Callback) => ClientWritableStream<unknown>
      this.reply = new Promise((resolve, reject) => {
        this.call = open.call(this.client, (err, reply) => (err ? reject(err) : resolve(reply!)))
      })
      this.reply.catch(() => {})
    }
    return this.call!
  }

  send(payload: Uint8Array): undefined {
    this.openCall('oneway').write(payload)
  }

  sendValue(value: SampleValue): undefined {
    this.openCall('onewayValues').write(value)
  }

  async barrier(): Promise<number> {
    if (this.call === undefined) return 0
    this.call.end()
    const reply = await this.reply!
    this.call = undefined
    this.reply = undefined
    return readU32(reply)
  }

  async echo(payload: Uint8Array): Promise<void> {
    const reply = await unary(this.client, 'echo', payload)
    if (reply.length !== payload.length)
      throw new Error(`echo of ${reply.length} bytes, sent ${payload.length}`)
  }

  async big(payload: Uint8Array): Promise<void> {
    const got = readU32(await unary(this.client, 'big', payload))
    if (got !== payload.length) throw new Error(`server acknowledged ${got} bytes, sent ${payload.length}`)
  }

  backlogged(): boolean {
    return this.call?.writableNeedDrain === true
  }

  async waitWritable(): Promise<void> {
    if (this.call?.writableNeedDrain) await once(this.call, 'drain')
  }

  async close(): Promise<void> {
    this.client.close()
  }

  destroy(): void {
    this.client.close()
  }
}

export const adapter: Adapter = {
  async serve(env) {
    const server = new Server(OPTIONS)
    const subscribers = new Set<ServerWritableStream<Buffer, Uint8Array>>()
    const counting = (call: { on(e: string, f: () => void): void }, done: Callback): void => {
      let n = 0
      call.on('data', () => n++)
      call.on('end', () => done(null, u32(n)))
    }
    const handlers: UntypedServiceImplementation = {
      oneway: counting,
      onewayValues: counting,
      echo: (call: { request: Buffer }, done: Callback) => done(null, call.request),
      big: (call: { request: Buffer }, done: Callback) => done(null, u32(call.request.length)),
      subscribe: (call: ServerWritableStream<Buffer, Uint8Array>) => {
        subscribers.add(call)
        call.on('cancelled', () => subscribers.delete(call))
      },
    }
    server.addService(SERVICE, handlers)
    const address = target(env)
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    )
    const full = (): ServerWritableStream<Buffer, Uint8Array>[] =>
      [...subscribers].filter((call) => call.writableNeedDrain)
    return {
      address: env.transport === 'tcp' ? `127.0.0.1:${port}` : address,
      publish: (msg) => {
        for (const call of subscribers) call.write(msg)
        return undefined
      },
      backlogged: () => full().length > 0,
      waitWritable: async () => {
        for (const call of full()) if (call.writableNeedDrain) await once(call, 'drain')
      },
      close: async () => {
        for (const call of subscribers) call.end()
        server.forceShutdown()
      },
    }
  },

  async connect(_env, address) {
    return new GrpcClient(await dial(address))
  },

  async subscribe(_env, address, onMessage) {
    const client = await dial(address)
    const open = client.subscribe as (req: Buffer) => NodeJS.EventEmitter & { cancel(): void }
    const call = open.call(client, Buffer.alloc(0))
    call.on('data', onMessage)
    call.on('error', () => {})
    return {
      close: async () => {
        call.cancel()
        client.close()
      },
    }
  },
}

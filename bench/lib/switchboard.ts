/**
 * The switchboard adapter, on the public API only (`connect`, `listen`), with default options
 * except what the row's name says (bench/lib/security.ts): what a user would write.
 *
 *   oneway         link.send('oneway', bytes): raw bytes, no serializer
 *   oneway-values  link.send('m', value): the value through the negotiated codec (MessagePack)
 *   barrier        link.request('barrier'): messages on one link are handled in order, so its
 *                  reply proves every earlier one-way message arrived (it carries their count)
 *   echo           link.request('echo', bytes): the handler returns the bytes, sent back raw
 *   big            link.request('big', bytes): one 64 MiB message; the handler returns its length
 *   stream         link.request('stream', body): an async iterable of 256 KiB views of one buffer,
 *                  flow-controlled; the handler reads ctx.body, discards it, returns the count
 *   fanout         peers by name: the publisher joins and peer.publish('fanout', bytes); each
 *                  subscriber process joins and peer.subscribe('fanout') (the local directory in
 *                  the run's directory finds them). Rows whose security differs per side (keys,
 *                  tls) use server.publish and link.subscribe instead.
 *   handshake      connect(address, { waitForReady: true, reconnect: false }), then link.close()
 *
 * The contract rows (switchboard-contract, -novalidate) serve and call echo through the typed
 * contract `Echo` below: server.implement(Echo, …) and link.use(Echo).request('echo', bytes),
 * with validation on or off.
 */
import * as v from 'valibot'
import {
  connect,
  defineProtocol,
  type JoinedPeer,
  type JoinOptions,
  join,
  type Link,
  listen,
  type Peer,
  type ProtocolClient,
} from '../../src/index.ts'
import type { Adapter, AgentEnv, BenchClient, BenchServer, SampleValue, SwitchboardSystem } from './common.ts'
import { clientOptions, serverEndpoint } from './security.ts'
import { InflightGate } from './util.ts'

async function* chunks(chunk: Uint8Array, total: number): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < total; sent += chunk.length) {
    yield total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent)
  }
}

const bytes = v.custom<Uint8Array>((x) => x instanceof Uint8Array, 'not bytes')
const Echo = defineProtocol({
  name: 'bench',
  version: '1.0',
  requests: { echo: { input: bytes, output: bytes } },
})

function contractRow(system: SwitchboardSystem): { validate: boolean } | undefined {
  if (system === 'switchboard-contract') return { validate: true }
  if (system === 'switchboard-contract-novalidate') return { validate: false }
  return undefined
}

class SwitchboardClient implements BenchClient {
  private readonly contract: ProtocolClient<typeof Echo> | undefined

  constructor(
    private readonly link: Link,
    contract: { validate: boolean } | undefined,
  ) {
    this.contract = contract === undefined ? undefined : link.use(Echo, contract)
  }

  send(payload: Uint8Array): undefined {
    // Failures surface through the barrier (its count falls short) and the link's 'sendFailed'.
    void this.link.send('oneway', payload)
  }

  sendValue(value: SampleValue): undefined {
    void this.link.send('m', value)
  }

  barrier(): Promise<number> {
    return this.link.request<number>('barrier')
  }

  async echo(payload: Uint8Array): Promise<void> {
    const reply =
      this.contract === undefined
        ? await this.link.request<Uint8Array>('echo', payload)
        : await this.contract.request('echo', payload)
    if (reply.length !== payload.length)
      throw new Error(`echo of ${reply.length} bytes, sent ${payload.length}`)
  }

  async big(payload: Uint8Array): Promise<void> {
    const got = await this.link.request<number>('big', payload)
    if (got !== payload.length) throw new Error(`server acknowledged ${got} bytes, sent ${payload.length}`)
  }

  async stream(chunk: Uint8Array, total: number): Promise<void> {
    const got = await this.link.request<number>('stream', chunks(chunk, total))
    if (got !== total) throw new Error(`server counted ${got} bytes, sent ${total}`)
  }

  backlogged(): boolean {
    return !this.link.writable
  }

  waitWritable(): Promise<void> {
    return this.link.drained()
  }

  close(): Promise<void> {
    return this.link.close()
  }

  destroy(): void {
    this.link.abort()
  }
}

/** Fan-out through join() where both sides can share one set of options (none, a secret). */
function joinsForFanout(env: AgentEnv): boolean {
  return env.workload === 'fanout' && (env.system === 'switchboard' || env.system === 'switchboard-secret')
}

/** join() options of a fan-out peer: the run's directory, the row's transport and security. */
function peerOptions(env: AgentEnv, name: string): JoinOptions {
  const options = clientOptions(env.system as SwitchboardSystem, env.dir, env)
  return { ...options, name, ...(env.transport === 'tcp' ? { host: '127.0.0.1' } : {}) }
}

/** The publishing side of the fan-out row as a joined peer. */
async function servePeer(env: AgentEnv): Promise<BenchServer> {
  const peer: JoinedPeer = await join(peerOptions(env, `bench-pub-${env.cell}`))
  // publish() resolves once each copy is written or queued: at most 4096 in flight.
  const gate = new InflightGate(4096)
  return {
    address: `sb:bench-pub-${env.cell}`,
    publish: (msg) => {
      gate.add()
      peer.publish('fanout', msg).then(gate.done, gate.done)
      return undefined
    },
    backlogged: () => gate.backlogged,
    waitWritable: () => gate.wait(),
    close: () => peer.leave(),
  }
}

export const adapter: Adapter = {
  async serve(env) {
    if (joinsForFanout(env)) return servePeer(env)
    const { address, options } = serverEndpoint(env.system as SwitchboardSystem, env.dir, env)
    const server = await listen(address, options)
    const counts = new WeakMap<Peer, number>()
    const count = (_data: unknown, ctx: { peer: Peer }): void => {
      counts.set(ctx.peer, (counts.get(ctx.peer) ?? 0) + 1)
    }
    server.handle('oneway', count)
    server.handle('m', count)
    server.handle('barrier', (_data, ctx) => {
      const n = counts.get(ctx.peer) ?? 0
      counts.set(ctx.peer, 0)
      return n
    })
    server.handle<Uint8Array, Uint8Array>('echo', (data) => data)
    const contract = contractRow(env.system as SwitchboardSystem)
    if (contract !== undefined) server.implement(Echo, { echo: (data) => data }, contract)
    server.handle<Uint8Array, number>('big', (data) => data.length)
    server.handle('stream', async (_data, ctx) => {
      let bytes = 0
      for await (const chunk of ctx.body!) bytes += chunk.length
      return bytes
    })
    // publish() resolves once written to every subscriber: at most 4096 in flight.
    const gate = new InflightGate(4096)
    return {
      address: server.address,
      publish: (msg) => {
        gate.add()
        server.publish('fanout', msg).then(gate.done, gate.done)
        return undefined
      },
      backlogged: () => gate.backlogged,
      waitWritable: () => gate.wait(),
      close: () => server.close(),
    }
  },

  async connect(env, address) {
    const options = clientOptions(env.system as SwitchboardSystem, env.dir, env)
    const link = await connect(address, { ...options, waitForReady: true })
    return new SwitchboardClient(link, contractRow(env.system as SwitchboardSystem))
  },

  async subscribe(env, address, onMessage) {
    // A joined peer or a link: either way one subscription, read by one iterator.
    let owner: { subscribe: Link['subscribe']; close(): Promise<void> }
    if (joinsForFanout(env)) {
      const peer = await join(peerOptions(env, `bench-sub-${env.cell}`))
      owner = { subscribe: (topic, options) => peer.subscribe(topic, options), close: () => peer.leave() }
    } else {
      const options = clientOptions(env.system as SwitchboardSystem, env.dir, env)
      owner = await connect(address, { ...options, waitForReady: true })
    }
    const sub = owner.subscribe<Uint8Array>('fanout')
    await sub.ready
    const reading = (async () => {
      for await (const msg of sub) onMessage(msg)
    })()
    reading.catch(() => {})
    return {
      close: async () => {
        sub.close()
        await owner.close()
      },
    }
  },

  async handshake(env, address) {
    const options = clientOptions(env.system as SwitchboardSystem, env.dir, env)
    const link = await connect(address, { ...options, waitForReady: true, reconnect: false })
    await link.close()
  },
}

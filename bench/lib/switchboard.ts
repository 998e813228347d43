/**
 * The switchboard adapter, on the public API only (`connect`, `listen`): what a user would write.
 * Three systems share it: plain, a shared secret, and TLS (bench/lib/security.ts has their options).
 *
 *   one-way   link.send('oneway', bytes): raw bytes, no serializer
 *   echo      link.request('echo', bytes): the handler returns the bytes, sent back raw
 *   big       link.request('big', stream): the body streams in 256 KiB views of one buffer,
 *             flow-controlled; the handler counts it and returns the count
 *   barrier   link.request('barrier'): messages on one connection are handled in order, so its
 *             reply proves every earlier one-way message arrived (it carries their count)
 */
import { connect, type Link, listen, type Peer, type Server } from '../../src/index.ts'
import type { BenchClient, SwitchboardSystem } from './common.ts'
import { clientOptions, serverEndpoint } from './security.ts'

const BIG_CHUNK = 256 * 1024

async function* chunksOf(payload: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < payload.length; at += BIG_CHUNK) yield payload.subarray(at, at + BIG_CHUNK)
}

export class SwitchboardClient implements BenchClient {
  private constructor(private readonly link: Link) {}

  static async connect(
    system: SwitchboardSystem,
    address: string,
    dir: string,
    tcp: boolean,
  ): Promise<SwitchboardClient> {
    const link = await connect(address, { ...clientOptions(system, dir, tcp), waitForReady: true })
    return new SwitchboardClient(link)
  }

  sendOneWay(payload: Uint8Array): void {
    if (this.link.state === 'closed') throw new Error('link closed')
    // Failures surface through the barrier (its count falls short) and the link's 'sendFailed'.
    void this.link.send('oneway', payload)
  }

  barrier(): Promise<number> {
    return this.link.request<number>('barrier')
  }

  request(payload: Uint8Array, done: (err?: Error) => void): void {
    this.link.request<Uint8Array>('echo', payload).then(
      (reply) =>
        reply.length === payload.length
          ? done()
          : done(new Error(`echo of ${reply.length} bytes, sent ${payload.length}`)),
      (err: Error) => done(err),
    )
  }

  async big(payload: Uint8Array): Promise<void> {
    const got = await this.link.request<number>('big', chunksOf(payload))
    if (got !== payload.length) throw new Error(`server acknowledged ${got} bytes, sent ${payload.length}`)
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

/** Starts the bench service for `system` (plain, secret or TLS); one-way counts are kept per connection. */
export async function serveSwitchboard(
  system: SwitchboardSystem,
  dir: string,
  tcp: boolean,
): Promise<Server> {
  const { address, options } = serverEndpoint(system, dir, tcp)
  const server = await listen(address, options)
  const onewayCounts = new WeakMap<Peer, number>()
  server.handle('oneway', (_data, ctx) => {
    onewayCounts.set(ctx.peer, (onewayCounts.get(ctx.peer) ?? 0) + 1)
  })
  server.handle('barrier', (_data, ctx) => {
    const n = onewayCounts.get(ctx.peer) ?? 0
    onewayCounts.set(ctx.peer, 0)
    return n
  })
  server.handle<Uint8Array, Uint8Array>('echo', (data) => data)
  server.handle('big', async (_data, ctx) => {
    let bytes = 0
    for await (const chunk of ctx.body!) bytes += chunk.length
    return bytes
  })
  return server
}

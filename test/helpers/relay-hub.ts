/**
 * A test-local relay hub: an ordinary listen() server with a RelayHub on `daemon.relay` and a
 * `hub.register` method by which a peer names the instance it answers for (the daemon proper
 * learns it from registration). Peers reach each other through it with dialRelayed(); a target
 * serves the hub's `relay.accept` calls with relayAcceptHandler().
 */
import { RelayHub, type RelayHubOptions, relayTargetOf } from '../../src/daemon/relay-hub.ts'
import { listen } from '../../src/link/api.ts'
import type { ListenOptions } from '../../src/link/options.ts'
import type { Server } from '../../src/link/server.ts'
import { RELAY_METHOD } from '../../src/peer/relay-header.ts'
import type { Peer } from '../../src/rpc/types.ts'

export const REGISTER_METHOD = 'hub.register'

export interface HubServer {
  readonly server: Server
  readonly hub: RelayHub
  readonly address: string
  close(): Promise<void>
}

/** Sees every chunk the hub forwards, in either direction (the test's capture point). */
export type Tap = (direction: 'toTarget' | 'toDialer', chunk: Uint8Array) => void

async function* tapped(
  source: AsyncIterable<Uint8Array>,
  direction: 'toTarget' | 'toDialer',
  tap: Tap,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    tap(direction, chunk)
    yield chunk
  }
}

export async function startHub(
  address: string,
  options: ListenOptions,
  hubOptions: RelayHubOptions = {},
  tap?: Tap,
): Promise<HubServer> {
  const targets = new Map<string, Pick<Peer, 'request'>>()
  const hub = new RelayHub((instance) => {
    const peer = targets.get(instance)
    if (peer === undefined) return undefined
    const target = relayTargetOf(instance, peer)
    if (tap === undefined) return target
    return {
      instance,
      open: async (toTarget, signal) =>
        tapped(await target.open(tapped(toTarget, 'toTarget', tap), signal), 'toDialer', tap),
    }
  }, hubOptions)
  const server = await listen(address, options)
  server.handle<{ instance: string }, null>(REGISTER_METHOD, ({ instance }, ctx) => {
    targets.set(instance, ctx.peer)
    return null
  })
  server.handle(RELAY_METHOD, hub.handler)
  return {
    server,
    hub,
    address: server.address,
    close: () => server.close(),
  }
}

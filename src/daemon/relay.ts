/**
 * The daemon's relay, wired: `daemon.relay` is served by a RelayHub whose targets are the
 * peers registered here, each reached over the connection that holds its lease (the peer's own
 * link to the daemon, which serves `relay.accept`).
 *
 * Who may reach whom: the caller's connection and the target's lease each have a principal.
 * - With auth configured, DaemonAuth.mayReach decides (the policy: the same principal always;
 *   another one, such as another OS user, only through an explicit `reach` entry).
 * - An open daemon (no auth) relays only between connections of the same principal, which there
 *   is the client's handshake key: two peers that share a key pair. Anything else is refused,
 *   because an open daemon cannot tell who a client is, and relaying between strangers would let
 *   any local user reach another user's private peers. Configure auth to relay across users.
 */
import type { RpcConnection } from '../rpc/connection.ts'
import type { Handler, HandlerContext } from '../rpc/types.ts'
import type { DaemonAuth, Principal } from './auth.ts'
import type { LeaseTable } from './leases.ts'
import type { ConnectionState } from './methods.ts'
import { RELAY_METHOD, RelayHub, type RelayTarget, relayTargetOf } from './relay-hub.ts'

export interface DaemonRelayContext {
  readonly table: LeaseTable
  readonly auth: DaemonAuth | undefined
  stateOf(conn: RpcConnection): ConnectionState
  log(event: string, fields: Record<string, unknown>): void
}

export interface DaemonRelay {
  readonly hub: RelayHub
  readonly handlers: Record<string, Handler>
}

function same(a: Principal, b: Principal): boolean {
  if (a.kind !== b.kind) return false
  if (a.kind === 'os-user' && a.uid !== undefined && b.uid !== undefined) return a.uid === b.uid
  return a.name === b.name
}

export function daemonRelay(c: DaemonRelayContext): DaemonRelay {
  const lookup = (instance: string): RelayTarget | undefined => {
    const owner = c.table.ownerOf(instance)
    // Every owner in the daemon's table is a connection's state; the check keeps the type honest.
    if (owner === undefined || !('conn' in owner)) return undefined
    return relayTargetOf(instance, (owner as ConnectionState).conn)
  }
  const mayReach = (ctx: HandlerContext, target: RelayTarget): boolean => {
    const state = c.stateOf(ctx.peer as RpcConnection)
    const from = state.principal
    const to = c.table.principalOf(target.instance)
    const entry = c.table.entryOf(target.instance)
    if (from === undefined || to === undefined || entry === undefined) {
      c.log('relay', { allowed: false, instance: target.instance, why: 'no principal' })
      return false
    }
    const allowed = c.auth === undefined ? same(from, to) : c.auth.mayReach(from, to, entry.name)
    c.log('relay', {
      allowed,
      from: `${from.kind}:${from.name}`,
      to: `${to.kind}:${to.name}`,
      name: entry.name,
      instance: target.instance,
    })
    return allowed
  }
  const hub = new RelayHub(lookup, { mayReach })
  // An unproven caller (no principal) reaches nobody: mayReach refuses it, coded.
  return { hub, handlers: { [RELAY_METHOD]: hub.handler } }
}

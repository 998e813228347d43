/**
 * The daemon's RPC methods (docs/daemon.md §Methods). Each handler finds the calling
 * connection's state (its principal and its leases) from the connection the call came on.
 *
 *   daemon.register  {entry, leaseMs?} → {leaseMs}
 *   daemon.heartbeat {instance}        → {}
 *   daemon.withdraw  {instance}        → {}
 *   daemon.list      {}                → PeerEntry[]
 *   daemon.suspect   {instance}        → {}   (leases decide liveness: nothing to do now)
 *   daemon.auth.local / daemon.auth.prove / daemon.auth.password: only with an auth configured
 */
import { checkEntry, isValidInstance } from '../discovery/entry.ts'
import { sbError } from '../errors.ts'
import type { RpcConnection } from '../rpc/connection.ts'
import type { Handler, HandlerContext } from '../rpc/types.ts'
import type { DaemonAuth, Principal } from './auth.ts'
import type { LeaseOwner, LeaseTable } from './leases.ts'

/** What the daemon keeps per connection. */
export interface ConnectionState extends LeaseOwner {
  /** The connection itself: the relay opens calls to a registered peer through it. */
  readonly conn: RpcConnection
  /** The connection's remote IP, or 'local' for the unix socket (the password back-off's source). */
  readonly source: string
  /** The uid this connection's last daemon.auth.local claimed: daemon.auth.prove proves that one. */
  localUid: number | undefined
}

export interface MethodContext {
  readonly table: LeaseTable
  readonly auth: DaemonAuth | undefined
  /** The state of the connection a call came on. */
  stateOf(conn: RpcConnection): ConnectionState
  /** A login on `conn` succeeded (it leaves the login gate) or failed (counted toward closing it). */
  loginDone(conn: RpcConnection, ok: boolean): void
  /** The connection used up its failed logins: it gets no more tries (the gate closes it). */
  loginSpent(conn: RpcConnection): boolean
  log(event: string, fields: Record<string, unknown>): void
}

function record(data: unknown, what: string): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw sbError('INVALID_ARGUMENT', `${what} takes an object`)
  return data as Record<string, unknown>
}

function instanceOf(data: unknown, what: string): string {
  const instance = record(data, what)['instance']
  if (!isValidInstance(instance)) throw sbError('INVALID_ARGUMENT', `${what} needs a valid instance`)
  return instance
}

function text(v: unknown, what: string, max = 1024): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw sbError('INVALID_ARGUMENT', `${what} must be a string of 1–${max} characters`)
  return v
}

function connOf(ctx: HandlerContext): RpcConnection {
  // A handler's peer is the connection the call arrived on.
  return ctx.peer as RpcConnection
}

export function daemonMethods(c: MethodContext): Record<string, Handler> {
  const principalFor = (state: ConnectionState): Principal => {
    if (state.principal !== undefined) return state.principal
    throw sbError(
      'NOT_PERMITTED',
      'this connection has not authenticated (daemon.auth.local, daemon.auth.password or a known key)',
    )
  }
  const methods: Record<string, Handler> = {
    'daemon.register': (data, ctx) => {
      const args = record(data, 'daemon.register')
      const checked = checkEntry(args['entry'])
      if (checked.problem !== undefined)
        throw sbError('INVALID_ARGUMENT', `daemon.register: entry ${checked.problem}`)
      const leaseMs = args['leaseMs']
      if (leaseMs !== undefined && typeof leaseMs !== 'number')
        throw sbError('INVALID_ARGUMENT', 'daemon.register: leaseMs must be a number')
      const state = c.stateOf(connOf(ctx))
      const principal = principalFor(state)
      if (c.auth !== undefined && !c.auth.mayRegister(principal, checked.entry.name))
        throw sbError('NOT_PERMITTED', `${principal.name} may not register '${checked.entry.name}'`)
      const granted = c.table.register(state, principal, checked.entry, leaseMs)
      return { leaseMs: granted }
    },
    'daemon.heartbeat': (data, ctx) => {
      c.table.heartbeat(c.stateOf(connOf(ctx)), instanceOf(data, 'daemon.heartbeat'))
      return {}
    },
    'daemon.withdraw': (data, ctx) => {
      c.table.withdraw(c.stateOf(connOf(ctx)), instanceOf(data, 'daemon.withdraw'))
      return {}
    },
    'daemon.list': (_data, ctx) => {
      principalFor(c.stateOf(connOf(ctx)))
      return c.table.list()
    },
    'daemon.suspect': (data) => {
      instanceOf(data, 'daemon.suspect')
      return {}
    },
  }
  const auth = c.auth
  if (auth === undefined) return methods
  /** Runs one login step; the gate learns whether it proved a principal. */
  const counted = async (
    ctx: HandlerContext,
    step: () => Promise<Principal>,
  ): Promise<{ principal: Principal }> => {
    const conn = connOf(ctx)
    const state = c.stateOf(conn)
    if (c.loginSpent(conn))
      throw sbError(
        'AUTH_FAILED',
        'too many failed logins on this connection: it closes at its login deadline',
      )
    let principal: Principal
    try {
      principal = await step()
    } catch (err) {
      c.loginDone(conn, false)
      c.log('auth-failed', { source: state.source, code: (err as { code?: unknown }).code })
      throw err
    }
    state.principal = principal
    c.loginDone(conn, true)
    c.log('auth', {
      kind: principal.kind,
      name: principal.name,
      source: state.source,
      security: state.conn.security,
    })
    return { principal }
  }
  methods['daemon.auth.local'] = (data, ctx) => {
    const uid = record(data, 'daemon.auth.local')['uid']
    if (typeof uid !== 'number' || !Number.isInteger(uid) || uid < 0 || uid > 2 ** 32 - 1)
      throw sbError('INVALID_ARGUMENT', 'daemon.auth.local needs a uid')
    c.stateOf(connOf(ctx)).localUid = uid
    return auth.beginLocal(uid)
  }
  methods['daemon.auth.prove'] = (data, ctx) =>
    counted(ctx, () => {
      const a = record(data, 'daemon.auth.prove')
      // The uid is the one this connection claimed, never one named now.
      const uid = c.stateOf(connOf(ctx)).localUid
      if (uid === undefined) throw sbError('AUTH_FAILED', 'daemon.auth.prove before daemon.auth.local')
      return auth.finishLocal(
        uid,
        text(a['cookieId'], 'cookieId'),
        text(a['challenge'], 'challenge'),
        text(a['clientChallenge'], 'clientChallenge'),
        text(a['proof'], 'proof'),
      )
    })
  methods['daemon.auth.password'] = (data, ctx) =>
    counted(ctx, () => {
      const a = record(data, 'daemon.auth.password')
      return auth.password(
        text(a['user'], 'user', 256),
        text(a['password'], 'password', 4096),
        c.stateOf(connOf(ctx)).source,
      )
    })
  return methods
}

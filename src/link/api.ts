/**
 * The three ways in: listen(), connect() and pair().
 */
import { isSwitchboardError, type SwitchboardError, sbError } from '../errors.ts'
import { RpcConnection } from '../rpc/connection.ts'
import type { Handler } from '../rpc/types.ts'
import { resolveSecurity } from '../session/security-options.ts'
import { parseAddress } from '../transport/address.ts'
import { dial } from '../transport/dial.ts'
import { Link } from './link.ts'
import type { ConnectOptions, ListenOptions } from './options.ts'
import { Server } from './server.ts'

function refusePeerNames(address: string): void {
  const parsed = parseAddress(address) // throws ADDRESS_INVALID / SCHEME_UNSUPPORTED
  if (parsed.kind === 'peer') {
    throw sbError(
      'PEER_NAME_UNSUPPORTED',
      `'${address}' names a joined peer; connect() and listen() take socket addresses`,
    )
  }
}

/** Listens on `address` (a bare name, unix:, pipe:, tcp://) and resolves once it accepts. */
export async function listen(address: string, options: ListenOptions = {}): Promise<Server> {
  refusePeerNames(address)
  resolveSecurity(options) // bad secrets, keys and key files fail here, not per connection
  const server = new Server(options)
  await server.start(address)
  return server
}

/**
 * Returns a link to `address` at once, in state 'connecting' (or, with waitForReady, once the
 * first hello exchange is done). Calls made while connecting wait, under their deadlines.
 */
export async function connect(address: string, options: ConnectOptions = {}): Promise<Link> {
  refusePeerNames(address)
  resolveSecurity(options)
  const link = new Link(address, options)
  startDial(link, address, options)
  if (options.waitForReady) await link.ready()
  return link
}

function startDial(link: Link, address: string, options: ConnectOptions): void {
  dial(address, options)
    .then((t) => RpcConnection.open(t, 'dialer', options, link.handlers))
    .then(
      (conn) => link.attach(conn),
      (err: SwitchboardError) => link.failConnect(err),
    )
}

export interface PairOptions extends ConnectOptions {
  /** Handles every request from the other process (method name as the first argument). */
  onRequest?: (method: string, data: unknown) => unknown
}

/**
 * Simple IPC's pair: two processes run identical code; the first to call pair() serves, the
 * second connects; both can request, send and publish. A third process gets PAIR_FULL.
 */
export async function pair(
  address: string,
  options: PairOptions = {},
): Promise<Link & { role: 'server' | 'client' }> {
  refusePeerNames(address)
  const handlers: Record<string, Handler> = { ...options.handlers }
  const link = Object.assign(new Link(address, { ...options, handlers }), {
    role: 'server' as 'server' | 'client',
  })
  if (options.onRequest !== undefined) {
    const onRequest = options.onRequest
    link.handlers.set('*', (data, ctx) => onRequest(ctx.method, data))
  }
  let server: Server | undefined
  try {
    server = await listen(address, { ...options, maxConnections: 1 })
  } catch (err) {
    if (!isSwitchboardError(err, 'ADDRESS_IN_USE')) throw err
  }
  if (server === undefined) {
    link.role = 'client'
    startDial(link, address, options)
  } else {
    const s = server
    for (const [name, fn] of link.handlers) s.handle(name, fn)
    s.once('connection', (conn: RpcConnection) => link.attach(conn))
    link.once('close', () => void s.close())
  }
  if (options.waitForReady) await link.ready()
  return link
}

/**
 * The three ways in: listen(), connect() and pair().
 */
import { isSwitchboardError, sbError } from '../errors.ts'
import { ANY_METHOD, RpcConnection } from '../rpc/connection.ts'
import type { Handler } from '../rpc/types.ts'
import { resolveSecurity } from '../session/security-options.ts'
import { parseAddress } from '../transport/address.ts'
import { dial } from '../transport/dial.ts'
import { Link } from './link.ts'
import { type ConnectOptions, type DialFunction, type ListenOptions, pickTuning } from './options.ts'
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

function defaultDial(options: ConnectOptions): DialFunction {
  return (address, signal) => dial(address, { ...options, signal })
}

/** Dials `address` and runs the hello exchange, presenting the link's id. */
async function openConnection(
  link: Link,
  dialFn: DialFunction,
  address: string,
  signal: AbortSignal,
  options: ConnectOptions,
): Promise<RpcConnection> {
  const transport = await dialFn(address, signal)
  if (signal.aborted) {
    transport.abort()
    throw sbError('CANCELLED', 'link closed while dialing')
  }
  const offered = link.contracts.offers()
  const conn = await RpcConnection.open(
    transport,
    'dialer',
    { ...options, linkId: link.linkId },
    link.handlers,
    { dedupe: link.dedupe, protocols: offered },
  )
  // Implemented while this hello was on its way: announced now.
  for (const offer of link.contracts.offers()) if (!offered.includes(offer)) conn.announce(offer)
  // Pending until the peer has processed our hello (its SETTINGS acknowledgement): both hellos
  // cross at once, so a dial counts as pending (maxPendingConnects) exactly as long as the peer
  // sees it handshaking, and a refusal it sends with its hello (PAIR_FULL) is seen here.
  try {
    await conn.confirmed()
  } catch (err) {
    conn.abort()
    throw err
  }
  return conn
}

/**
 * Returns a link to `address` at once, in state 'connecting' (or, with waitForReady, once the
 * first hello exchange is done). Calls made while connecting wait, under their deadlines. Give
 * several addresses of one destination to spread the link's pool over them.
 */
export async function connect(
  address: string | readonly string[],
  options: ConnectOptions = {},
): Promise<Link> {
  const link = openLink(address, options)
  if (options.waitForReady) await link.ready()
  return link
}

/** connect() without the wait: the link, in state 'connecting'. Throws what connect() rejects with. */
export function openLink(address: string | readonly string[], options: ConnectOptions = {}): Link {
  const addresses = typeof address === 'string' ? [address] : [...address]
  if (addresses.length === 0) throw sbError('INVALID_ARGUMENT', 'connect() needs at least one address')
  if (options.dial === undefined) for (const a of addresses) refusePeerNames(a)
  resolveSecurity(options) // a bad secret, key file or allow list fails here, coded
  const dialFn = options.dial ?? defaultDial(options)
  const link = new Link({
    addresses,
    tuning: pickTuning(options),
    handlers: options.handlers,
    acquire: (l, a, signal) => openConnection(l, dialFn, a, signal, options),
  })
  link.begin()
  return link
}

export interface PairOptions extends ConnectOptions {
  /** Handles every request from the other process (method name as the first argument). */
  onRequest?: (method: string, data: unknown) => unknown
}

export type PairLink = Link & { role: 'server' | 'client' }

/**
 * Two processes run identical code and meet at one address: the first to call pair() serves,
 * the second connects; both can request, send and publish. A third process gets PAIR_FULL. When
 * the serving process goes away, the survivor takes the address over and serves, and a
 * restarted process connects to it; both keep their link.
 */
export async function pair(address: string, options: PairOptions = {}): Promise<PairLink> {
  refusePeerNames(address)
  const handlers: Record<string, Handler> = { ...options.handlers }
  const dialFn = options.dial ?? defaultDial(options)
  const side = new PairSide(address, options, dialFn)
  const link: PairLink = Object.assign(
    new Link({
      addresses: [address],
      tuning: { ...pickTuning(options), poolMax: 1 },
      handlers,
      acquire: (l, _a, signal) => side.acquire(l, signal),
    }),
    { role: 'client' as 'server' | 'client' },
  )
  side.link = link
  if (options.onRequest !== undefined) {
    const onRequest = options.onRequest
    link.handlers.set(ANY_METHOD, (data, ctx) => onRequest(ctx.method, data))
  }
  link.once('close', () => void side.server?.close())
  // The first acquire decides the role before pair() returns.
  await side.claim()
  link.begin()
  if (options.waitForReady) await link.ready()
  return link
}

/** How a pair's link gets its connection: serve the address if it is free, else dial it. */
class PairSide {
  link: PairLink | undefined
  server: Server | undefined
  private readonly spare: RpcConnection[] = []
  private waiter: ((conn: RpcConnection) => void) | undefined

  constructor(
    private readonly address: string,
    private readonly options: PairOptions,
    private readonly dialFn: DialFunction,
  ) {}

  /** Tries to serve the address; false when a live process already does. */
  async claim(): Promise<boolean> {
    if (this.server !== undefined) return true
    let server: Server
    try {
      server = await listen(this.address, { ...this.options, maxConnections: 1 })
    } catch (err) {
      if (isSwitchboardError(err, 'ADDRESS_IN_USE')) return false
      throw err
    }
    this.server = server
    server.handlers = this.link!.handlers
    server.contracts = this.link!.contracts
    server.on('connection', (conn: RpcConnection) => {
      const w = this.waiter
      this.waiter = undefined
      if (w !== undefined) w(conn)
      else this.spare.push(conn)
    })
    this.link!.role = 'server'
    return true
  }

  async acquire(link: Link, signal: AbortSignal): Promise<RpcConnection> {
    if (await this.claim()) return this.nextConnection(signal)
    if (this.link !== undefined) this.link.role = 'client'
    return openConnection(link, this.dialFn, this.address, signal, this.options)
  }

  private nextConnection(signal: AbortSignal): Promise<RpcConnection> {
    while (this.spare.length > 0) {
      const c = this.spare.shift()!
      if (c.canOpen) return Promise.resolve(c)
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.waiter = undefined
        reject(sbError('CANCELLED', 'link closed while waiting for the other process'))
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.waiter = (conn) => {
        signal.removeEventListener('abort', onAbort)
        resolve(conn)
      }
    })
  }
}

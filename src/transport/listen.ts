/**
 * listen(): parse → resolve → security gate → (unix: replace a stale socket) → listen. Accepted
 * sockets are paused until their transport is bound; TCP sets noDelay. The listener reports its
 * resolved address (the real port for port 0, the real socket path for names and long paths) and
 * removes its socket file on close.
 */
import { lookup } from 'node:dns/promises'
import { lstat, unlink } from 'node:fs/promises'
import { createServer, isIP, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { debuglog } from 'node:util'
import { type SwitchboardError, sbError } from '../errors.ts'
import { errnoCode } from '../internal/errno.ts'
import { formatAddress, type ParsedAddress, parseAddress } from './address.ts'
import { type Endpoint, resolveEndpoint } from './endpoint.ts'
import { requireSecureOrInsecureOk } from './security-gate.ts'
import { SocketTransport } from './socket-transport.ts'
import type { ListenOptions, Transport, TransportListener } from './types.ts'
import { claimSocketPath } from './unix-claim.ts'

const debug = debuglog('switchboard')

/** Longest a TLS handshake may take before the socket is dropped, ms (the session deadline starts after). */
const TLS_HANDSHAKE_TIMEOUT_MS = 5_000

function createListener(endpoint: Endpoint, options: ListenOptions): { server: Server; event: string } {
  if (endpoint.kind !== 'tcp' || !endpoint.tls) {
    return { server: createServer({ pauseOnConnect: true, noDelay: true }), event: 'connection' }
  }
  const t = options.tls
  if (t?.cert === undefined || t.key === undefined) {
    throw sbError('INVALID_ARGUMENT', `${endpoint.address}: a TLS listener needs tls.cert and tls.key`)
  }
  try {
    const server = createTlsServer({
      cert: t.cert as string[],
      key: t.key,
      ...(t.ca === undefined ? {} : { ca: t.ca as string[] }),
      requestCert: t.requestCert === true,
      rejectUnauthorized: t.requestCert === true,
      handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
      noDelay: true,
    })
    server.on('tlsClientError', (err) =>
      debug('tls client error on %s: %s', endpoint.address, errnoCode(err)),
    )
    if (options.admitTls !== undefined) gateTlsHandshakes(server, options.admitTls, endpoint.address)
    return { server, event: 'secureConnection' }
  } catch (err) {
    throw sbError('INVALID_ARGUMENT', `tls options for ${endpoint.address}: ${(err as Error).message}`, {
      cause: err,
    })
  }
}

/**
 * Counts TLS handshakes against the server's limits: a slot is taken when the TCP connection
 * arrives and freed when its TLS handshake succeeds (the session's own handshake then takes a
 * slot of its own) or the socket closes. Without this a TLS slowloris would be bounded only by
 * the 5 s TLS handshake timeout, not by count. Registered before the listener's own
 * 'secureConnection' handler, so the slot is free again when that one runs.
 */
function gateTlsHandshakes(
  server: Server,
  admit: NonNullable<ListenOptions['admitTls']>,
  address: string,
): void {
  const handshaking = new Map<string, () => void>()
  const keyOf = (s: Socket): string => `${s.remoteAddress}|${s.remotePort}`
  server.on('connection', (raw: Socket) => {
    const leave = admit(raw.remoteAddress)
    if (leave instanceof Error) {
      debug('tls connection on %s refused: %s', address, leave.message)
      raw.destroy()
      return
    }
    const key = keyOf(raw)
    handshaking.set(key, leave)
    raw.once('close', () => {
      leave()
      if (handshaking.get(key) === leave) handshaking.delete(key)
    })
  })
  server.on('secureConnection', (socket: Socket) => {
    const key = keyOf(socket)
    handshaking.get(key)?.()
    handshaking.delete(key)
  })
}

/** Listens on `address` (unix, pipe, tcp, tcp4, tcp6, tls; port 0 picks a free port). */
export async function listen(
  address: string | ParsedAddress,
  options: ListenOptions,
  onConnection: (transport: Transport) => void,
): Promise<TransportListener> {
  const parsed = typeof address === 'string' ? parseAddress(address) : address
  const endpoint = await resolveEndpoint(parsed, options)
  await requireSecureOrInsecureOk(endpoint, options, 'listener')
  const { server, event } = createListener(endpoint, options)
  let resolved = endpoint.address
  // Attached before listening: a connection may be accepted while we still await below.
  server.on(event, (socket: Socket) => onConnection(accepted(socket, endpoint, resolved)))
  if (endpoint.kind === 'ipc') {
    if (!endpoint.pipe) await claimSocketPath(endpoint.path)
    await start(server, endpoint, { path: endpoint.path })
  } else {
    const host = await listenHost(endpoint)
    await start(server, endpoint, { host, port: endpoint.port, ipv6Only: endpoint.family === 6 })
    const bound = server.address()
    if (bound !== null && typeof bound === 'object') {
      resolved = formatAddress(
        endpoint.tls
          ? { kind: 'tls', host: bound.address, port: bound.port }
          : { kind: 'tcp', family: endpoint.family, host: bound.address, port: bound.port },
      )
    }
  }
  server.on('error', (err) => debug('listener %s: %s', resolved, err.message))
  const owned = endpoint.kind === 'ipc' && !endpoint.pipe ? await socketIdentity(endpoint.path) : undefined
  return new ServerListener(server, resolved, endpoint.kind === 'ipc' ? endpoint.path : undefined, owned)
}

class ServerListener implements TransportListener {
  readonly address: string
  private readonly server: Server
  private readonly socketPath: string | undefined
  /** dev:ino of the socket file we created. */
  private readonly owned: string | undefined
  private closing: Promise<void> | undefined

  constructor(server: Server, address: string, socketPath: string | undefined, owned: string | undefined) {
    this.server = server
    this.address = address
    this.socketPath = socketPath
    this.owned = owned
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    // Stops accepting at once; open connections keep going (their owners close them).
    this.server.close()
    if (this.socketPath === undefined || this.owned === undefined) return
    // libuv unlinks the path on close; remove it only if it is still the socket we created.
    if ((await socketIdentity(this.socketPath)) === this.owned) {
      await unlink(this.socketPath).catch(() => undefined)
    }
  }
}

function start(server: Server, endpoint: Endpoint, how: Parameters<Server['listen']>[0]): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening)
      reject(listenError(err, endpoint))
    }
    const onListening = (): void => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(how)
  })
}

async function listenHost(endpoint: Extract<Endpoint, { kind: 'tcp' }>): Promise<string> {
  if (isIP(endpoint.host) !== 0) return endpoint.host
  try {
    return (await lookup(endpoint.host, { family: endpoint.family })).address
  } catch (err) {
    throw sbError('LISTEN_FAILED', `cannot resolve ${endpoint.address}: ${errnoCode(err)}`, { cause: err })
  }
}

function accepted(socket: Socket, endpoint: Endpoint, listenerAddress: string): SocketTransport {
  if (endpoint.kind === 'ipc') return new SocketTransport(socket, listenerAddress, undefined)
  const host = socket.remoteAddress
  const port = socket.remotePort ?? 0
  const remote =
    host === undefined
      ? listenerAddress
      : formatAddress(
          endpoint.tls ? { kind: 'tls', host, port } : { kind: 'tcp', family: endpoint.family, host, port },
        )
  return new SocketTransport(socket, remote, host)
}

function listenError(err: Error, endpoint: Endpoint): SwitchboardError {
  const code = errnoCode(err)
  if (code === 'EADDRINUSE') {
    return sbError('ADDRESS_IN_USE', `${endpoint.address} is already in use`, { cause: err })
  }
  return sbError('LISTEN_FAILED', `could not listen on ${endpoint.address}: ${code}`, {
    cause: err,
    details: { errno: code },
  })
}

/** dev:ino of a socket file, or undefined. */
async function socketIdentity(path: string): Promise<string | undefined> {
  try {
    const st = await lstat(path)
    return st.isSocket() ? `${st.dev}:${st.ino}` : undefined
  } catch {
    return undefined
  }
}

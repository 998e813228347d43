/**
 * dial(): parse → resolve (runtime directory, short socket path) → security gate → connect.
 * A failed connect is CONNECT_FAILED with the OS error as cause and its code in
 * `details.errno` (ECONNREFUSED and ENOENT mean nobody listens yet: worth retrying). An aborted
 * signal rejects with CANCELLED.
 */
import { connect, isIP, type Socket } from 'node:net'
import { connect as connectTls } from 'node:tls'
import { type SwitchboardError, sbError } from '../errors.ts'
import { errnoCode } from '../internal/errno.ts'
import { formatAddress, type ParsedAddress, parseAddress } from './address.ts'
import { type Endpoint, resolveEndpoint } from './endpoint.ts'
import { requireSecureOrInsecureOk } from './security-gate.ts'
import { SocketTransport } from './socket-transport.ts'
import type { DialOptions, Transport } from './types.ts'

/** Connects to `address` (unix, pipe, tcp, tcp4, tcp6, tls). */
export async function dial(address: string | ParsedAddress, options: DialOptions = {}): Promise<Transport> {
  const { signal } = options
  if (signal?.aborted) throw cancelled(signal)
  const parsed = typeof address === 'string' ? parseAddress(address) : address
  if (parsed.kind === 'tcp' && parsed.port === 0) {
    throw sbError('ADDRESS_INVALID', `${formatAddress(parsed)}: port 0 is for listening only`)
  }
  const endpoint = await resolveEndpoint(parsed, options)
  await requireSecureOrInsecureOk(endpoint, options, 'dialer')
  if (signal?.aborted) throw cancelled(signal)
  return connectTo(endpoint, options, signal)
}

function openSocket(endpoint: Endpoint, options: DialOptions): Socket {
  if (endpoint.kind === 'ipc') return connect({ path: endpoint.path })
  if (!endpoint.tls) {
    return connect({ host: endpoint.host, port: endpoint.port, family: endpoint.family, noDelay: true })
  }
  const t = options.tls ?? {}
  const servername = t.servername ?? (isIP(endpoint.host) === 0 ? endpoint.host : undefined)
  const socket = connectTls({
    host: endpoint.host,
    port: endpoint.port,
    ...(servername === undefined ? {} : { servername }),
    ...(t.ca === undefined ? {} : { ca: t.ca as string[] }),
    ...(t.cert === undefined ? {} : { cert: t.cert as string[] }),
    ...(t.key === undefined ? {} : { key: t.key }),
    rejectUnauthorized: true,
  })
  socket.setNoDelay(true)
  return socket
}

function connectTo(
  endpoint: Endpoint,
  options: DialOptions,
  signal: AbortSignal | undefined,
): Promise<Transport> {
  return new Promise((resolve, reject) => {
    let socket: Socket
    try {
      socket = openSocket(endpoint, options)
    } catch (err) {
      // node:tls throws synchronously on unusable certificates or keys.
      reject(
        sbError('INVALID_ARGUMENT', `tls options for ${endpoint.address}: ${(err as Error).message}`, {
          cause: err,
        }),
      )
      return
    }
    const connectEvent = endpoint.kind === 'tcp' && endpoint.tls ? 'secureConnect' : 'connect'
    const done = (): void => {
      socket.off(connectEvent, onConnect)
      socket.off('error', onError)
      signal?.removeEventListener('abort', onAbort)
    }
    const onConnect = (): void => {
      done()
      resolve(wrap(socket, endpoint))
    }
    const onError = (err: Error): void => {
      done()
      socket.destroy()
      const code = errnoCode(err)
      if (endpoint.kind === 'tcp' && endpoint.tls && isTlsFailure(err)) {
        reject(
          sbError(
            'HANDSHAKE_FAILED',
            `TLS handshake with ${endpoint.address} failed: ${code} (${err.message})`,
            {
              cause: err,
              details: { errno: code },
            },
          ),
        )
        return
      }
      reject(
        sbError('CONNECT_FAILED', `could not connect to ${endpoint.address}: ${code}`, {
          cause: err,
          details: { errno: code },
        }),
      )
    }
    const onAbort = (): void => {
      done()
      socket.destroy()
      reject(cancelled(signal!))
    }
    socket.once(connectEvent, onConnect)
    socket.once('error', onError)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function wrap(socket: Socket, endpoint: Endpoint): SocketTransport {
  if (endpoint.kind === 'ipc') return new SocketTransport(socket, endpoint.address, undefined)
  socket.setNoDelay(true)
  const host = socket.remoteAddress
  const port = socket.remotePort ?? endpoint.port
  const remote =
    host === undefined
      ? endpoint.address
      : formatAddress(
          endpoint.tls ? { kind: 'tls', host, port } : { kind: 'tcp', family: endpoint.family, host, port },
        )
  return new SocketTransport(socket, remote, host)
}

/** A certificate or TLS protocol failure (not a refused or unreachable port). */
function isTlsFailure(err: Error): boolean {
  const code = errnoCode(err)
  return ![
    'ECONNREFUSED',
    'ECONNRESET',
    'ENOTFOUND',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'ETIMEDOUT',
    'EPIPE',
  ].includes(code)
}

function cancelled(signal: AbortSignal): SwitchboardError {
  return sbError('CANCELLED', 'dial cancelled', { cause: signal.reason })
}

/**
 * dial(): parse → resolve (runtime directory, short socket path) → security gate → connect.
 * A failed connect is CONNECT_FAILED with the OS error as cause and its code in
 * `details.errno` (ECONNREFUSED and ENOENT mean nobody listens yet: worth retrying). An aborted
 * signal rejects with CANCELLED.
 */
import { connect, type Socket } from 'node:net'
import { type SwitchboardError, sbError } from '../errors.ts'
import { formatAddress, type ParsedAddress, parseAddress } from './address.ts'
import { type Endpoint, resolveEndpoint } from './endpoint.ts'
import { errnoCode } from './errno.ts'
import { requireSecureOrInsecureOk } from './security-gate.ts'
import { SocketTransport } from './socket-transport.ts'
import type { DialOptions, Transport } from './types.ts'

/** Connects to `address` (unix, pipe, tcp, tcp4, tcp6). */
export async function dial(address: string | ParsedAddress, options: DialOptions = {}): Promise<Transport> {
  const { signal } = options
  if (signal?.aborted) throw cancelled(signal)
  const parsed = typeof address === 'string' ? parseAddress(address) : address
  if (parsed.kind === 'tcp' && parsed.port === 0) {
    throw sbError('ADDRESS_INVALID', `${formatAddress(parsed)}: port 0 is for listening only`)
  }
  const endpoint = await resolveEndpoint(parsed, options)
  await requireSecureOrInsecureOk(endpoint, options)
  if (signal?.aborted) throw cancelled(signal)
  return connectTo(endpoint, signal)
}

function connectTo(endpoint: Endpoint, signal: AbortSignal | undefined): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket =
      endpoint.kind === 'ipc'
        ? connect({ path: endpoint.path })
        : connect({ host: endpoint.host, port: endpoint.port, family: endpoint.family, noDelay: true })
    const done = (): void => {
      socket.off('connect', onConnect)
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
    socket.once('connect', onConnect)
    socket.once('error', onError)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function wrap(socket: Socket, endpoint: Endpoint): SocketTransport {
  if (endpoint.kind === 'ipc') return new SocketTransport(socket, endpoint.address, undefined)
  socket.setNoDelay(true)
  const host = socket.remoteAddress
  const remote =
    host === undefined
      ? endpoint.address
      : formatAddress({
          kind: 'tcp',
          family: endpoint.family,
          host,
          port: socket.remotePort ?? endpoint.port,
        })
  return new SocketTransport(socket, remote, host)
}

function cancelled(signal: AbortSignal): SwitchboardError {
  return sbError('CANCELLED', 'dial cancelled', { cause: signal.reason })
}

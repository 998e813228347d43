/**
 * From a parsed address to something to connect to or listen on: a socket path (unix sockets and,
 * on Windows, named pipes) or a TCP host and port. Creates the owner-only runtime directory when a
 * name needs it. A tls:// address is a TCP endpoint with `tls` set. Refuses sb: peer names
 * (PEER_NAME_UNSUPPORTED: peer/ resolves those).
 */
import { sbError } from '../errors.ts'
import { formatAddress, type ParsedAddress } from './address.ts'
import type { RuntimeDirOptions } from './runtime-dir.ts'
import { ensureOwnerOnlyDir, ensureRuntimeDir, fallbackDirPath, runtimeDirPath } from './runtime-dir.ts'
import { fitSocketPath, namedSocketPath, sunPathMax, windowsPipePath } from './socket-path.ts'

/** A local socket: a unix socket path, or a Windows named pipe (`pipe` true). */
export interface IpcEndpoint {
  readonly kind: 'ipc'
  readonly path: string
  readonly pipe: boolean
  /** Display form: unix:/path or pipe:NAME. */
  readonly address: string
}

export interface TcpEndpoint {
  readonly kind: 'tcp'
  readonly host: string
  readonly port: number
  readonly family: 0 | 4 | 6
  /** TLS over this TCP connection (a tls:// address). */
  readonly tls: boolean
  /** Display form: tcp://host:port (scheme per family) or tls://host:port. */
  readonly address: string
}

export type Endpoint = IpcEndpoint | TcpEndpoint

/** Resolves a parsed address (I/O: may create the runtime directory). */
export async function resolveEndpoint(
  address: ParsedAddress,
  options: RuntimeDirOptions = {},
): Promise<Endpoint> {
  const windows = process.platform === 'win32'
  switch (address.kind) {
    case 'tcp':
      return {
        kind: 'tcp',
        host: address.host,
        port: address.port,
        family: address.family,
        tls: false,
        address: formatAddress(address),
      }
    case 'tls':
      return {
        kind: 'tcp',
        host: address.host,
        port: address.port,
        family: 0,
        tls: true,
        address: formatAddress(address),
      }
    case 'peer':
      throw sbError(
        'PEER_NAME_UNSUPPORTED',
        `${formatAddress(address)} is a peer name: join a peer to resolve it (transport dial/listen take socket addresses)`,
      )
    case 'local':
    case 'pipe': {
      if (windows) {
        const path = windowsPipePath(address.name)
        return { kind: 'ipc', path, pipe: true, address: `pipe:${address.name}` }
      }
      const runtimeDir = await ensureRuntimeDir(options)
      return unixEndpoint(namedSocketPath(runtimeDir, address.name), runtimeDir, true)
    }
    case 'unix': {
      if (windows) {
        throw sbError('SCHEME_UNSUPPORTED', `${formatAddress(address)}: use pipe:NAME on Windows`)
      }
      if (Buffer.byteLength(address.path) <= sunPathMax()) {
        return { kind: 'ipc', path: address.path, pipe: false, address: formatAddress(address) }
      }
      const runtimeDir = runtimeDirPath(options)
      return unixEndpoint(address.path, runtimeDir, false)
    }
  }
}

async function unixEndpoint(
  longPath: string,
  runtimeDir: string,
  runtimeReady: boolean,
): Promise<IpcEndpoint> {
  const fitted = fitSocketPath(longPath, { runtimeDir, shortDir: fallbackDirPath(), maxBytes: sunPathMax() })
  if (fitted.dir === 'runtime' && !runtimeReady) await ensureOwnerOnlyDir(runtimeDir, 'runtime directory')
  if (fitted.dir === 'short') await ensureOwnerOnlyDir(fallbackDirPath(), 'short socket directory')
  return { kind: 'ipc', path: fitted.path, pipe: false, address: `unix:${fitted.path}` }
}

/** The transport layer: the duplex seam and its adapters (unix, pipe, tcp; tls later). */
export type {
  LocalNameAddress,
  ParsedAddress,
  PeerNameAddress,
  PipeAddress,
  TcpAddress,
  TlsAddress,
  UnixPathAddress,
} from './address.ts'
export { formatAddress, isValidName, parseAddress } from './address.ts'
export { dial } from './dial.ts'
export type { Endpoint, IpcEndpoint, TcpEndpoint } from './endpoint.ts'
export { resolveEndpoint } from './endpoint.ts'
export { listen } from './listen.ts'
export { ensureRuntimeDir, isOwnerOnlyDir, runtimeDirPath } from './runtime-dir.ts'
export type { SecurityGateOptions } from './security-gate.ts'
export { requireSecureOrInsecureOk } from './security-gate.ts'
export type {
  DialOptions,
  ListenOptions,
  Transport,
  TransportEvents,
  TransportListener,
  TransportOptions,
} from './types.ts'

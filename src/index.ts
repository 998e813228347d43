/**
 * switchboard: named, secure, fast messaging between processes.
 * The curated public API; everything not exported here is internal.
 */

export type { ErrorCode } from './errors.ts'
export { ErrorCodes, isSwitchboardError, SwitchboardError } from './errors.ts'
export type { KeyPair } from './handshake/crypto.ts'
export type { PairLink, PairOptions } from './link/api.ts'
export { connect, listen, pair } from './link/api.ts'
export type { LinkTuning } from './link/defaults.ts'
export { defaultLinkOptions } from './link/defaults.ts'
export type { LinkEvents, LinkState, LinkStats } from './link/link.ts'
export { Link } from './link/link.ts'
export type { ConnectOptions, DialFunction, EndpointOptions, ListenOptions } from './link/options.ts'
export type { ServerConnection, ServerEvents } from './link/server.ts'
export { Server } from './link/server.ts'
export type { ServerClient } from './link/server-client.ts'
export type { MuxLimits as Limits } from './mux/limits.ts'
export { defaultMuxLimits as defaultLimits } from './mux/limits.ts'
export type { Compressor } from './record/compression.ts'
export type { Codec } from './rpc/codec.ts'
export type { ConnectionEvents, ConnectionStats } from './rpc/connection.ts'
export type { DedupeWindow } from './rpc/dedupe.ts'
export { defaultDedupeWindow } from './rpc/dedupe.ts'
export { Subscription } from './rpc/subscription.ts'
export type {
  Handler,
  HandlerContext,
  Peer,
  RequestOptions,
  SendOptions,
  SubscribeOptions,
} from './rpc/types.ts'
export { defaultHandshakeLimits } from './session/handshake-limits.ts'
export {
  generateKeyPair,
  generateSecret,
  readKeyPairFile,
  readPublicKey,
  readSecretFile,
  writeKeyPairFile,
  writeSecretFile,
} from './session/key-files.ts'
export { defaultSessionOptions } from './session/options.ts'
export type { KeysOption, SecurityOptions } from './session/security-options.ts'
export type { TlsOptions, Transport } from './transport/types.ts'

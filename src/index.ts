/**
 * switchboard: named, secure, fast messaging between processes.
 * The curated public API; everything not exported here is internal.
 */

export type { DaemonAuth, Principal } from './daemon/auth.ts'
export type { DaemonConfig } from './daemon/config.ts'
export type { Daemon, DaemonOptions } from './daemon/daemon.ts'
export { startDaemon } from './daemon/daemon.ts'
export type { DaemonLimits } from './daemon/limits.ts'
export { defaultDaemonLimits } from './daemon/limits.ts'
export type { DaemonCall, DaemonLogin } from './discovery/daemon-login.ts'
export { cookieLogin, passwordLogin } from './discovery/daemon-login.ts'
export type { DirectoryChange, PeerEntry } from './discovery/types.ts'
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
export type { ServerEvents, ServerStats } from './link/server.ts'
export { Server } from './link/server.ts'
export type { ServerClient } from './link/server-client.ts'
export type { MuxLimits as Limits } from './mux/limits.ts'
export { defaultMuxLimits as defaultLimits } from './mux/limits.ts'
export { join, resolve } from './peer/join.ts'
export type {
  JoinedPeer,
  JoinedPeerEvents,
  PeerInfo,
  PeerPublishReport,
  PeersChange,
} from './peer/joined-peer.ts'
export type { AllowedPorts, JoinOptions, ResolveOptions } from './peer/options.ts'
export type { OpenRelay, Route } from './peer/routed-dial.ts'
export type { Compressor } from './record/compression.ts'
export type { Codec } from './rpc/codec.ts'
export type { ConnectionEvents, ConnectionStats, RpcConnection } from './rpc/connection.ts'
export { ANY_METHOD } from './rpc/connection.ts'
export type {
  ContractHandlers,
  ContractOptions,
  EventInputOf,
  EventName,
  EventOf,
  HandlerInputOf,
  HandlerOutputOf,
  InputOf,
  IssueSummary,
  MethodName,
  OutputOf,
  PeerProtocol,
  PeerProtocols,
  Protocol,
  ProtocolDefinition,
  RequestContract,
} from './rpc/contract.ts'
export { defineProtocol } from './rpc/contract.ts'
export type { ContractStats, ProtocolClient, ProtocolPublisher } from './rpc/contract-client.ts'
export type { DedupeWindow } from './rpc/dedupe.ts'
export { defaultDedupeWindow } from './rpc/dedupe.ts'
export type { PublishReport } from './rpc/fanout.ts'
export type {
  StandardIssue,
  StandardJsonSchemaConverter,
  StandardJsonSchemaOptions,
  StandardResult,
  StandardSchemaProps,
  StandardSchemaV1,
} from './rpc/standard-schema.ts'
export type { SubscriptionPolicy } from './rpc/subscribe-request.ts'
export type { PublishLimits } from './rpc/subscriber-registry.ts'
export { defaultPublishLimits } from './rpc/subscriber-registry.ts'
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

/**
 * What each system is, where it runs and what it does not run (with the reason RESULTS.md
 * gives). The adapters themselves are bench/lib/raw.ts, bench/lib/switchboard.ts and
 * bench/peers/*.ts; their package versions are pinned in bench/package.json.
 */
import { CEILING, isSwitchboard, type SystemName, type TransportName, type WorkloadName } from './common.ts'

export interface SystemSpec {
  transports: readonly TransportName[]
  /** The npm package measured (its exact version comes from bench/package.json). */
  pkg?: string
  /** How one-way bytes and values travel, and anything else a reader must know. */
  bytes: string
  values: string
  notes: string
  /** Workloads left out of the comparison's scope, and why. */
  skip: Partial<Record<WorkloadName, string>>
  /** Workloads the system cannot do as a user would write it, and why (shown in the table). */
  unsupported?: Partial<Record<WorkloadName, string>>
}

const ONLY_SB = 'switchboard and the raw ceiling only'
const peerSkips = { stream: ONLY_SB, handshake: ONLY_SB } as const
const AS_SB = 'the contract rows measure the call path: echo64 only (the rest is as switchboard)'
const contractSkips = {
  oneway: AS_SB,
  'oneway-values': AS_SB,
  echo: AS_SB,
  big: AS_SB,
  fanout: AS_SB,
  stream: AS_SB,
  handshake: AS_SB,
} as const

export const SPECS: Record<SystemName, SystemSpec> = {
  'raw-coalesced': {
    transports: ['unix', 'tcp'],
    bytes: 'u32-length frames',
    values: 'msgpackr in u32-length frames',
    notes: 'the ceiling: see "The ceiling" above',
    skip: {},
  },
  'raw-naive': {
    transports: ['unix', 'tcp'],
    bytes: 'u32-length frames, one socket.write each',
    values: 'msgpackr, one socket.write each',
    notes: 'the same frames as the ceiling, one write per message',
    skip: { handshake: 'the same connect + close as raw-coalesced' },
  },
  switchboard: {
    transports: ['unix', 'tcp'],
    bytes: 'raw bytes (`link.send(method, Uint8Array)`)',
    values: 'MessagePack (the default codec)',
    notes: 'plain: no security (TCP with `insecure: true`)',
    skip: {},
  },
  'switchboard-secret': {
    transports: ['unix', 'tcp'],
    bytes: 'raw bytes',
    values: 'MessagePack',
    notes: '`secretFile`: Noise NNpsk0 handshake, ChaCha20-Poly1305 records',
    skip: {},
  },
  'switchboard-keys': {
    transports: ['unix', 'tcp'],
    bytes: 'raw bytes',
    values: 'MessagePack',
    notes: '`keyFile` + `allow`: Noise XX handshake; records as switchboard-secret',
    skip: {
      oneway: 'records identical to switchboard-secret: handshake only',
      'oneway-values': 'records identical to switchboard-secret: handshake only',
      echo: 'records identical to switchboard-secret: handshake only',
      echo64: 'records identical to switchboard-secret: handshake only',
      big: 'records identical to switchboard-secret: handshake only',
      fanout: 'records identical to switchboard-secret: handshake only',
      stream: 'records identical to switchboard-secret: handshake only',
    },
  },
  'switchboard-tls': {
    transports: ['tcp'],
    bytes: 'raw bytes',
    values: 'MessagePack',
    notes: '`tls://` with a test CA (node:tls, TLS 1.3)',
    skip: {},
  },
  'switchboard-contract': {
    transports: ['unix', 'tcp'],
    bytes: 'raw bytes, through a typed contract (`use(Echo).request`, `implement(Echo, …)`)',
    values: 'MessagePack',
    notes:
      'plain as switchboard; echo through a contract whose input and output are valibot `custom` schemas (`instanceof Uint8Array`), validated on the server (input before the handler, result before it is sent)',
    skip: contractSkips,
  },
  'switchboard-contract-novalidate': {
    transports: ['unix', 'tcp'],
    bytes: 'raw bytes, through a typed contract',
    values: 'MessagePack',
    notes: 'as switchboard-contract with `validate: false`: the contract path without the schemas',
    skip: contractSkips,
  },
  zeromq: {
    transports: ['unix', 'tcp'],
    pkg: 'zeromq',
    bytes: 'message frames (DEALER → ROUTER; fan-out PUB → SUB)',
    values: 'msgpackr',
    notes:
      'unix is `ipc://`; echo carries a u32 id frame; PUB drops at its high-water mark (counted as lost)',
    skip: peerSkips,
  },
  'node-ipc': {
    transports: ['unix'],
    pkg: 'node-ipc',
    bytes: 'base64 strings in its JSON envelope',
    values: 'JSON (its envelope)',
    notes:
      'default `fast` profile, `silent`; no request/response correlation built in: echo carries our own id; fan-out is `server.broadcast`',
    skip: peerSkips,
    unsupported: {
      big: 'its reader appends each read to the pending text and searches all of it again for the delimiter (quadratic): 1 MiB took 0.3 s, 4 MiB 3.9 s and 16 MiB over 30 s here, so 64 MiB would take many minutes',
    },
  },
  nats: {
    transports: ['tcp'],
    pkg: 'nats',
    bytes: 'message payloads',
    values: 'msgpackr',
    notes:
      "through Debian's nats-server on 127.0.0.1 (`max_payload` raised to 64 MiB, `max_pending` to 256 MiB); server CPU includes the broker's; echo is `nc.request`",
    skip: peerSkips,
  },
  grpc: {
    transports: ['unix', 'tcp'],
    pkg: '@grpc/grpc-js',
    bytes: 'raw Buffer serializers (a hand-written service, no protoc)',
    values: 'msgpackr serializers',
    notes:
      'insecure credentials; one-way is a client-streaming call ended by the barrier; echo and big are unary; fan-out is a server-streaming call per subscriber; `grpc.max_receive_message_length` raised for the big message',
    skip: peerSkips,
  },
  'vscode-jsonrpc': {
    transports: ['unix', 'tcp'],
    pkg: 'vscode-jsonrpc',
    bytes: 'base64 strings in JSON-RPC',
    values: 'JSON',
    notes: 'over a socket (SocketMessageReader/Writer); one-way is sendNotification, echo sendRequest',
    skip: peerSkips,
  },
  fork: {
    transports: ['unix'],
    bytes: 'base64 strings (default `json` serialization)',
    values: 'JSON',
    notes:
      '`child_process.fork` IPC channel (a unix socketpair): the client forks the server, the publisher forks its subscribers; echo carries our own id',
    skip: peerSkips,
  },
}

export interface Row {
  system: SystemName
  transport: TransportName
}

export function rowLabel(row: Row): string {
  return `${row.system} (${row.transport})`
}

/** Why `system` does not run `workload` (out of scope, or unsupported), or undefined when it does. */
export function skipReason(system: SystemName, workload: WorkloadName): string | undefined {
  return SPECS[system].skip[workload] ?? unsupportedReason(system, workload)
}

export function unsupportedReason(system: SystemName, workload: WorkloadName): string | undefined {
  return SPECS[system].unsupported?.[workload]
}

/** The rows to run: each system on each of its transports among those asked for. */
export function rowsOf(systems: readonly SystemName[], transports: readonly TransportName[]): Row[] {
  const rows: Row[] = []
  for (const system of systems) {
    for (const transport of SPECS[system].transports) {
      if (transports.includes(transport)) rows.push({ system, transport })
    }
  }
  return rows
}

export function isCeiling(system: SystemName): boolean {
  return system === CEILING
}

/** Systems that get the run's key material (security.ts). */
export function secureSystems(systems: readonly SystemName[]): SystemName[] {
  return systems.filter((s) => isSwitchboard(s) && s !== 'switchboard')
}

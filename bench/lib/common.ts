/**
 * What the client (run.ts) and the server (server.ts) agree on, and the client interface the
 * workloads drive. Each system implements `BenchClient` over one connection.
 */

export const SYSTEMS = [
  'raw-coalesced',
  'raw-naive',
  'switchboard',
  'switchboard-secret',
  'switchboard-tls',
] as const
export type SystemName = (typeof SYSTEMS)[number]

/** The switchboard systems: plain, a shared secret (Noise NNpsk0 + AEAD records), TLS. */
export type SwitchboardSystem = Extract<SystemName, `switchboard${string}`>

export function isSwitchboard(system: SystemName): system is SwitchboardSystem {
  return system.startsWith('switchboard')
}

/** TLS needs an IP transport: the tls row runs on tcp only. */
export function runsOn(system: SystemName, transport: TransportName): boolean {
  return system !== 'switchboard-tls' || transport === 'tcp'
}

export const TRANSPORTS = ['unix', 'tcp'] as const
export type TransportName = (typeof TRANSPORTS)[number]

/** Raw connections start with a one-byte mode frame telling the server how to treat the rest. */
export const RawMode = {
  /** Count frames; an empty frame is a barrier: reply with the u32 count since the last one. */
  ONEWAY: 0x6f,
  /** Echo every frame. */
  ECHO: 0x65,
  /** Stream each frame's body without buffering it; reply with its u32 length when complete. */
  BIG: 0x62,
} as const

/** Switchboard channel methods (in the OPEN header): what the server does with the channel. */
export const Method = {
  /** One-way message: counted on FIN. */
  ONEWAY: 1,
  /** Request: the server replies with the u32 count of one-way messages since the last barrier. */
  BARRIER: 2,
  /** Request: the body is echoed back. */
  ECHO: 3,
  /** Request: the body is counted, not kept; the reply is its u32 length. */
  BIG: 4,
} as const

export type WorkloadKind = 'oneway' | 'echo' | 'big'

/** One connection to a bench server, as the workloads see it. */
export interface BenchClient {
  /** Queues one one-way message (not copied: the caller never mutates it). */
  sendOneWay(payload: Uint8Array): void
  /** Resolves, after every earlier one-way message was handled, with how many were handled. */
  barrier(): Promise<number>
  /** Sends one echo request; `done` is called once: with no argument when the echo came back whole. */
  request(payload: Uint8Array, done: (err?: Error) => void): void
  /** Sends one large message; resolves when the server acknowledged all of it. */
  big(payload: Uint8Array): Promise<void>
  /** True when the producer should wait (more than `highWater` bytes queued). */
  backlogged(): boolean
  /** Resolves when no longer backlogged (rejects when the connection failed). */
  waitWritable(): Promise<void>
  /** Graceful close; resolves when the connection has closed. Callers add a timeout. */
  close(): Promise<void>
  /** Immediate close: everything pending fails. */
  destroy(): void
}

/** Queued bytes above which a producer waits before queuing more. */
export const HIGH_WATER = 1024 * 1024

/** Reads a u32 big-endian from the start of `bytes`. */
export function readU32(bytes: Uint8Array): number {
  if (bytes.length < 4) throw new Error(`expected 4 bytes, got ${bytes.length}`)
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0
}

export function u32(value: number): Uint8Array {
  const out = Buffer.allocUnsafe(4)
  out.writeUInt32BE(value >>> 0, 0)
  return out
}

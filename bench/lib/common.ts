/**
 * Names and interfaces every part of the bench shares: the systems, transports and workloads,
 * and the three sides an adapter implements (a server, a client connection, a subscriber).
 * Each system has one adapter module (bench/lib/raw.ts, bench/lib/switchboard.ts,
 * bench/peers/*.ts) that the agent process loads by name.
 */
import type { ChildProcess } from 'node:child_process'
import type { Agent } from './control.ts'

export const TRANSPORTS = ['unix', 'tcp'] as const
export type TransportName = (typeof TRANSPORTS)[number]

export const WORKLOADS = [
  'oneway',
  'oneway-values',
  'echo',
  'echo64',
  'big',
  'fanout',
  'stream',
  'handshake',
] as const
export type WorkloadName = (typeof WORKLOADS)[number]

export const SYSTEMS = [
  'raw-coalesced',
  'raw-naive',
  'switchboard',
  'switchboard-secret',
  'switchboard-keys',
  'switchboard-tls',
  'switchboard-contract',
  'switchboard-contract-novalidate',
  'zeromq',
  'node-ipc',
  'nats',
  'grpc',
  'vscode-jsonrpc',
  'fork',
] as const
export type SystemName = (typeof SYSTEMS)[number]

/** The ceiling every ratio divides by: same workload, same transport, same round. */
export const CEILING: SystemName = 'raw-coalesced'

/** The switchboard rows: plain, a shared secret, key pairs, TLS, a typed contract (validated or not). */
export type SwitchboardSystem = Extract<SystemName, `switchboard${string}`>

export function isSwitchboard(system: SystemName): system is SwitchboardSystem {
  return system.startsWith('switchboard')
}

/** Queued bytes above which a producer waits before queuing more. */
export const HIGH_WATER = 1024 * 1024
/** The stream workload's chunk: 256 KiB views of one buffer. */
export const STREAM_CHUNK = 256 * 1024
export const MiB = 1024 * 1024

/** Fan-out messages carry their kind in the first byte. */
export const Kind = { DATA: 0, PROBE: 1, END: 2 } as const

/** What an agent knows about its cell: passed to every adapter call. */
export interface AgentEnv {
  system: SystemName
  transport: TransportName
  workload: WorkloadName
  /** The run's private (0700) temp directory: sockets and key material live here. */
  dir: string
  /** Unique per cell: socket names, NATS subjects. */
  cell: string
  /** The bench's nats-server, for the nats row. */
  natsUrl?: string | undefined
  /** Forks another agent of this system, linked by a node IPC channel (the fork row's other side). */
  forkAgent(role: 'server' | 'sub'): Promise<{ child: ChildProcess; agent: Agent }>
}

/** One connection from a client process to a server, as the workload drivers use it. */
export interface BenchClient {
  /** One one-way message of raw bytes (never mutated by the caller). A promise: await it first. */
  send(payload: Uint8Array): undefined | Promise<void>
  /** One one-way message carrying a small value, in the system's natural value encoding. */
  sendValue(value: SampleValue): undefined | Promise<void>
  /** Resolves after every earlier one-way message was handled, with how many were (then resets). */
  barrier(): Promise<number>
  /** One request whose reply carries the same bytes; rejects when it does not. */
  echo(payload: Uint8Array): Promise<void>
  /** One large message; resolves when the server acknowledged all of it. */
  big(payload: Uint8Array): Promise<void>
  /** `total` bytes as a stream of `chunk`-sized views; resolves when the server counted them all. */
  stream?(chunk: Uint8Array, total: number): Promise<void>
  /** True while the producer should wait before queuing more. */
  backlogged(): boolean
  waitWritable(): Promise<void>
  close(): Promise<void>
  destroy(): void
}

/** The server side of a cell; for fan-out it is the publisher. */
export interface BenchServer {
  /** What clients pass to `connect` / `subscribe`. */
  readonly address: string
  /** Sends one message to every subscriber (a promise when the library wants it awaited). */
  publish(msg: Uint8Array): undefined | Promise<void>
  /** True while the publisher should wait. */
  backlogged(): boolean
  waitWritable(): Promise<void>
  close(): Promise<void>
}

export interface Closeable {
  close(): Promise<void>
}

export interface Adapter {
  serve(env: AgentEnv): Promise<BenchServer>
  connect(env: AgentEnv, address: string): Promise<BenchClient>
  /** Subscribes to the fan-out; `onMessage` sees every message (its first byte is its Kind). */
  subscribe(env: AgentEnv, address: string, onMessage: (msg: Uint8Array) => void): Promise<Closeable>
  /** One connect that completes the system's handshake, then a close (handshake workload). */
  handshake?(env: AgentEnv, address: string): Promise<void>
  /** Fork only: the publisher forks its own subscribers (an IPC channel links parent and child only). */
  spawnSubscribers?(env: AgentEnv, server: BenchServer, n: number): Promise<void>
}

/** The small value of the oneway-values workload: 67 B as MessagePack, 90 B as JSON. */
export interface SampleValue {
  id: number
  kind: string
  sensor: string
  value: number
  ok: boolean
  tags: string[]
}

export const SAMPLE_VALUE: SampleValue = {
  id: 48_213,
  kind: 'temp',
  sensor: 'boiler-7',
  value: 71.25,
  ok: true,
  tags: ['hot', 'l2'],
}

/** Reads a u32 big-endian at `at`. */
export function readU32(bytes: Uint8Array, at = 0): number {
  if (bytes.length < at + 4) throw new Error(`expected 4 bytes at ${at}, got ${bytes.length - at}`)
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0
}

export function u32(value: number): Buffer {
  const out = Buffer.allocUnsafe(4)
  out.writeUInt32BE(value >>> 0, 0)
  return out
}

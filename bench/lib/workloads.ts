/**
 * The workloads, written once against `BenchClient` so every system runs the same driver code.
 * Timing is wall clock (performance.now) on the client, from the first message queued to the
 * last acknowledgement received; connection setup and warm-up are outside it.
 */
import { connect } from 'node:net'
import {
  type BenchClient,
  isSwitchboard,
  RawMode,
  type SystemName,
  type TransportName,
  type WorkloadKind,
} from './common.ts'
import { RawClient } from './raw.ts'
import { SwitchboardClient } from './switchboard.ts'
import { parseBenchAddress, quantile, turn, withTimeout } from './util.ts'

export const WORKLOADS = ['oneway', 'echo', 'echo64', 'big'] as const
export type WorkloadName = (typeof WORKLOADS)[number]

export const workloadKind: Record<WorkloadName, WorkloadKind> = {
  oneway: 'oneway',
  echo: 'echo',
  echo64: 'echo',
  big: 'big',
}

export interface Measurement {
  /** Messages (one-way), requests (echo) or large messages (big) completed in `seconds`. */
  count: number
  seconds: number
  /** Payload bytes carried one way in `seconds`. */
  bytes: number
  /** Per-request round trips in ms (echo workloads only). */
  latencies?: Float64Array
}

export interface WorkloadParams {
  /** Messages (oneway) or requests (echo) to time; ignored with `durationMs`. */
  count: number
  /** When set, oneway and echo run for this long instead of a count. */
  durationMs: number | undefined
  payload: Uint8Array
  /** Echo requests in flight. */
  concurrency: number
  /** One-way messages queued per event-loop turn before yielding. */
  batch: number
  signal: AbortSignal
}

/** Opens one connection of `system` to the server at `address`, in the mode `kind` needs. */
export async function connectClient(
  system: SystemName,
  transport: TransportName,
  address: string,
  dir: string,
  kind: WorkloadKind,
  timeoutMs: number,
): Promise<BenchClient> {
  if (isSwitchboard(system)) {
    return withTimeout(
      SwitchboardClient.connect(system, address, dir, transport === 'tcp'),
      timeoutMs,
      'the switchboard session to open',
    )
  }
  const target = parseBenchAddress(address)
  const socket = 'path' in target ? connect({ path: target.path }) : connect({ ...target, noDelay: true })
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  try {
    await withTimeout(connected, timeoutMs, `a ${system} connection to ${address}`)
  } catch (err) {
    socket.destroy()
    throw err
  }
  const mode = kind === 'oneway' ? RawMode.ONEWAY : kind === 'echo' ? RawMode.ECHO : RawMode.BIG
  return new RawClient(socket, system === 'raw-coalesced', mode)
}

function aborted(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted')
}

/** One-way messages in batches per loop turn (waiting while backlogged), then a barrier. */
export async function runOneway(client: BenchClient, p: WorkloadParams): Promise<Measurement> {
  const limit = p.durationMs === undefined ? p.count : Number.POSITIVE_INFINITY
  const t0 = performance.now()
  const stopAt = p.durationMs === undefined ? Number.POSITIVE_INFINITY : t0 + p.durationMs
  let sent = 0
  while (sent < limit) {
    const end = Math.min(limit, sent + p.batch)
    for (; sent < end; sent++) client.sendOneWay(p.payload)
    await turn()
    if (client.backlogged()) await client.waitWritable()
    if (p.signal.aborted) throw aborted(p.signal)
    if (performance.now() >= stopAt) break
  }
  const handled = await client.barrier()
  const seconds = (performance.now() - t0) / 1000
  if (handled !== sent) throw new Error(`server handled ${handled} one-way messages, sent ${sent}`)
  return { count: sent, seconds, bytes: sent * p.payload.length }
}

/** Echo requests, `concurrency` in flight, each round trip timed. */
export function runEcho(client: BenchClient, p: WorkloadParams): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const limit = p.durationMs === undefined ? p.count : Number.POSITIVE_INFINITY
    let latencies = new Float64Array(Number.isFinite(limit) ? limit : 1 << 16)
    let started = 0
    let done = 0
    let failed = false
    let stopping = false
    const t0 = performance.now()
    const stopAt = p.durationMs === undefined ? Number.POSITIVE_INFINITY : t0 + p.durationMs
    const issue = (): void => {
      const i = started++
      const t = performance.now()
      client.request(p.payload, (err) => {
        if (failed) return
        if (err !== undefined) {
          failed = true
          reject(err)
          return
        }
        const now = performance.now()
        if (i >= latencies.length) {
          const grown = new Float64Array(latencies.length * 2)
          grown.set(latencies)
          latencies = grown
        }
        latencies[i] = now - t
        done++
        if (!stopping && (p.signal.aborted || now >= stopAt)) stopping = true
        if (!stopping && started < limit) issue()
        else if (done === started) {
          if (p.signal.aborted) reject(aborted(p.signal))
          else
            resolve({
              count: done,
              seconds: (now - t0) / 1000,
              bytes: done * p.payload.length,
              latencies: latencies.subarray(0, done),
            })
        }
      })
    }
    for (let k = 0; k < Math.min(p.concurrency, limit); k++) issue()
  })
}

/** One large message, acknowledged by the server once it has all of it. */
export async function runBig(client: BenchClient, payload: Uint8Array): Promise<Measurement> {
  const t0 = performance.now()
  await client.big(payload)
  return { count: 1, seconds: (performance.now() - t0) / 1000, bytes: payload.length }
}

/** p50 and p99 in µs, or undefined without latencies. */
export function latencyMicros(m: Measurement): { p50: number; p99: number } | undefined {
  if (m.latencies === undefined || m.latencies.length === 0) return undefined
  const copy = Float64Array.from(m.latencies)
  return { p50: quantile(copy, 0.5) * 1000, p99: quantile(copy, 0.99) * 1000 }
}

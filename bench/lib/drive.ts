/**
 * The client-side workload drivers, written once against `BenchClient` so every system runs the
 * same code. Timing is wall clock (performance.now) in the client process, from the first
 * message to the last acknowledgement; connection setup and warm-up are outside it.
 */
import type { Adapter, AgentEnv, BenchClient } from './common.ts'
import { turn } from './util.ts'

export interface RunParams {
  /** Run this long (oneway, echo, fanout, handshake) unless `count` is given. */
  durationMs: number
  /** Exactly this many messages, requests or handshakes instead of a duration. */
  count?: number | undefined
  /** One-way, echo and fan-out payload, bytes. */
  size: number
  /** One-way (and fan-out) messages queued per event-loop turn before yielding. */
  batch: number
  bigBytes: number
  streamBytes: number
}

export interface Measurement {
  /** Messages counted at the far end, requests, handshakes, 1 big message, or stream chunks. */
  count: number
  seconds: number
  /** Payload bytes carried one way. */
  bytes: number
  /** Sent minus counted at the far end (one-way, fan-out). */
  lost?: number
  /** Round trips in ms (echo workloads). */
  latencies?: Float64Array
}

function bounds(p: RunParams): { limit: number; stopAt: number; t0: number } {
  const t0 = performance.now()
  return p.count === undefined
    ? { limit: Number.POSITIVE_INFINITY, stopAt: t0 + p.durationMs, t0 }
    : { limit: p.count, stopAt: Number.POSITIVE_INFINITY, t0 }
}

/**
 * Producer loop shared by one-way sends and fan-out publishing: `batch` messages per event-loop
 * turn (awaiting a send only when the library returns a promise), then waits while backlogged.
 */
export async function produce(
  sendOne: () => undefined | Promise<void>,
  sink: { backlogged(): boolean; waitWritable(): Promise<void> },
  p: RunParams,
): Promise<number> {
  const { limit, stopAt } = bounds(p)
  let sent = 0
  while (sent < limit) {
    const end = Math.min(limit, sent + p.batch)
    while (sent < end) {
      const r = sendOne()
      if (r !== undefined) await r
      sent++
    }
    await turn()
    if (sink.backlogged()) await sink.waitWritable()
    if (performance.now() >= stopAt) break
  }
  return sent
}

/** One-way messages, then a barrier whose reply carries how many the server handled. */
export async function runOneway(
  client: BenchClient,
  sendOne: () => undefined | Promise<void>,
  p: RunParams,
): Promise<Measurement> {
  const t0 = performance.now()
  const sent = await produce(sendOne, client, p)
  const handled = await client.barrier()
  const seconds = (performance.now() - t0) / 1000
  return { count: handled, seconds, bytes: handled * p.size, lost: sent - handled }
}

/** Echo requests, `concurrency` in flight (a new one starts as each completes), each timed. */
export async function runEcho(
  client: BenchClient,
  payload: Uint8Array,
  concurrency: number,
  p: RunParams,
): Promise<Measurement> {
  const { limit, stopAt, t0 } = bounds(p)
  let latencies = new Float64Array(Number.isFinite(limit) ? limit : 1 << 16)
  let started = 0
  let done = 0
  const lane = async (): Promise<void> => {
    let now = performance.now()
    while (started < limit && now < stopAt) {
      const i = started++
      const t = now
      await client.echo(payload)
      now = performance.now()
      if (i >= latencies.length) {
        const grown = new Float64Array(latencies.length * 2)
        grown.set(latencies)
        latencies = grown
      }
      latencies[i] = now - t
      done++
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, limit) }, lane))
  const seconds = (performance.now() - t0) / 1000
  return { count: done, seconds, bytes: done * payload.length, latencies: latencies.subarray(0, done) }
}

export async function runBig(client: BenchClient, payload: Uint8Array): Promise<Measurement> {
  const t0 = performance.now()
  await client.big(payload)
  return { count: 1, seconds: (performance.now() - t0) / 1000, bytes: payload.length }
}

export async function runStream(client: BenchClient, chunk: Uint8Array, total: number): Promise<Measurement> {
  if (client.stream === undefined) throw new Error('this system has no stream')
  const t0 = performance.now()
  await client.stream(chunk, total)
  const seconds = (performance.now() - t0) / 1000
  return { count: Math.ceil(total / chunk.length), seconds, bytes: total }
}

/** Sequential connect (handshake complete) + close. */
export async function runHandshake(
  adapter: Adapter,
  env: AgentEnv,
  address: string,
  p: RunParams,
): Promise<Measurement> {
  if (adapter.handshake === undefined) throw new Error('this system has no handshake workload')
  const { limit, stopAt, t0 } = bounds(p)
  let n = 0
  while (n < limit && performance.now() < stopAt) {
    await adapter.handshake(env, address)
    n++
  }
  return { count: n, seconds: (performance.now() - t0) / 1000, bytes: 0 }
}

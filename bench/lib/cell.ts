/**
 * One cell: one workload on one row (system × transport) in one round, in fresh processes (a
 * server, a client or four subscribers) so peak RSS and CPU belong to this cell alone. CPU is
 * each process's process.cpuUsage() delta over the timed part, divided by the messages counted.
 */

import { type Launcher, spawnAgent } from './agents.ts'
import type { WorkloadName } from './common.ts'
import type { Agent } from './control.ts'
import { RelayedAgent } from './control.ts'
import type { RunParams } from './drive.ts'
import type { PublishResult, SubscriberReport } from './fanout.ts'
import type { Broker } from './nats-server.ts'
import { type Row, rowLabel } from './systems.ts'
import { errorText } from './util.ts'

export interface CellContext {
  launcher: Launcher
  dir: string
  broker: Broker | undefined
  params: RunParams
  /** Untimed warm-up on the same connection, ms (0: none). */
  warmupMs: number
  timeoutMs: number
  subscribers: number
  /** Quiet time after which a subscriber that missed the END reports, ms. */
  quietMs: number
}

/** One measurement; per-message CPU is µs per message counted (big: per message, stream: per chunk). */
export interface CellResult {
  ok: boolean
  error?: string
  count: number
  seconds: number
  /** Messages (requests, handshakes) per second; fan-out: mean per subscriber. */
  perSec: number
  /** Payload MB (10^6 bytes) per second one way. */
  mbPerSec: number
  p50us: number | null
  p99us: number | null
  lost: number | null
  clientCpuUs: number | null
  serverCpuUs: number | null
  clientRssMiB: number | null
  serverRssMiB: number | null
}

interface RunReply {
  count: number
  seconds: number
  bytes: number
  lost: number | null
  p50us: number | null
  p99us: number | null
  cpuUs: number
}

let cells = 0

const MiB = 1024 * 1024

function failed(err: unknown): CellResult {
  return {
    ok: false,
    error: errorText(err),
    count: 0,
    seconds: 0,
    perSec: 0,
    mbPerSec: 0,
    p50us: null,
    p99us: null,
    lost: null,
    clientCpuUs: null,
    serverCpuUs: null,
    clientRssMiB: null,
    serverRssMiB: null,
  }
}

export async function runCell(ctx: CellContext, row: Row, workload: WorkloadName): Promise<CellResult> {
  const agents: Agent[] = []
  const config = {
    system: row.system,
    transport: row.transport,
    workload,
    dir: ctx.dir,
    cell: `c${++cells}`,
    natsUrl: ctx.broker?.url,
  }
  const label = `${rowLabel(row)} ${workload}`
  const spawn = async (role: string, n = 0): Promise<Agent> => {
    const a = await spawnAgent(ctx.launcher, { ...config, role }, `${label} ${role}${n || ''}`)
    agents.push(a)
    return a
  }
  try {
    return workload === 'fanout' ? await fanoutCell(ctx, row, spawn) : await clientCell(ctx, row, spawn)
  } catch (err) {
    return failed(err)
  } finally {
    await Promise.all(agents.map((a) => a.stop()))
  }
}

/** The server side's CPU so far (after a GC), with the broker's for nats. */
async function serverCpu(ctx: CellContext, row: Row, server: Agent): Promise<number> {
  const { cpuUs } = await server.request<{ cpuUs: number }>('mark')
  return cpuUs + (row.system === 'nats' && ctx.broker !== undefined ? ctx.broker.cpuMicros() : 0)
}

async function rssMiB(agent: Agent): Promise<number> {
  const { maxRssKiB } = await agent.request<{ maxRssKiB: number }>('stats')
  return maxRssKiB / 1024
}

function warmupParams(ctx: CellContext): RunParams {
  const p = ctx.params
  return {
    ...p,
    durationMs: ctx.warmupMs,
    count: p.count === undefined ? undefined : Math.max(1, Math.ceil(p.count / 10)),
    bigBytes: Math.max(MiB, Math.floor(p.bigBytes / 8)),
    streamBytes: Math.max(MiB, Math.min(256 * MiB, Math.floor(p.streamBytes / 16))),
  }
}

async function clientCell(
  ctx: CellContext,
  row: Row,
  spawn: (role: string) => Promise<Agent>,
): Promise<CellResult> {
  // The fork row's server is a child the client forks when it connects.
  const ownsServer = row.system === 'fork'
  const [server, client] = await Promise.all([ownsServer ? undefined : spawn('server'), spawn('client')])
  const address =
    server === undefined ? 'ipc' : (await server.request<{ address: string }>('serve', {}, 20_000)).address
  const forked = await client.request<number[]>('open', { address }, 20_000)
  const srv = server ?? new RelayedAgent(client, forked[0]!, `${rowLabel(row)} forked server`)
  if (ctx.warmupMs > 0) await client.request('warmup', warmupParams(ctx), ctx.timeoutMs)
  const s0 = await serverCpu(ctx, row, srv)
  const m = await client.request<RunReply>('run', ctx.params, ctx.timeoutMs)
  const s1 = await serverCpu(ctx, row, srv)
  await client.request('close', {}, 10_000)
  const [clientRss, serverRss] = await Promise.all([rssMiB(client), rssMiB(srv)])
  const perMessage = Math.max(1, m.count)
  return {
    ok: true,
    count: m.count,
    seconds: m.seconds,
    perSec: m.count / m.seconds,
    mbPerSec: m.bytes / m.seconds / 1e6,
    p50us: m.p50us,
    p99us: m.p99us,
    lost: m.lost,
    clientCpuUs: m.cpuUs / perMessage,
    serverCpuUs: (s1 - s0) / perMessage,
    clientRssMiB: clientRss,
    serverRssMiB: serverRss,
  }
}

async function fanoutCell(
  ctx: CellContext,
  row: Row,
  spawn: (role: string, n?: number) => Promise<Agent>,
): Promise<CellResult> {
  const n = ctx.subscribers
  const spawnSubs = row.system !== 'fork'
  const [publisher, ...spawned] = await Promise.all([
    spawn('server'),
    ...(spawnSubs ? Array.from({ length: n }, (_, i) => spawn('sub', i + 1)) : []),
  ])
  const { address } = await publisher!.request<{ address: string }>('serve', {}, 20_000)
  // An IPC channel links a parent and its child only: the fork publisher forks its subscribers.
  const subs = spawnSubs
    ? spawned
    : (await publisher!.request<number[]>('spawn-subs', { n }, 60_000)).map(
        (i) => new RelayedAgent(publisher!, i, `${rowLabel(row)} forked sub ${i}`),
      )
  await Promise.all(subs.map((s) => s.request('subscribe', { address }, 20_000)))
  await publisher!.request('probe', { on: true, size: ctx.params.size })
  try {
    await Promise.all(subs.map((s) => s.nextEvent('probed', 20_000)))
  } finally {
    await publisher!.request('probe', { on: false })
  }
  await Promise.all(subs.map((s) => s.request('arm')))
  const s0 = await serverCpu(ctx, row, publisher!)
  const pub = await publisher!.request<PublishResult>('publish', ctx.params, ctx.timeoutMs)
  const reports = await Promise.all(
    subs.map((s) => s.request<SubscriberReport>('settle', { quietMs: ctx.quietMs }, ctx.timeoutMs)),
  )
  const s1 = await serverCpu(ctx, row, publisher!)
  let rates = 0
  let received = 0
  let subCpu = 0
  for (const r of reports) {
    received += r.received
    subCpu += r.cpuUs
    if (r.received > 0) rates += r.received / ((r.lastNs - pub.startNs) / 1e9)
  }
  const perSub = rates / n
  const seconds = Math.max(...reports.map((r) => (r.lastNs - pub.startNs) / 1e9), pub.seconds)
  return {
    ok: true,
    count: received,
    seconds,
    perSec: perSub,
    mbPerSec: (perSub * ctx.params.size) / 1e6,
    p50us: null,
    p99us: null,
    lost: pub.published * n - received,
    clientCpuUs: subCpu / Math.max(1, received),
    serverCpuUs: (s1 - s0) / Math.max(1, pub.published),
    clientRssMiB: null,
    serverRssMiB: null,
  }
}

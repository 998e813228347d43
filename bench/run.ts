/**
 * Runs the benchmarks: each workload against the raw ceiling (coalesced and naive) and
 * switchboard, client here, server in a child process. Prints one JSON line per
 * workload × system × transport (also written to bench/results/<timestamp>.jsonl), then a table
 * with every figure as a ratio to raw-coalesced from the same run.
 *
 *   node --import tsx bench/run.ts [--smoke] [--transport unix|tcp|all] [--workload NAME[,NAME]]
 *        [--system NAME[,NAME]] [--duration SECONDS] [--oneway-count N] [--echo-count N]
 *        [--echo64-count N] [--big-mib N] [--size BYTES] [--batch N] [--warmup FRACTION]
 *        [--timeout SECONDS] [--out DIR]
 *
 * Exits 1 when any workload failed. See bench/README.md.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  type BenchClient,
  runsOn,
  SYSTEMS,
  type SystemName,
  TRANSPORTS,
  type TransportName,
} from './lib/common.ts'
import { killAll, type ServerProcess, spawnServer, stopServer } from './lib/proc.ts'
import { prepareSecurityMaterial } from './lib/security.ts'
import { MiB, withTimeout } from './lib/util.ts'
import {
  connectClient,
  latencyMicros,
  type Measurement,
  runBig,
  runEcho,
  runOneway,
  WORKLOADS,
  type WorkloadName,
  workloadKind,
} from './lib/workloads.ts'

const USAGE = `usage: node --import tsx bench/run.ts [options]
  --smoke               tiny counts, no warm-up, both transports: checks every workload completes
  --transport T         unix | tcp | all (default unix; smoke all)
  --workload W[,W]      ${WORKLOADS.join(' | ')} (default all)
  --system S[,S]        ${SYSTEMS.join(' | ')} (default all)
  --duration SECONDS    run oneway and echo workloads for this long instead of a count
  --oneway-count N      one-way messages (default 200000; smoke 2000)
  --echo-count N        echo requests at concurrency 1 (default 20000; smoke 200)
  --echo64-count N      echo requests with 64 in flight (default 100000; smoke 200)
  --big-mib N           size of the big message in MiB (default 64; smoke 1)
  --size BYTES          one-way and echo payload (default 64)
  --batch N             one-way messages queued per event-loop turn (default 256)
  --warmup FRACTION     untimed warm-up run of this fraction of each count (default 0.1; smoke 0)
  --timeout SECONDS     limit per workload run (default 120; smoke 20)
  --out DIR             where the .jsonl goes (default bench/results)`

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    transport: { type: 'string' },
    workload: { type: 'string' },
    system: { type: 'string' },
    duration: { type: 'string' },
    'oneway-count': { type: 'string' },
    'echo-count': { type: 'string' },
    'echo64-count': { type: 'string' },
    'big-mib': { type: 'string' },
    size: { type: 'string' },
    batch: { type: 'string' },
    warmup: { type: 'string' },
    timeout: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}

function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}\n`)
  process.exit(2)
}

function num(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback
  const v = Number(text)
  if (!Number.isFinite(v) || v < min) usageError(`--${name} must be a number >= ${min}, got ${text}`)
  return v
}

function list<T extends string>(name: string, text: string | undefined, all: readonly T[]): T[] {
  if (text === undefined || text === 'all') return [...all]
  const picked = text.split(',').map((s) => s.trim())
  for (const p of picked) if (!all.includes(p as T)) usageError(`--${name}: unknown ${JSON.stringify(p)}`)
  return all.filter((a) => picked.includes(a))
}

const smoke = values.smoke
const config = {
  transports: list<TransportName>('transport', values.transport ?? (smoke ? 'all' : 'unix'), TRANSPORTS),
  workloads: list<WorkloadName>('workload', values.workload, WORKLOADS),
  systems: list<SystemName>('system', values.system, SYSTEMS),
  durationMs: values.duration === undefined ? undefined : num('duration', values.duration, 0, 0.1) * 1000,
  counts: {
    oneway: Math.floor(num('oneway-count', values['oneway-count'], smoke ? 2000 : 200_000, 1)),
    echo: Math.floor(num('echo-count', values['echo-count'], smoke ? 200 : 20_000, 1)),
    echo64: Math.floor(num('echo64-count', values['echo64-count'], smoke ? 200 : 100_000, 1)),
  },
  bigBytes: Math.floor(num('big-mib', values['big-mib'], smoke ? 1 : 64, 1 / 1024) * MiB),
  size: Math.floor(num('size', values.size, 64, 1)),
  batch: Math.floor(num('batch', values.batch, 256, 1)),
  warmup: num('warmup', values.warmup, smoke ? 0 : 0.1, 0),
  timeoutMs: num('timeout', values.timeout, smoke ? 20 : 120, 1) * 1000,
}

interface Row {
  workload: WorkloadName
  system: SystemName
  transport: TransportName
  count: number
  seconds: number
  msgsPerSec: number
  mbPerSec: number
  p50us: number | null
  p99us: number | null
  /** msgsPerSec (big: mbPerSec) over raw-coalesced's, same workload and transport; null without it. */
  ratioToRaw: number | null
  ok: boolean
  error?: string
}

const benchDir = fileURLToPath(new URL('.', import.meta.url))
const outDir = values.out ?? join(benchDir, 'results')
mkdirSync(outDir, { recursive: true })
const outFile = join(
  outDir,
  `${new Date().toISOString().replace(/[:.]/g, '-')}${smoke ? '-smoke' : ''}.jsonl`,
)

const rows: Row[] = []
const payload = Buffer.alloc(config.size, 0x5a)
const bigPayload = config.workloads.includes('big') ? Buffer.alloc(config.bigBytes, 0xa5) : Buffer.alloc(0)

const round = (v: number, digits = 3): number => Number(v.toPrecision(digits + 3))

function emit(row: Row): void {
  rows.push(row)
  const line = JSON.stringify(row)
  process.stdout.write(`${line}\n`)
  appendFileSync(outFile, `${line}\n`)
}

async function measure(
  workload: WorkloadName,
  client: BenchClient,
  signal: AbortSignal,
  timed: boolean,
): Promise<Measurement> {
  const scale = timed ? 1 : config.warmup
  const base = {
    durationMs: timed ? config.durationMs : undefined,
    payload,
    batch: config.batch,
    signal,
  }
  switch (workload) {
    case 'oneway':
      return runOneway(client, { ...base, count: Math.ceil(config.counts.oneway * scale), concurrency: 1 })
    case 'echo':
      return runEcho(client, { ...base, count: Math.ceil(config.counts.echo * scale), concurrency: 1 })
    case 'echo64':
      return runEcho(client, { ...base, count: Math.ceil(config.counts.echo64 * scale), concurrency: 64 })
    case 'big':
      return runBig(client, timed ? bigPayload : bigPayload.subarray(0, Math.max(MiB, bigPayload.length / 8)))
  }
}

async function runOne(
  workload: WorkloadName,
  server: ServerProcess,
  transport: TransportName,
  dir: string,
): Promise<Row> {
  const system = server.system
  const base = { workload, system, transport }
  const controller = new AbortController()
  let client: BenchClient | undefined
  try {
    client = await connectClient(system, transport, server.address, dir, workloadKind[workload], 10_000)
    const c = client
    const run = async (): Promise<Measurement> => {
      if (config.warmup > 0) await measure(workload, c, controller.signal, false)
      return measure(workload, c, controller.signal, true)
    }
    let m: Measurement
    try {
      m = await withTimeout(run(), config.timeoutMs, `${workload} on ${system}/${transport}`)
    } catch (err) {
      controller.abort(err)
      c.destroy()
      throw err
    }
    const lat = latencyMicros(m)
    const msgsPerSec = m.count / m.seconds
    const mbPerSec = m.bytes / m.seconds / 1e6
    const raw = rows.find(
      (r) => r.ok && r.workload === workload && r.transport === transport && r.system === 'raw-coalesced',
    )
    const figure = workload === 'big' ? mbPerSec : msgsPerSec
    const rawFigure =
      system === 'raw-coalesced' ? figure : raw && (workload === 'big' ? raw.mbPerSec : raw.msgsPerSec)
    return {
      ...base,
      count: m.count,
      seconds: round(m.seconds),
      msgsPerSec: round(msgsPerSec),
      mbPerSec: round(mbPerSec),
      p50us: lat ? round(lat.p50) : null,
      p99us: lat ? round(lat.p99) : null,
      ratioToRaw: rawFigure ? round(figure / rawFigure) : null,
      ok: true,
    }
  } catch (err) {
    return {
      ...base,
      count: 0,
      seconds: 0,
      msgsPerSec: 0,
      mbPerSec: 0,
      p50us: null,
      p99us: null,
      ratioToRaw: null,
      ok: false,
      error: (err as Error).message,
    }
  } finally {
    if (client !== undefined) {
      try {
        await withTimeout(client.close(), 5000, `the ${system} connection to close`)
      } catch {
        client.destroy()
      }
    }
  }
}

async function runTransport(transport: TransportName): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sbbench-'))
  const servers: ServerProcess[] = []
  try {
    prepareSecurityMaterial(dir, config.systems)
    for (const system of config.systems) {
      if (runsOn(system, transport)) servers.push(await spawnServer(system, transport, dir, 20_000))
    }
    for (const workload of config.workloads) {
      for (const server of servers) {
        process.stderr.write(`bench: ${workload} ${server.system} ${transport}\n`)
        emit(await runOne(workload, server, transport, dir))
      }
    }
  } finally {
    await Promise.all(servers.map((s) => stopServer(s)))
    rmSync(dir, { recursive: true, force: true })
  }
}

// ---- the human table ------------------------------------------------------------------------

function fmt(v: number): string {
  if (v >= 100) return Math.round(v).toLocaleString('en-US')
  return v.toPrecision(3)
}

function table(): string {
  const metrics: Record<WorkloadName, [string, (r: Row) => number | null][]> = {
    oneway: [
      ['msgs/s', (r) => r.msgsPerSec],
      ['MB/s', (r) => r.mbPerSec],
    ],
    echo: [
      ['req/s', (r) => r.msgsPerSec],
      ['p50 µs', (r) => r.p50us],
      ['p99 µs', (r) => r.p99us],
    ],
    echo64: [
      ['req/s', (r) => r.msgsPerSec],
      ['p50 µs', (r) => r.p50us],
      ['p99 µs', (r) => r.p99us],
    ],
    big: [['MB/s', (r) => r.mbPerSec]],
  }
  const header = ['workload', 'transport', 'metric', ...config.systems]
  const lines: string[][] = [header]
  for (const transport of config.transports) {
    for (const workload of config.workloads) {
      for (const [name, get] of metrics[workload]) {
        const find = (s: SystemName) =>
          rows.find((r) => r.workload === workload && r.transport === transport && r.system === s)
        const raw = find('raw-coalesced')
        const rawV = raw?.ok ? get(raw) : null
        const cells = config.systems.map((s) => {
          const r = find(s)
          if (r === undefined) return '-'
          if (!r.ok) return 'FAILED'
          const v = get(r)
          if (v === null) return '-'
          if (s === 'raw-coalesced' || rawV === null || rawV === 0) return fmt(v)
          return `${fmt(v)} (${(v / rawV).toFixed(2)}x)`
        })
        lines.push([workload, transport, name, ...cells])
      }
    }
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)))
  return lines
    .map((l) =>
      l
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

async function main(): Promise<number> {
  const cpu = cpus()
  process.stderr.write(
    `bench: node ${process.version}, ${cpu.length} cpus (${cpu[0]?.model ?? '?'}), results in ${outFile}\n`,
  )
  for (const transport of config.transports) await runTransport(transport)
  process.stdout.write(
    `\n${table()}\n\n(x) = that system's figure / raw-coalesced's, same workload, transport and run; ` +
      'for latency rows above 1 is slower.\n',
  )
  const failed = rows.filter((r) => !r.ok)
  for (const r of failed)
    process.stderr.write(`bench: FAILED ${r.workload} ${r.system} ${r.transport}: ${r.error}\n`)
  if (smoke) process.stderr.write(`bench: smoke ${failed.length === 0 ? 'passed' : 'FAILED'}\n`)
  return failed.length === 0 ? 0 : 1
}

main().then(
  (code) => {
    killAll()
    process.exit(code)
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`)
    killAll()
    process.exit(1)
  },
)

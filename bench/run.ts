/**
 * Runs the benchmark: every workload on every row (system × transport) for several rounds,
 * each cell in fresh processes, the rows taking turns within each workload (rotated every round)
 * so all systems share the machine's noise, and every figure is divided by the raw ceiling's
 * from the same round. Writes one JSON line per cell to bench/results/<timestamp>.jsonl, then
 * RESULTS.md and results.svg.
 *
 *   npm run bench [-- options]        (bench/run.sh: installs what is missing, then this)
 *   npm run bench:smoke               (tiny counts, one round; exit 1 when any cell failed)
 *
 * See USAGE below and bench/README.md.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { killAllAgents, type Launcher } from './lib/agents.ts'
import { bundleAgent } from './lib/bundle.ts'
import { type CellContext, runCell } from './lib/cell.ts'
import { renderChart } from './lib/chart.ts'
import {
  MiB,
  SYSTEMS,
  type SystemName,
  TRANSPORTS,
  type TransportName,
  WORKLOADS,
  type WorkloadName,
} from './lib/common.ts'
import { type Broker, startNatsServer } from './lib/nats-server.ts'
import { type RunInfo, renderReport } from './lib/report.ts'
import { prepareSecurityMaterial } from './lib/security.ts'
import type { CellRecord } from './lib/stats.ts'
import { type Row, rowLabel, rowsOf, secureSystems, skipReason } from './lib/systems.ts'
import { errorText } from './lib/util.ts'
import { versions } from './lib/versions.ts'

const USAGE = `usage: node --import tsx bench/run.ts [options]      (npm run bench -- [options])
  --smoke               one round, tiny sizes, no warm-up: checks every cell completes
  --rounds N            rounds; each runs every cell once (default 5; smoke 1)
  --transport T         unix | tcp | all (default all)
  --workload W[,W]      ${WORKLOADS.join(' | ')} (default all)
  --system S[,S]        ${SYSTEMS.join(' | ')}
                        (default all)
  --skip-system S[,S]   leave these out
  --duration SECONDS    timed part of oneway, echo, echo64, fanout, handshake (default 1; smoke 0.05)
  --count N             exactly N messages / requests / handshakes instead of a duration
  --warmup SECONDS      untimed warm-up on the same connection first (default 0.25; smoke 0)
  --size BYTES          one-way, echo and fan-out payload (default 64)
  --batch N             one-way and fan-out messages queued per event-loop turn (default 256)
  --big-mib N           the big message, MiB (default 64; smoke 1)
  --stream-mib N        the stream, MiB (default 4096 = 4 GiB; smoke 8)
  --subscribers N       fan-out subscriber processes (default 4)
  --timeout SECONDS     limit per cell step (default 120; smoke 30)
  --out DIR             where the .jsonl goes (default bench/results)
  --report DIR          where RESULTS.md and results.svg go (default bench; smoke bench/results)
  --no-bundle           run agents through tsx instead of an esbuild bundle (slow start; debugging)
  --from FILE.jsonl     write RESULTS.md and results.svg from an earlier run's .jsonl, measuring nothing`

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    transport: { type: 'string' },
    workload: { type: 'string' },
    system: { type: 'string' },
    'skip-system': { type: 'string' },
    duration: { type: 'string' },
    count: { type: 'string' },
    warmup: { type: 'string' },
    size: { type: 'string' },
    batch: { type: 'string' },
    'big-mib': { type: 'string' },
    'stream-mib': { type: 'string' },
    subscribers: { type: 'string' },
    timeout: { type: 'string' },
    out: { type: 'string' },
    report: { type: 'string' },
    'no-bundle': { type: 'boolean', default: false },
    from: { type: 'string' },
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
const benchDir = fileURLToPath(new URL('.', import.meta.url))
const rounds = Math.floor(num('rounds', values.rounds, smoke ? 1 : 5, 1))
const transports = list<TransportName>('transport', values.transport, TRANSPORTS)
const workloads = list<WorkloadName>('workload', values.workload, WORKLOADS)
const skipped =
  values['skip-system'] === undefined ? [] : list<SystemName>('skip-system', values['skip-system'], SYSTEMS)
const systems = list<SystemName>('system', values.system, SYSTEMS).filter((s) => !skipped.includes(s))
const params = {
  durationMs: num('duration', values.duration, smoke ? 0.05 : 1, 0.001) * 1000,
  count: values.count === undefined ? undefined : Math.floor(num('count', values.count, 1, 1)),
  size: Math.floor(num('size', values.size, 64, 1)),
  batch: Math.floor(num('batch', values.batch, 256, 1)),
  bigBytes: Math.floor(num('big-mib', values['big-mib'], smoke ? 1 : 64, 1 / 1024) * MiB),
  streamBytes: Math.floor(num('stream-mib', values['stream-mib'], smoke ? 8 : 4096, 1 / 1024) * MiB),
}
const warmupMs = num('warmup', values.warmup, smoke ? 0 : 0.25, 0) * 1000
const timeoutMs = num('timeout', values.timeout, smoke ? 30 : 120, 1) * 1000
const subscribers = Math.floor(num('subscribers', values.subscribers, 4, 1))
const outDir = values.out ?? join(benchDir, 'results')
const reportDir = values.report ?? (smoke ? join(benchDir, 'results') : benchDir)
const rows = rowsOf(systems, transports)
if (rows.length === 0) usageError('no system runs on the transports asked for')

const stamp = new Date().toISOString().replace(/[:.]/g, '-')
mkdirSync(outDir, { recursive: true })
const outFile = join(outDir, `${stamp}${smoke ? '-smoke' : ''}.jsonl`)

let broker: Broker | undefined
let dir: string | undefined

function cleanup(): void {
  killAllAgents()
  if (broker !== undefined && broker.child.exitCode === null) broker.kill()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
}
process.on('exit', cleanup)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}, stopping\n`)
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1))
  })
}

function fmtRate(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3)
}

async function main(): Promise<number> {
  const cpu = cpus()
  const started = Date.now()
  // The code measured is the code at the start (the agents are bundled then), not at the end.
  const measured = versions()
  process.stderr.write(
    `bench: node ${process.version}, ${cpu.length} cpus (${cpu[0]?.model ?? '?'}); ${rows.length} rows, ` +
      `${workloads.length} workloads, ${rounds} round(s); results in ${outFile}\n`,
  )
  dir = mkdtempSync(join(tmpdir(), 'sbbench-'))
  prepareSecurityMaterial(dir, secureSystems(systems))
  if (rows.some((r) => r.system === 'nats')) broker = await startNatsServer(dir)
  const launcher: Launcher = { bundledAgent: values['no-bundle'] ? undefined : await bundleAgent() }
  const ctx: CellContext = {
    launcher,
    dir,
    broker,
    params,
    warmupMs,
    timeoutMs,
    subscribers,
    quietMs: smoke ? 200 : 500,
  }
  const records: CellRecord[] = []
  for (let round = 1; round <= rounds; round++) {
    const roundStart = Date.now()
    for (const workload of workloads) {
      const runnable = rows.filter((r) => skipReason(r.system, workload) === undefined)
      // Rotate the order each round so no row always runs first (or right after a heavy one).
      const shift = (round - 1) % Math.max(1, runnable.length)
      for (const row of [...runnable.slice(shift), ...runnable.slice(0, shift)]) {
        const result = await runCell(ctx, row, workload)
        const record: CellRecord = { round, workload, ...row, ...result }
        records.push(record)
        appendFileSync(outFile, `${JSON.stringify(record)}\n`)
        const figure =
          workload === 'big' || workload === 'stream'
            ? `${result.mbPerSec.toFixed(0)} MB/s`
            : `${fmtRate(result.perSec)} /s`
        process.stderr.write(
          `bench: [${round}/${rounds}] ${workload} ${rowLabel(row)}: ${result.ok ? figure : `FAILED: ${result.error}`}\n`,
        )
      }
    }
    const took = (Date.now() - roundStart) / 1000
    process.stderr.write(
      `bench: round ${round} took ${took.toFixed(0)} s` +
        (round < rounds ? `; about ${(((rounds - round) * took) / 60).toFixed(1)} min left\n` : '\n'),
    )
  }
  const info: RunInfo = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: `${cpu.length} × ${cpu[0]?.model ?? '?'}`,
    rounds,
    params,
    warmupMs,
    subscribers,
    minutes: (Date.now() - started) / 60_000,
    smoke,
    versions: measured,
    command: process.argv.slice(2).join(' '),
  }
  appendFileSync(outFile, `${JSON.stringify({ info })}\n`)
  await broker?.stop()
  writeReport(records, info)
  const failedCells = records.filter((r) => !r.ok)
  for (const r of failedCells)
    process.stderr.write(`bench: FAILED ${r.workload} ${rowLabel(r)} round ${r.round}: ${r.error}\n`)
  process.stderr.write(`bench: ${records.length} cells in ${info.minutes.toFixed(1)} min\n`)
  if (smoke) process.stderr.write(`bench: smoke ${failedCells.length === 0 ? 'passed' : 'FAILED'}\n`)
  return failedCells.length === 0 ? 0 : 1
}

function writeReport(records: CellRecord[], info: RunInfo): void {
  const seen = (r: Row) => records.some((c) => c.system === r.system && c.transport === r.transport)
  const reportRows = rowsOf(SYSTEMS, TRANSPORTS).filter(seen)
  const reportWorkloads = WORKLOADS.filter((w) => records.some((r) => r.workload === w))
  mkdirSync(reportDir, { recursive: true })
  writeFileSync(join(reportDir, 'RESULTS.md'), renderReport(records, info, reportRows, reportWorkloads))
  writeFileSync(join(reportDir, 'results.svg'), renderChart(records, reportRows, reportWorkloads))
  process.stderr.write(`bench: wrote ${join(reportDir, 'RESULTS.md')} and results.svg\n`)
}

/** --from FILE: the report of an earlier run, from its .jsonl (no measuring). */
function reportFrom(file: string): number {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
  const parsed = lines.map((l) => JSON.parse(l) as CellRecord | { info: RunInfo })
  const info = parsed.find((p): p is { info: RunInfo } => 'info' in p)?.info
  if (info === undefined) usageError(`${file} has no info line (the run did not finish)`)
  writeReport(
    parsed.filter((p): p is CellRecord => !('info' in p)),
    info,
  )
  return 0
}

;(values.from === undefined ? main() : Promise.resolve(reportFrom(values.from))).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : errorText(err)}\n`)
    process.exit(1)
  },
)

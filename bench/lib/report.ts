/**
 * RESULTS.md: how the run was made, what the ceiling does, the systems, then one table per
 * workload with each cell's median and min–max over the rounds and its ratio to the ceiling.
 */
import type { WorkloadName } from './common.ts'
import type { RunParams } from './drive.ts'
import { type CellRecord, type MetricName, type Spread, type Summary, summarize } from './stats.ts'
import { type Row, SPECS, skipReason, unsupportedReason } from './systems.ts'

export interface RunInfo {
  date: string
  node: string
  cpus: string
  rounds: number
  params: RunParams
  warmupMs: number
  subscribers: number
  minutes: number
  smoke: boolean
  versions: Record<string, string>
  command: string
}

interface Column {
  title: string
  metric: MetricName
  kind: 'rate' | 'us' | 'mb' | 'count'
}

const cpu = (per = 'msg', client = 'client', server = 'server'): Column[] => [
  { title: `${client} CPU µs/${per}`, metric: 'clientCpuUs', kind: 'us' },
  { title: `${server} CPU µs/${per}`, metric: 'serverCpuUs', kind: 'us' },
]

/** 8 MiB, 1.5 GiB: sizes as the flags give them. */
export function sizeText(bytes: number): string {
  return bytes >= 2 ** 30 ? `${+(bytes / 2 ** 30).toFixed(2)} GiB` : `${+(bytes / 2 ** 20).toFixed(2)} MiB`
}
const rss: Column[] = [
  { title: 'client peak RSS MiB', metric: 'clientRssMiB', kind: 'count' },
  { title: 'server peak RSS MiB', metric: 'serverRssMiB', kind: 'count' },
]
const lost: Column = { title: 'lost', metric: 'lost', kind: 'count' }
const latency: Column[] = [
  { title: 'p50 µs', metric: 'p50us', kind: 'us' },
  { title: 'p99 µs', metric: 'p99us', kind: 'us' },
]

function describe(info: RunInfo): Record<WorkloadName, { title: string; text: string; columns: Column[] }> {
  const p = info.params
  const size = `${p.size} B`
  const cs = cpu()
  return {
    oneway: {
      title: `oneway: ${size} one-way messages, raw bytes`,
      text: 'Counted at the far end: the sender queues messages (waiting while its library says it is backlogged), then a barrier on the same ordered path whose reply carries the count. msg/s = messages counted / time to the barrier reply.',
      columns: [{ title: 'msg/s', metric: 'perSec', kind: 'rate' }, lost, ...cs],
    },
    'oneway-values': {
      title: 'oneway-values: one-way messages carrying a small object (67 B as MessagePack, 90 B as JSON)',
      text: "The same, with `{ id, kind, sensor, value, ok, tags }` in each system's value encoding (the systems table says which); the receiver decodes every one.",
      columns: [{ title: 'msg/s', metric: 'perSec', kind: 'rate' }, lost, ...cs],
    },
    echo: {
      title: `echo: ${size} request/response, one in flight`,
      text: 'Each round trip timed in the client; p50/p99 by nearest rank.',
      columns: [{ title: 'req/s', metric: 'perSec', kind: 'rate' }, ...latency, ...cs],
    },
    echo64: {
      title: `echo64: ${size} request/response, 64 in flight`,
      text: 'A new request starts as each completes.',
      columns: [{ title: 'req/s', metric: 'perSec', kind: 'rate' }, ...latency, ...cs],
    },
    big: {
      title: `big: one ${sizeText(p.bigBytes)} message`,
      text: 'Timed from send to the acknowledgement of its length. RSS is each process peak (it includes the runtime, about 50 MiB).',
      columns: [{ title: 'MB/s', metric: 'mbPerSec', kind: 'rate' }, ...rss, ...cs],
    },
    fanout: {
      title: `fanout: ${size} messages from 1 publisher to ${info.subscribers} subscriber processes`,
      text: 'Counted at the far end: each subscriber counts data messages and notes the last arrival (CLOCK_MONOTONIC, shared by all processes); its rate is received / (last arrival − publishing start), averaged over subscribers. lost = published × subscribers − received. Client CPU is per message received, server (publisher) CPU per message published.',
      columns: [
        { title: 'msg/s per subscriber', metric: 'perSec', kind: 'rate' },
        lost,
        ...cpu('msg', 'subscriber', 'publisher'),
      ],
    },
    stream: {
      title: `stream: ${sizeText(p.streamBytes)} as 256 KiB views of one buffer`,
      text: 'One request whose body streams with flow control; the server reads and discards it, then replies with the count. RSS is each process peak.',
      columns: [{ title: 'MB/s', metric: 'mbPerSec', kind: 'rate' }, ...rss, ...cpu('256 KiB')],
    },
    handshake: {
      title: 'handshake: sequential connect + close, per security mode',
      text: 'Each connect waits until the handshake completed (switchboard: `waitForReady`, the hello exchanged; raw: the socket connected), then closes.',
      columns: [{ title: 'handshakes/s', metric: 'perSec', kind: 'rate' }, ...cpu('handshake')],
    },
  }
}

function fmt(v: number, kind: Column['kind']): string {
  if (kind === 'rate' || kind === 'count') {
    const a = Math.abs(v)
    if (a >= 1e6) return `${(v / 1e6).toPrecision(3)} M`
    if (a >= 1e4) return `${(v / 1e3).toPrecision(3)} k`
    if (a >= 100 || Number.isInteger(v)) return Math.round(v).toLocaleString('en-US')
    return v.toPrecision(3)
  }
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3)
}

function cell(s: Spread | undefined, kind: Column['kind'], rounds: number): string {
  if (s === undefined) return '—'
  if (rounds <= 1 || s.min === s.max) return fmt(s.median, kind)
  return `${fmt(s.median, kind)} <sub>${fmt(s.min, kind)}–${fmt(s.max, kind)}</sub>`
}

function ratioCell(s: Spread | undefined, rounds: number): string {
  if (s === undefined) return '—'
  const f = (v: number): string => (v >= 10 ? v.toFixed(0) : v >= 0.1 ? v.toFixed(2) : v.toPrecision(2))
  if (rounds <= 1 || s.min === s.max) return `${f(s.median)}×`
  return `${f(s.median)}× <sub>${f(s.min)}–${f(s.max)}</sub>`
}

function table(
  records: readonly CellRecord[],
  rows: readonly Row[],
  workload: WorkloadName,
  columns: Column[],
): string {
  const head = [
    'system',
    'transport',
    columns[0]!.title,
    '× ceiling',
    ...columns.slice(1).map((c) => c.title),
  ]
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  const skipped = new Map<string, Set<string>>()
  for (const row of rows) {
    const unsupported = unsupportedReason(row.system, workload)
    if (unsupported !== undefined) {
      lines.push(`| ${row.system} | ${row.transport} | unsupported: ${unsupported.replaceAll('|', '\\|')} |`)
      continue
    }
    const reason = skipReason(row.system, workload)
    if (reason !== undefined) {
      skipped.set(reason, (skipped.get(reason) ?? new Set()).add(row.system))
      continue
    }
    const s: Summary | undefined = summarize(records, workload, row)
    if (s === undefined) continue
    const okRounds = s.rounds - s.failures
    const name = `${row.system}${s.failures > 0 ? ` ⚠ ${s.failures}/${s.rounds} failed` : ''}`
    if (okRounds === 0) {
      lines.push(`| ${name} | ${row.transport} | failed: ${s.errors.join('; ').replaceAll('|', '\\|')} |`)
      continue
    }
    const values = columns.map((c) => cell(s.metric(c.metric), c.kind, okRounds))
    lines.push(
      `| ${[name, row.transport, values[0]!, ratioCell(s.ratio, okRounds), ...values.slice(1)].join(' | ')} |`,
    )
  }
  const notRun = [...skipped].map(([reason, systems]) => `${[...systems].join(', ')} (${reason})`)
  if (notRun.length > 0) lines.push('', `Not run: ${notRun.join('; ')}.`)
  const errors = rows.flatMap((row) => {
    const s = summarize(records, workload, row)
    return s === undefined || s.failures === 0 || s.failures === s.rounds
      ? []
      : [`${row.system} (${row.transport}): ${s.errors.join('; ')}`]
  })
  if (errors.length > 0) lines.push('', `Failed rounds: ${errors.join('; ')}.`)
  return lines.join('\n')
}

const CEILING_TEXT = `**The ceiling** (\`raw-coalesced\`, bench/lib/frames.ts and raw.ts) does the least a framed
protocol must, over the same sockets, and every ratio divides by it (same workload, same
transport, same round):

- a u32 length per frame, plus a u32 id in requests; nothing else (no types, no flow control, no
  security);
- frames under 16 KiB are copied into a slab that is flushed once per event-loop turn; larger
  frames are written as the header plus the payload by reference;
- the reader hands out views of what it read (it assembles only small frames split across reads);
- one promise and one Map entry per request;
- fan-out writes the one slab to every subscriber;
- the stream writes 256 KiB views of one buffer, each as soon as it is queued, waiting for
  \`drain\` whenever the socket asks for it; its reader counts and discards;
- one-way and fan-out messages are counted at the far end.

\`raw-naive\` is the same framing with one \`socket.write\` per message.`

export function renderReport(
  records: readonly CellRecord[],
  info: RunInfo,
  rows: readonly Row[],
  workloads: readonly WorkloadName[],
): string {
  const p = info.params
  const timed = p.count === undefined ? `${p.durationMs / 1000} s` : `${p.count} messages`
  const out: string[] = [
    '# Benchmark results',
    '',
    info.smoke
      ? '**Smoke run: tiny sizes, one round. These figures mean nothing; they only show every cell completed.**\n'
      : '',
    `Made by \`npm run bench${info.command === '' ? '' : ` -- ${info.command}`}\` (bench/README.md) on ${info.date.slice(0, 10)}: Node ${info.node}, ${info.cpus}; ${info.rounds} round(s), ${info.minutes.toFixed(1)} min.`,
    `Each cell ran in fresh processes: ${timed} timed per one-way, echo, fan-out and handshake cell after a ${info.warmupMs / 1000} s warm-up on the same connection; payload ${p.size} B; big message ${sizeText(p.bigBytes)}; stream ${sizeText(p.streamBytes)}.`,
    '',
    `Versions: ${Object.entries(info.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    '![Ratio to the raw ceiling per workload](results.svg)',
    '',
    '**How to read.** Each figure is the median over the rounds, with the lowest and highest',
    'below it. **× ceiling** is the figure divided by `raw-coalesced`’s on the same transport in the',
    'same round (median and range over rounds): above 1 is faster than the ceiling. CPU is',
    'process.cpuUsage() (user + system, all threads) in each process over the timed part, per',
    'message; for nats the server side includes the broker. ⚠ marks cells where some rounds failed.',
    '',
    CEILING_TEXT,
    '',
    '## Systems',
    '',
    '| system | transports | bytes travel as | values travel as | notes |',
    '|---|---|---|---|---|',
  ]
  const systems = [...new Set(rows.map((r) => r.system))]
  for (const s of systems) {
    const spec = SPECS[s]
    const name = spec.pkg === undefined ? s : `${s} (${spec.pkg} ${info.versions[spec.pkg] ?? '?'})`
    out.push(`| ${name} | ${spec.transports.join(', ')} | ${spec.bytes} | ${spec.values} | ${spec.notes} |`)
  }
  const text = describe(info)
  for (const w of workloads) {
    const d = text[w]
    out.push('', `## ${d.title}`, '', d.text, '', table(records, rows, w, d.columns))
  }
  out.push('')
  return out.join('\n')
}

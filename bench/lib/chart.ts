/**
 * results.svg: one panel per workload, one bar per row: its median ratio to the ceiling (same
 * transport, same round) on a log scale, a whisker from the lowest to the highest round, and the
 * median figure itself at the right. Plain SVG written by hand: no chart dependency.
 */
import type { WorkloadName } from './common.ts'
import { type CellRecord, type Summary, summarize } from './stats.ts'
import { type Row, rowLabel, skipReason } from './systems.ts'

const WIDTH = 960
const LABEL = 230
const PLOT = 500
const BAR = 14
const GAP = 5
const TITLE = 34
const AXIS = 22

function esc(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}

function color(system: string): string {
  if (system.startsWith('raw')) return '#8c8c8c'
  if (system.startsWith('switchboard')) return '#2e7d32'
  return '#1f5fa8'
}

function compact(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toPrecision(3)} M`
  if (v >= 1e4) return `${(v / 1e3).toPrecision(3)} k`
  return v >= 100 ? Math.round(v).toString() : v.toPrecision(3)
}

const UNIT: Record<WorkloadName, string> = {
  oneway: 'msg/s',
  'oneway-values': 'msg/s',
  echo: 'req/s',
  echo64: 'req/s',
  big: 'MB/s',
  fanout: 'msg/s per sub',
  stream: 'MB/s',
  handshake: 'handshakes/s',
}

export function renderChart(
  records: readonly CellRecord[],
  rows: readonly Row[],
  workloads: readonly WorkloadName[],
): string {
  const panels = workloads
    .map((w) => ({
      workload: w,
      bars: rows
        .filter((r) => skipReason(r.system, w) === undefined)
        .map((r) => summarize(records, w, r))
        .filter((s): s is Summary => s !== undefined),
    }))
    .filter((p) => p.bars.length > 0)
  const ratios = panels.flatMap((p) => p.bars.flatMap((b) => (b.ratio ? [b.ratio.min, b.ratio.max] : [])))
  const lo = 10 ** Math.floor(Math.log10(Math.max(1e-4, Math.min(0.1, ...ratios))))
  const hi = 10 ** Math.ceil(Math.log10(Math.max(2, ...ratios)))
  const x = (ratio: number): number =>
    LABEL + ((Math.log10(Math.max(lo, Math.min(hi, ratio))) - Math.log10(lo)) / Math.log10(hi / lo)) * PLOT
  const out: string[] = []
  let y = 10
  for (const panel of panels) {
    out.push(
      `<text x="10" y="${y + 20}" font-size="15" font-weight="bold">${esc(panel.workload)}</text>` +
        `<text x="${LABEL}" y="${y + 20}" font-size="12" fill="#555">ratio to raw-coalesced (log scale); right: median ${esc(UNIT[panel.workload])}</text>`,
    )
    y += TITLE
    const top = y
    const bars: string[] = []
    for (const s of panel.bars) {
      const mid = y + BAR / 2
      bars.push(
        `<text x="${LABEL - 8}" y="${mid + 4}" font-size="12" text-anchor="end">${esc(rowLabel(s.row))}</text>`,
      )
      if (s.ratio === undefined) {
        const why = s.failures === s.rounds ? 'failed' : 'no ceiling to compare with'
        bars.push(`<text x="${LABEL + 4}" y="${mid + 4}" font-size="12" fill="#b00">${why}</text>`)
      } else {
        const r = s.ratio
        bars.push(
          `<rect x="${LABEL}" y="${y}" width="${(x(r.median) - LABEL).toFixed(1)}" height="${BAR}" fill="${color(s.row.system)}"/>`,
          `<line x1="${x(r.min).toFixed(1)}" x2="${x(r.max).toFixed(1)}" y1="${mid}" y2="${mid}" stroke="#000" stroke-width="1"/>`,
        )
        const figure = s.metric(
          panel.workload === 'big' || panel.workload === 'stream' ? 'mbPerSec' : 'perSec',
        )
        const text = `${figure ? compact(figure.median) : '?'}  (${r.median >= 0.1 ? r.median.toFixed(2) : r.median.toPrecision(2)}×)`
        bars.push(`<text x="${LABEL + PLOT + 10}" y="${mid + 4}" font-size="12">${esc(text)}</text>`)
      }
      y += BAR + GAP
    }
    for (let t = lo; t <= hi * 1.0001; t *= 10) {
      const tx = x(t).toFixed(1)
      out.push(
        `<line x1="${tx}" x2="${tx}" y1="${top - 4}" y2="${y}" stroke="${t === 1 ? '#c00' : '#ddd'}" stroke-width="1"/>`,
        `<text x="${tx}" y="${y + 14}" font-size="11" text-anchor="middle" fill="#555">${t >= 1 ? t : t.toPrecision(1)}×</text>`,
      )
    }
    out.push(...bars)
    y += AXIS + 8
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y + 10}" viewBox="0 0 ${WIDTH} ${y + 10}" font-family="sans-serif" role="img">`,
    '<title>switchboard and its peers: each workload as a ratio to the raw-socket ceiling</title>',
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n')
}

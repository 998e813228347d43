/**
 * From one record per cell and round to one summary per cell: each metric's median and range
 * over the rounds that completed, and the ratio to the ceiling, computed per round (same
 * workload, same transport, same round) and then summarised the same way.
 */
import type { CellResult } from './cell.ts'
import { CEILING, type WorkloadName } from './common.ts'
import type { Row } from './systems.ts'

export interface CellRecord extends CellResult, Row {
  round: number
  workload: WorkloadName
}

export interface Spread {
  median: number
  min: number
  max: number
}

export type MetricName = Exclude<keyof CellResult, 'ok' | 'error'>

export interface Summary {
  workload: WorkloadName
  row: Row
  rounds: number
  failures: number
  /** Distinct error messages of failed rounds. */
  errors: string[]
  metric(name: MetricName): Spread | undefined
  /** Primary figure over the ceiling's in the same round. */
  ratio: Spread | undefined
}

/** The figure ratios compare: throughput in MB/s for big and stream, else per second. */
export function primary(workload: WorkloadName, r: CellResult): number {
  return workload === 'big' || workload === 'stream' ? r.mbPerSec : r.perSec
}

export function spread(values: number[]): Spread | undefined {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return undefined
  const mid = v.length >> 1
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2
  return { median, min: v[0]!, max: v[v.length - 1]! }
}

export function summarize(
  records: readonly CellRecord[],
  workload: WorkloadName,
  row: Row,
): Summary | undefined {
  const mine = records.filter(
    (r) => r.workload === workload && r.system === row.system && r.transport === row.transport,
  )
  if (mine.length === 0) return undefined
  const ok = mine.filter((r) => r.ok)
  const ratios: number[] = []
  for (const r of ok) {
    const ceiling = records.find(
      (c) =>
        c.ok &&
        c.round === r.round &&
        c.workload === workload &&
        c.transport === row.transport &&
        c.system === CEILING,
    )
    const base = ceiling === undefined ? 0 : primary(workload, ceiling)
    if (base > 0) ratios.push(primary(workload, r) / base)
  }
  return {
    workload,
    row,
    rounds: mine.length,
    failures: mine.length - ok.length,
    errors: [...new Set(mine.filter((r) => !r.ok).map((r) => r.error ?? 'failed'))],
    metric: (name) => spread(ok.map((r) => r[name]).filter((x): x is number => typeof x === 'number')),
    ratio: spread(ratios),
  }
}

/**
 * A one-line progress bar for a byte stream, drawn on a terminal (the caller decides whether the
 * output is one): bytes so far, the total and a bar when it is known, and the average rate.
 * Redrawn at most every `intervalMs`, and once more with a newline at the end.
 *
 *   [##########..........]  50%  64.0 MiB / 128.0 MiB  212.4 MiB/s
 */
import { performance } from 'node:perf_hooks'
import type { Writable } from 'node:stream'

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`
}

export interface ProgressOptions {
  /** Total bytes, when known (a file); without it no bar or percentage is drawn. */
  total?: number | undefined
  /** Least time between redraws, in ms. Default 100. */
  intervalMs?: number
  /** Milliseconds clock. Default performance.now. */
  now?: () => number
}

export class ProgressBar {
  private bytes = 0
  private readonly started: number
  private lastDrawn = Number.NEGATIVE_INFINITY
  private readonly total: number | undefined
  private readonly intervalMs: number
  private readonly now: () => number

  constructor(
    private readonly out: Writable,
    options: ProgressOptions = {},
  ) {
    this.total = options.total
    this.intervalMs = options.intervalMs ?? 100
    this.now = options.now ?? (() => performance.now())
    this.started = this.now()
  }

  /** Counts `n` more bytes and redraws if the interval has passed. */
  add(n: number): void {
    this.bytes += n
    const t = this.now()
    if (t - this.lastDrawn >= this.intervalMs) this.draw(t, false)
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    this.draw(this.now(), true)
  }

  /** Passes `source` through, counting every chunk; finishes when the source ends or fails. */
  async *track(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of source) {
        this.add(chunk.length)
        yield chunk
      }
    } finally {
      this.finish()
    }
  }

  private draw(t: number, last: boolean): void {
    this.lastDrawn = t
    const seconds = (t - this.started) / 1000
    const rate = seconds > 0 ? `${formatBytes(this.bytes / seconds)}/s` : ''
    let text: string
    if (this.total !== undefined && this.total > 0) {
      const fraction = Math.min(1, this.bytes / this.total)
      const filled = Math.floor(fraction * 20) // full only at 100%
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}]`
      const percent = `${Math.floor(fraction * 100)}%`.padStart(4)
      text = `${bar} ${percent}  ${formatBytes(this.bytes)} / ${formatBytes(this.total)}  ${rate}`
    } else {
      text = `${formatBytes(this.bytes)}  ${rate}`
    }
    // \r returns to the line start; \x1b[K clears what a longer previous line left behind.
    this.out.write(`\r${text}\x1b[K${last ? '\n' : ''}`)
  }
}

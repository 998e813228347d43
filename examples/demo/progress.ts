/**
 * A one-line progress bar for a byte count: redrawn in place on a TTY, silent otherwise
 * (a log file should not fill with carriage returns).
 */
const WIDTH = 30

export function progressBar(label: string, total: number): { update(done: number): void; end(): void } {
  const tty = process.stdout.isTTY === true
  const started = performance.now()
  let lastDraw = 0
  const draw = (done: number): void => {
    const filled = Math.round((done / total) * WIDTH)
    const seconds = (performance.now() - started) / 1000
    const rate = seconds > 0 ? done / 1024 / 1024 / seconds : 0
    const bar = `${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}`
    process.stdout.write(`\r${label} [${bar}] ${Math.floor((100 * done) / total)}% ${rate.toFixed(0)} MiB/s`)
  }
  return {
    update(done) {
      if (!tty) return
      const now = performance.now()
      if (now - lastDraw < 50 && done < total) return // at most 20 redraws a second
      lastDraw = now
      draw(done)
    },
    end() {
      if (tty) process.stdout.write('\r\x1b[K')
    },
  }
}

/**
 * Long-running commands (serve, sub, ls --watch) run until the process is asked to stop.
 */
import type { CliIo } from './io.ts'

/** Resolves when io.shutdown aborts; never, when the caller gave no shutdown signal. */
export function stopRequested(io: CliIo): Promise<void> {
  const signal = io.shutdown
  if (signal === undefined) return new Promise<void>(() => {})
  if (signal.aborted) return Promise.resolve()
  return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}

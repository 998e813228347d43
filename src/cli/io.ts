/**
 * What a command may touch of its process: three streams, the environment, whether stderr is a
 * terminal, and a shutdown signal. main.ts passes the real ones; tests pass their own, so every
 * command runs in-process and returns its exit code instead of calling process.exit.
 */
import type { Readable, Writable } from 'node:stream'

export interface CliIo {
  readonly stdout: Writable
  readonly stderr: Writable
  readonly stdin: Readable
  /** Environment variables (SWITCHBOARD_RUNTIME_DIR, …). Default: none. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** True when stderr is a terminal: progress bars are drawn only then. Default false. */
  readonly isTTY?: boolean
  /** Aborts when the process is asked to stop (SIGINT/SIGTERM in main.ts); long-running commands end cleanly. */
  readonly shutdown?: AbortSignal
}

/** Exit codes of every command. */
export const ExitCode = {
  /** The command did what was asked. */
  ok: 0,
  /** A coded error (printed as `error CODE: message`). */
  failed: 1,
  /** The command line is wrong (unknown command or flag, missing or malformed argument). */
  usage: 2,
} as const

/** Writes one line to `out`. */
export function writeLine(out: Writable, line: string): void {
  out.write(`${line}\n`)
}

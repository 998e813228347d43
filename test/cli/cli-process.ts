/**
 * Runs the real `switchboard` entry (src/cli/main.ts through tsx) as a child process, as a user
 * would, and collects its output and exit.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { withTimeout } from '../helpers/wait.ts'

const main = 'src/cli/main.ts'

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface CliProcess {
  readonly proc: ChildProcess
  /** Resolves when the process has exited and its output is complete. */
  readonly exited: Promise<Exit>
  /** Resolves with the first stdout line starting with `prefix`; rejects if the process exits first. */
  line(prefix: string, timeoutMs?: number): Promise<string>
  /** SIGKILL if still running (cleanup after a failed test). */
  kill(): Promise<void>
}

export function startCli(args: string[], env: Record<string, string>): CliProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  })
  let stdout = ''
  let stderr = ''
  proc.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  // 'close' (not 'exit') so stdout and stderr are fully read.
  const exited = once(proc, 'close').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    stdout,
    stderr,
  }))
  const lines = createInterface({ input: proc.stdout! })
  const seen: string[] = []
  lines.on('line', (l) => seen.push(l))
  return {
    proc,
    exited,
    line(prefix, timeoutMs = 15_000) {
      const found = new Promise<string>((resolve, reject) => {
        const hit = seen.find((l) => l.startsWith(prefix))
        if (hit !== undefined) return resolve(hit)
        const onLine = (l: string): void => {
          if (!l.startsWith(prefix)) return
          lines.off('line', onLine)
          resolve(l)
        }
        lines.on('line', onLine)
        void exited.then((e) =>
          reject(
            new Error(`switchboard ${args.join(' ')} exited (${e.code}) before '${prefix}': ${e.stderr}`),
          ),
        )
      })
      return withTimeout(found, timeoutMs, `'${prefix}' from switchboard ${args.join(' ')}`)
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
      await exited
    },
  }
}

/** Runs a command to its end (stdin: `input`, or closed at once) and returns how it exited. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  input?: Buffer,
  timeoutMs = 20_000,
): Promise<Exit> {
  const child = startCli(args, env)
  child.proc.stdin!.end(input)
  return withTimeout(child.exited, timeoutMs, `switchboard ${args.join(' ')} to exit`)
}

/**
 * Runs the real `switchboard` entry (src/cli/main.ts through tsx) as a child process, as a user
 * would, and collects its output and exit.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface, type Interface } from 'node:readline'
import type { Readable } from 'node:stream'
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
  /** Resolves with the first stderr line matching `pattern`; rejects if the process exits first. */
  errorLine(pattern: RegExp, timeoutMs?: number): Promise<string>
  /** SIGKILL if still running (cleanup after a failed test). */
  kill(): Promise<void>
}

interface WatchedLines {
  readonly lines: Interface
  readonly seen: string[]
}

function watchLines(stream: Readable): WatchedLines {
  const lines = createInterface({ input: stream })
  const seen: string[] = []
  lines.on('line', (l) => seen.push(l))
  return { lines, seen }
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
  const out = watchLines(proc.stdout!)
  const err = watchLines(proc.stderr!)
  const describe = `switchboard ${args.join(' ')}`
  const first = (watched: WatchedLines, test: (l: string) => boolean, what: string, timeoutMs: number) => {
    const found = new Promise<string>((resolve, reject) => {
      const hit = watched.seen.find(test)
      if (hit !== undefined) return resolve(hit)
      const onLine = (l: string): void => {
        if (!test(l)) return
        watched.lines.off('line', onLine)
        resolve(l)
      }
      watched.lines.on('line', onLine)
      void exited.then((e) => reject(new Error(`${describe} exited (${e.code}) before ${what}: ${e.stderr}`)))
    })
    return withTimeout(found, timeoutMs, `${what} from ${describe}`)
  }
  return {
    proc,
    exited,
    line: (prefix, timeoutMs = 15_000) => first(out, (l) => l.startsWith(prefix), `'${prefix}'`, timeoutMs),
    errorLine: (pattern, timeoutMs = 15_000) => first(err, (l) => pattern.test(l), `${pattern}`, timeoutMs),
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

/**
 * Spawns a fixture program (a real .ts file) in its own process and waits for its `ready` line.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { withTimeout } from './wait.ts'

export interface Child {
  proc: ChildProcess
  /** What the program printed after `ready `. */
  ready: string
  /** Ends the program (SIGKILL) and waits for its exit. */
  kill(): Promise<void>
}

/** `plain`: run a compiled .js file on bare node (no TypeScript loader in the process). */
export async function startProgram(
  file: string,
  args: string[],
  timeoutMs = 15_000,
  plain = false,
): Promise<Child> {
  const proc = spawn(process.execPath, plain ? [file, ...args] : ['--import', 'tsx', file, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const lines = createInterface({ input: proc.stdout! })
  const ready = await withTimeout(
    new Promise<string>((resolve, reject) => {
      lines.on('line', (line) => {
        if (line.startsWith('ready ')) resolve(line.slice(6))
      })
      proc.once('exit', (code) => reject(new Error(`${file} exited with ${code} before ready: ${stderr}`)))
    }),
    timeoutMs,
    `${file} to print ready`,
  )
  return {
    proc,
    ready,
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      const exited = once(proc, 'exit')
      proc.kill('SIGKILL')
      await exited
    },
  }
}

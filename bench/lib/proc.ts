/**
 * Server child processes: spawned with a timeout on their `ready` line, and all killed when the
 * runner exits — normally, by an exception, or by a signal.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { SystemName, TransportName } from './common.ts'
import { withTimeout } from './util.ts'

const SERVER = fileURLToPath(new URL('../server.ts', import.meta.url))
/** The repository root: where `--import tsx` resolves from. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const live = new Set<ChildProcess>()

export interface ServerProcess {
  readonly system: SystemName
  readonly address: string
  readonly child: ChildProcess
}

export async function spawnServer(
  system: SystemName,
  transport: TransportName,
  dir: string,
  timeoutMs: number,
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', SERVER, '--system', system, '--transport', transport, '--dir', dir],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  )
  live.add(child)
  child.once('exit', () => live.delete(child))
  child.once('error', () => {}) // surfaces as the ready wait failing
  const address = new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (text: string) => {
      out += text
      const m = /^ready (\S+)$/m.exec(out)
      if (m !== null) resolve(m[1]!)
    })
    child.once('exit', (code, signal) =>
      reject(new Error(`${system} server exited (${signal ?? code}) before it was ready`)),
    )
  })
  try {
    return {
      system,
      address: await withTimeout(address, timeoutMs, `the ${system} server to print ready`),
      child,
    }
  } catch (err) {
    kill(child)
    throw err
  }
}

/** Stops one server: stdin closes (it exits by itself), SIGKILL if it is still there after `graceMs`. */
export async function stopServer(server: ServerProcess, graceMs = 2000): Promise<void> {
  const { child } = server
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.stdin?.end()
  try {
    await withTimeout(exited, graceMs, `the ${server.system} server to exit`)
  } catch {
    kill(child)
  }
}

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
}

/** Kills every server still running (synchronous: safe in an 'exit' handler). */
export function killAll(): void {
  for (const child of live) kill(child)
  live.clear()
}

process.on('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll()
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1))
  })
}

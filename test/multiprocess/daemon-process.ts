/**
 * Starts a daemon in its own process: `switchboard daemon` through the CLI, or the fixture with
 * the tests' cookie auth. Resolves once it prints its addresses; kill() is kill -9.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { withTimeout } from '../helpers/wait.ts'

const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const withAuth = fileURLToPath(new URL('../fixtures/programs/daemon-with-auth.ts', import.meta.url))
const withPolicy = fileURLToPath(new URL('../fixtures/programs/daemon-with-policy.ts', import.meta.url))

export interface DaemonProcess {
  readonly proc: ChildProcess
  readonly address: string
  readonly publicKey: string
  /** Every line it printed so far. */
  readonly lines: readonly string[]
  /** kill -9, then wait for the exit. */
  kill(): Promise<void>
  /** SIGTERM (a graceful stop), then wait for the exit. */
  stop(): Promise<void>
}

function spawnAndWait(
  args: string[],
  parse: (lines: string[]) => { address: string; publicKey: string } | undefined,
  wrap: string[] = [],
) {
  const [command, ...rest] = [...wrap, process.execPath, '--import', 'tsx', ...args]
  const proc = spawn(command!, rest, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const seen: string[] = []
  const started = new Promise<{ address: string; publicKey: string }>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      seen.push(line)
      const got = parse(seen)
      if (got !== undefined) resolve(got)
    })
    proc.once('exit', (code) =>
      reject(new Error(`the daemon exited (${code}) before it was ready: ${stderr}`)),
    )
  })
  return { proc, started, seen }
}

function handle(proc: ChildProcess, address: string, publicKey: string, lines: string[]): DaemonProcess {
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    const exited = once(proc, 'exit')
    proc.kill(signal)
    await withTimeout(exited, 10_000, `the daemon to exit on ${signal}`)
  }
  return { proc, address, publicKey, lines, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') }
}

/** `switchboard daemon --socket SOCKET …args` (an open daemon: no auth configured). */
export async function startCliDaemon(socket: string, args: string[] = []): Promise<DaemonProcess> {
  const { proc, started, seen } = spawnAndWait([cli, 'daemon', '--socket', socket, ...args], (lines) => {
    const listening = lines.find((l) => l.startsWith('listening unix:'))
    const key = lines.find((l) => l.startsWith('public-key '))
    return listening === undefined || key === undefined
      ? undefined
      : { address: listening.slice('listening '.length), publicKey: key.slice('public-key '.length) }
  })
  const got = await withTimeout(started, 20_000, 'switchboard daemon to listen')
  return handle(proc, got.address, got.publicKey, seen)
}

/** The fixture daemon with the real auth (cookie logins, no policy), on SOCKET. */
export async function startAuthDaemon(socket: string, minLeaseMs = 100): Promise<DaemonProcess> {
  const { proc, started, seen } = spawnAndWait([withAuth, socket, String(minLeaseMs)], (lines) => {
    const ready = lines.find((l) => l.startsWith('ready '))
    if (ready === undefined) return undefined
    const o = JSON.parse(ready.slice(6)) as { addresses: string[]; publicKey: string }
    return { address: o.addresses[0]!, publicKey: o.publicKey }
  })
  const got = await withTimeout(started, 20_000, 'the daemon to start')
  return handle(proc, got.address, got.publicKey, seen)
}

/**
 * The fixture daemon with the real auth (createDaemonAuth) configured by CONFIG_FILE (see
 * test/fixtures/programs/daemon-with-policy.ts); `wrap` runs it under a command (`ip netns exec`).
 * Its address is the last one it listens on (TCP when it has both).
 */
export async function startPolicyDaemon(configFile: string, wrap: string[] = []): Promise<DaemonProcess> {
  const { proc, started, seen } = spawnAndWait(
    [withPolicy, configFile],
    (lines) => {
      const ready = lines.find((l) => l.startsWith('ready '))
      if (ready === undefined) return undefined
      const o = JSON.parse(ready.slice(6)) as { addresses: string[]; publicKey: string }
      return { address: o.addresses[o.addresses.length - 1]!, publicKey: o.publicKey }
    },
    wrap,
  )
  const got = await withTimeout(started, 20_000, 'the daemon to start')
  return handle(proc, got.address, got.publicKey, seen)
}

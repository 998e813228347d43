/**
 * 500 peers (budget.daemonPeers) from 5 processes, each its own connection and lease, on one
 * daemon process: list and every watcher agree on all of them; a process that closes cleanly
 * takes its share out at once; one killed with kill -9 loses its share when their leases end.
 * Prints registration and lookup latency (median, p99) and the daemon's RSS: measured, not
 * asserted.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { join as joinPath } from 'node:path'
import { createInterface } from 'node:readline'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { run } from '../../src/cli/run.ts'
import { budget } from '../budget.ts'
import { captureIo } from '../cli/captured-io.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'
import { type DaemonProcess, startAuthDaemon } from './daemon-process.ts'

const program = fileURLToPath(new URL('../fixtures/programs/daemon-scale-peers.ts', import.meta.url))
const PROCESSES = budget.daemonPeerProcesses
const PER_PROCESS = budget.daemonPeers / PROCESSES

interface Swarm {
  proc: ChildProcess
  prefix: string
  registerMs: number[]
  ask(cmd: Record<string, unknown>, key: string): Promise<Record<string, unknown>>
}

async function startSwarm(d: DaemonProcess, prefix: string, socketDir: string): Promise<Swarm> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', program, d.address, d.publicKey, String(PER_PROCESS), prefix, socketDir],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  let stderr = ''
  proc.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString()
  })
  const waiters: { key: string; resolve(l: Record<string, unknown>): void }[] = []
  let readyLine: ((registerMs: number[]) => void) | undefined
  const ready = new Promise<number[]>((resolve, reject) => {
    readyLine = resolve
    proc.once('exit', (code) => reject(new Error(`swarm ${prefix} exited (${code}): ${stderr}`)))
  })
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    if (line.startsWith('ready '))
      return readyLine?.((JSON.parse(line.slice(6)) as { registerMs: number[] }).registerMs)
    const l = JSON.parse(line) as Record<string, unknown>
    if (typeof l['error'] === 'string') throw new Error(`swarm ${prefix}: ${String(l['message'])}`)
    const i = waiters.findIndex((w) => w.key in l)
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(l)
  })
  const registerMs = await withTimeout(ready, 60_000, `swarm ${prefix} to register ${PER_PROCESS} peers`)
  return {
    proc,
    prefix,
    registerMs,
    ask(cmd, key) {
      const got = new Promise<Record<string, unknown>>((resolve) => waiters.push({ key, resolve }))
      proc.stdin!.write(`${JSON.stringify(cmd)}\n`)
      return withTimeout(got, 30_000, `swarm ${prefix}: ${key}`)
    },
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!
  return Number(/\d+/.exec(line)![0]) / 1024
}

const fmt = (ms: number): string => `${ms.toFixed(1)} ms`

test(`${budget.daemonPeers} peers from ${budget.daemonPeerProcesses} processes on one daemon: list and watch agree; clean close and lease expiry`, async () => {
  const tmp = await makeRuntimeDir('sbds-')
  const socket = joinPath(tmp.path, 'run', 'daemon.sock')
  const swarms: Swarm[] = []
  let daemon: DaemonProcess | undefined
  after(async () => {
    for (const s of swarms) if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL')
    await daemon?.kill()
    await tmp.cleanup()
  })
  daemon = await startAuthDaemon(socket, 100)
  const rssBefore = rssMiB(daemon.proc.pid!)
  const started = await Promise.all(
    Array.from({ length: PROCESSES }, (_, i) => startSwarm(daemon!, `p${i}x`, joinPath(tmp.path, 'run'))),
  )
  swarms.push(...started)
  const rssFull = rssMiB(daemon.proc.pid!)
  const all = swarms.flatMap((s) => Array.from({ length: PER_PROCESS }, (_, i) => `${s.prefix}${i}`)).sort()

  const views = async (): Promise<string[][]> =>
    Promise.all(
      swarms
        .filter((s) => s.proc.exitCode === null && s.proc.signalCode === null)
        .map(async (s) => (await s.ask({ cmd: 'view' }, 'view'))['view'] as string[]),
    )
  await waitFor(async () => (await views()).every((v) => v.join() === all.join()), {
    what: `every watcher to know all ${all.length}`,
    timeoutMs: 20_000,
    intervalMs: 200,
  })

  // The daemon's own list, as `switchboard ls --directory` prints it, has every one of them.
  const io = captureIo()
  assert.equal(await run(['ls', '--json', '--directory', daemon.address], io), 0, io.err())
  assert.deepEqual((JSON.parse(io.out()) as { instance: string }[]).map((e) => e.instance).sort(), all)

  const lookups = (await Promise.all(swarms.map((s) => s.ask({ cmd: 'lookup', n: 40 }, 'lookupMs')))).flatMap(
    (l) => l['lookupMs'] as number[],
  )
  const registers = swarms.flatMap((s) => s.registerMs)
  const rssAfterLookups = rssMiB(daemon.proc.pid!)

  // A clean close: swarm 0's peers leave at once, long before their leases (2 s) would end.
  const leaver = swarms[0]!
  const left = all.filter((i) => !i.startsWith(leaver.prefix))
  const closedAt = performance.now()
  leaver.proc.stdin!.end()
  await once(leaver.proc, 'exit')
  await waitFor(async () => (await views()).every((v) => v.join() === left.join()), {
    what: `the watchers to see ${PER_PROCESS} leave on a clean close`,
    timeoutMs: 20_000,
    intervalMs: 50,
  })
  const cleanLeaveMs = performance.now() - closedAt

  // kill -9: swarm 1's peers leave when their leases end.
  const killed = swarms[1]!
  const remaining = left.filter((i) => !i.startsWith(killed.prefix))
  const killedAt = performance.now()
  killed.proc.kill('SIGKILL')
  await once(killed.proc, 'exit')
  await waitFor(async () => (await views()).every((v) => v.join() === remaining.join()), {
    what: `the watchers to see ${PER_PROCESS} leases end after kill -9`,
    timeoutMs: 20_000,
    intervalMs: 100,
  })
  const expiryMs = performance.now() - killedAt

  console.log(
    [
      `${all.length} peers, ${PROCESSES} processes, each its own connection and lease (2 s, heartbeats every 667 ms):`,
      `  registration (dial + handshake + cookie login + register): median ${fmt(percentile(registers, 50))}, p99 ${fmt(percentile(registers, 99))}`,
      `  lookup (daemon.list of ${all.length}, filtered by name): median ${fmt(percentile(lookups, 50))}, p99 ${fmt(percentile(lookups, 99))} (${lookups.length} lookups)`,
      `  daemon RSS: ${rssBefore.toFixed(1)} MiB empty, ${rssFull.toFixed(1)} MiB with ${all.length}, ${rssAfterLookups.toFixed(1)} MiB after the lookups`,
      `  ${PER_PROCESS} leaves seen by every watcher ${Math.round(cleanLeaveMs)} ms after a clean close, ${Math.round(expiryMs)} ms after kill -9`,
    ].join('\n'),
  )
})

/**
 * Step 8 of the demo: the same peers by name, through a daemon instead of the local directory.
 * The demo starts the daemon itself on a temporary socket (in production it is a service:
 * docs/daemon.md), a 'pricing' and a 'desk' process join through it, and this process joins too,
 * calls 'pricing' by name, publishes to the desk and watches it leave.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { join, startDaemon } from '../../src/index.ts'

export async function throughTheDaemon(
  children: ChildProcess[],
  within: <T>(ms: number, what: string, p: Promise<T>) => Promise<T>,
): Promise<string> {
  const home = mkdtempSync(joinPath(tmpdir(), 'switchboard-demo-daemon-'))
  const runtimeDir = mkdtempSync(joinPath(tmpdir(), 'switchboard-demo-rt-'))
  process.on('exit', () => {
    rmSync(home, { recursive: true, force: true })
    rmSync(runtimeDir, { recursive: true, force: true })
  })
  const daemon = await startDaemon({ socket: joinPath(home, 'daemon.sock') })
  const directory = daemon.addresses[0]!
  try {
    const procs = ['pricing', 'desk'].map((role) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(new URL('named.ts', import.meta.url)), role],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
          env: { ...process.env, SWITCHBOARD_RUNTIME_DIR: runtimeDir, SWITCHBOARD_DEMO_DIRECTORY: directory },
        },
      )
      children.push(child)
      return child
    })
    const lines = procs.map((child) => createInterface({ input: child.stdout! }))
    const lineOf = (i: number, pattern: RegExp): Promise<string> =>
      new Promise((resolve) => lines[i]!.on('line', (l) => pattern.test(l) && resolve(l)))
    await within(
      20_000,
      'pricing and desk to join through the daemon',
      Promise.all([0, 1].map((i) => lineOf(i, /^ready /))),
    )
    const me = await join({ name: 'demo', directory, runtimeDir })
    try {
      const registered = daemon.size
      const quote = await me.request<{ eur: number }>('pricing', 'quote')
      const got = lineOf(1, /^got /)
      await me.publish('prices', { n: 0 })
      const report = await me.publish('prices', { n: 1, last: true })
      const desk = await within(10_000, 'the desk to report', got)
      const left = new Promise<boolean>((resolve) =>
        me.on('peers', (c) => c.type === 'leave' && c.peer.name === 'desk' && resolve(true)),
      )
      procs[1]!.stdin!.end()
      const sawLeave = await within(10_000, 'the desk to leave', left)
      procs[0]!.stdin!.end()
      return (
        `8) through a daemon (${directory}): ${registered} peers registered with leases; ` +
        `'pricing' quoted ${quote.eur} by name; 'prices' reached ${report.delivered} desk, which ${desk}; ` +
        `the desk left and 'demo' saw it leave: ${sawLeave}`
      )
    } finally {
      await me.leave()
    }
  } finally {
    await daemon.close()
  }
}

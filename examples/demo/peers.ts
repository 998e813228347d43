/**
 * Step 7 of the demo: peers by name. Two 'pricing' processes and two 'desk' processes join a
 * local directory (no daemon, no addresses); this process joins too, calls 'pricing' by name
 * (the calls spread over both instances) and publishes to every desk, with the report.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { join } from '../../src/index.ts'

const QUOTES = 200
const PRICES = 1_000

export async function peersByName(
  children: ChildProcess[],
  within: <T>(ms: number, what: string, p: Promise<T>) => Promise<T>,
): Promise<string> {
  // A directory of its own, so the demo's peers do not show up in your `switchboard ls`.
  const runtimeDir = mkdtempSync(joinPath(tmpdir(), 'switchboard-demo-peers-'))
  process.on('exit', () => rmSync(runtimeDir, { recursive: true, force: true }))
  const started = performance.now()
  const roles = ['pricing', 'pricing', 'desk', 'desk']
  const procs = roles.map((role) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('named.ts', import.meta.url)), role],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
        env: { ...process.env, SWITCHBOARD_RUNTIME_DIR: runtimeDir },
      },
    )
    children.push(child)
    return { child, lines: lineReader(child) }
  })
  await within(20_000, 'the four peers to join', Promise.all(procs.map((p) => p.lines(/^ready /))))
  const me = await join({ name: 'demo', runtimeDir })
  const found = me.peers().length
  const joinedMs = performance.now() - started

  const served = new Map<string, number>()
  for (let i = 0; i < QUOTES; i++) {
    const q = await me.request<{ instance: string }>('pricing', 'quote')
    served.set(q.instance, (served.get(q.instance) ?? 0) + 1)
  }
  const desks = procs.slice(2).map((p) => p.lines(/^got (.*)$/))
  let delivered = 0
  for (let n = 0; n < PRICES; n++) delivered += (await me.publish('prices', { n })).delivered
  const last = await me.publish('prices', { n: PRICES, last: true })
  const got = await within(10_000, 'both desks to count the prices', Promise.all(desks))
  for (const p of procs) p.child.stdin!.end()
  await me.leave()
  const spread = [...served.values()].join(' + ')
  return (
    `7) peers by name: ${found} peers, in 4 processes started and joined in ${joinedMs.toFixed(0)} ms (no daemon, no addresses); ` +
    `${QUOTES} calls to 'pricing' spread ${spread} over its 2 instances; ${PRICES.toLocaleString('en-US')} prices published to ` +
    `${last.delivered} desks (${delivered.toLocaleString('en-US')} copies delivered), each desk got ${got.map((m) => m[1]).join('; ')}`
  )
}

/** Waits for lines of `child` matching a pattern, one waiter at a time. */
function lineReader(child: ChildProcess): (pattern: RegExp) => Promise<RegExpMatchArray> {
  const seen: string[] = []
  const waiters: { pattern: RegExp; resolve(m: RegExpMatchArray): void }[] = []
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const w = waiters.find((x) => x.pattern.test(line))
    if (w === undefined) return void seen.push(line)
    waiters.splice(waiters.indexOf(w), 1)
    w.resolve(line.match(w.pattern)!)
  })
  return (pattern) => {
    const i = seen.findIndex((l) => pattern.test(l))
    if (i >= 0) return Promise.resolve(seen.splice(i, 1)[0]!.match(pattern)!)
    return new Promise((resolve, reject) => {
      waiters.push({ pattern, resolve })
      child.once('exit', (code) => reject(new Error(`peer process ${child.pid} exited (${code})`)))
    })
  }
}

/**
 * Names at scale on one machine: 50 peers in 5 processes (10 each) join one local directory.
 * Prints how long until every peer sees the other 49 (discovery), how long resolve() takes with
 * 50 entries, and the latency of a request by name (first, which opens the link, and warm).
 *
 *   node --import tsx bench/peers-scale.ts [--peers 50] [--processes 5]
 */
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { parseArgs } from 'node:util'
import { type JoinedPeer, join, resolve } from '../src/index.ts'

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '50' },
    processes: { type: 'string', default: '5' },
    child: { type: 'string' },
    dir: { type: 'string' },
  },
})
const total = Number(values.peers)
const processes = Number(values.processes)

if (values.child !== undefined) {
  // A child: joins its share, reports when each of its peers sees all others, then waits.
  const [first, count] = values.child.split(':').map(Number) as [number, number]
  const peers: JoinedPeer[] = []
  for (let i = first; i < first + count; i++) {
    const peer = await join({ name: `scale-${i}`, runtimeDir: values.dir! })
    peer.handle('ping', () => i)
    peers.push(peer)
  }
  process.send!({ joined: performance.timeOrigin + performance.now() })
  const full = (p: JoinedPeer): boolean => p.peers().length >= total - 1
  await Promise.all(
    peers.map(
      (p) =>
        new Promise<void>((done) => {
          if (full(p)) return done()
          p.on('peers', () => {
            if (full(p)) done()
          })
        }),
    ),
  )
  process.send!({ complete: performance.timeOrigin + performance.now() })
  process.on('message', async () => {
    await Promise.all(peers.map((p) => p.leave()))
    process.exit(0)
  })
} else {
  const dir = mkdtempSync(joinPath(tmpdir(), 'sb-scale-'))
  const share = Math.ceil(total / processes)
  const started = performance.timeOrigin + performance.now()
  const children = Array.from({ length: processes }, (_, k) =>
    fork(
      new URL(import.meta.url).pathname,
      [
        '--peers',
        String(total),
        '--child',
        `${k * share}:${Math.min(share, total - k * share)}`,
        '--dir',
        dir,
      ],
      {
        execArgv: ['--import', 'tsx'],
      },
    ),
  )
  const joined: number[] = []
  const complete: number[] = []
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((done) =>
          c.on('message', (m: { joined?: number; complete?: number }) => {
            if (m.joined !== undefined) joined.push(m.joined)
            if (m.complete !== undefined) {
              complete.push(m.complete)
              done()
            }
          }),
        ),
    ),
  )
  const lastJoined = Math.max(...joined)
  const allSeen = Math.max(...complete)
  console.log(
    `${total} peers in ${processes} processes: all joined ${(lastJoined - started).toFixed(0)} ms after start (process start-up included)`,
  )
  console.log(
    `discovery: every peer saw the other ${total - 1} at most ${(allSeen - lastJoined).toFixed(0)} ms after the last one joined`,
  )

  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const resolveTimes: number[] = []
  for (let i = 0; i < 200; i++) {
    const t = performance.now()
    await resolve(`scale-${i % total}`, { runtimeDir: dir })
    resolveTimes.push(performance.now() - t)
  }
  console.log(
    `resolve(name) with ${total} entries: median ${median(resolveTimes).toFixed(2)} ms, max ${Math.max(...resolveTimes).toFixed(2)} ms (200 lookups)`,
  )

  const me = await join({ name: 'scale-client', runtimeDir: dir })
  const first: number[] = []
  const warm: number[] = []
  for (let i = 0; i < total; i++) {
    let t = performance.now()
    await me.request(`scale-${i}`, 'ping')
    first.push(performance.now() - t)
    for (let k = 0; k < 20; k++) {
      t = performance.now()
      await me.request(`scale-${i}`, 'ping')
      warm.push(performance.now() - t)
    }
  }
  console.log(
    `request by name: first (opens the link) median ${median(first).toFixed(2)} ms; warm median ${median(warm).toFixed(3)} ms (${warm.length} calls)`,
  )
  await me.leave()
  for (const c of children) c.send('stop')
  await Promise.all(children.map((c) => new Promise((r) => c.on('exit', r))))
  rmSync(dir, { recursive: true, force: true })
}

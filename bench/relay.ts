/**
 * Direct against relayed, in the same run, through a real `switchboard daemon` process: a
 * target peer in its own process, and in this process two peers that call it by name, one over
 * its socket (direct) and one whose direct dial is refused so its links go through the daemon's
 * relay. All three share one key pair, so the open daemon sees one principal and relays (the
 * inner sessions are Noise IK with that key). Prints, for each route: echo req/s (64 B, 32 in
 * flight) and a stream's MB/s (a request body of --stream-mib MiB, 256 KiB chunks), and the
 * load average before and after (the machine may be shared: figures are only comparable within
 * one run). Nothing here asserts a time.
 *
 *   node --import tsx bench/relay.ts [--duration 2] [--stream-mib 256] [--rounds 3]
 */
import { type ChildProcess, fork, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { sbError } from '../src/errors.ts'
import { type JoinedPeer, join } from '../src/index.ts'
import type { DialFunction } from '../src/link/options.ts'
import { generateKeyPair } from '../src/session/key-files.ts'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '2' },
    'stream-mib': { type: 'string', default: '256' },
    rounds: { type: 'string', default: '3' },
    child: { type: 'string' },
  },
})

const CHUNK = 256 * 1024
const IN_FLIGHT = 32

async function* chunks(total: number): AsyncGenerator<Uint8Array> {
  const chunk = new Uint8Array(CHUNK)
  for (let sent = 0; sent < total; sent += CHUNK) yield chunk.subarray(0, Math.min(CHUNK, total - sent))
}

if (values.child !== undefined) {
  // The target: joins, answers echo and sink, and stays until its parent goes.
  const o = JSON.parse(values.child) as {
    dir: string
    directory: string
    privateKey: string
    publicKey: string
  }
  const peer = await join({
    name: 'bench-target',
    runtimeDir: o.dir,
    directory: o.directory,
    keys: { privateKey: o.privateKey },
    allow: [o.publicKey],
  })
  peer.handle('echo', (data) => data)
  peer.handle('sink', async (_data, ctx) => {
    let bytes = 0
    for await (const c of ctx.body!) bytes += c.length
    return bytes
  })
  process.send!('ready')
  process.on('disconnect', () => void peer.leave().then(() => process.exit(0)))
} else {
  await main()
}

async function main(): Promise<void> {
  const durationMs = Number(values.duration) * 1000
  const streamBytes = Number(values['stream-mib']) * 1024 * 1024
  const rounds = Number(values.rounds)
  const dir = mkdtempSync(joinPath(tmpdir(), 'sb-bench-relay-'))
  const socket = joinPath(dir, 'run', 'daemon.sock')
  const children: ChildProcess[] = []
  const load0 = loadavg()
  try {
    const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
    const daemon = spawn(process.execPath, ['--import', 'tsx', cli, 'daemon', '--socket', socket], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    children.push(daemon)
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: daemon.stdout! }).on('line', (l) => {
        if (l.startsWith('public-key ')) resolve()
      })
      daemon.once('exit', (code) => reject(new Error(`the daemon exited (${code})`)))
    })
    const directory = `unix:${socket}`
    const keys = generateKeyPair()
    const pub = Buffer.from(keys.publicKey).toString('base64url')
    const target = fork(fileURLToPath(import.meta.url), [
      '--child',
      JSON.stringify({
        dir,
        directory,
        privateKey: Buffer.from(keys.privateKey).toString('base64url'),
        publicKey: pub,
      }),
    ])
    children.push(target)
    await once(target, 'message')

    const refused: DialFunction = async (address) => {
      throw sbError('CONNECT_FAILED', `${address}: direct disabled for the relayed row`, {
        details: { errno: 'ECONNREFUSED' },
      })
    }
    const make = (name: string, dial?: DialFunction) =>
      join({ name, runtimeDir: dir, directory, keys, allow: [keys.publicKey], ...(dial ? { dial } : {}) })
    const routes: [string, JoinedPeer][] = [
      ['direct', await make('bench-direct')],
      ['relay', await make('bench-relayed', refused)],
    ]
    for (const [route, peer] of routes) {
      await peer.request('bench-target', 'echo', 'warm')
      const seen = peer.peers().find((p) => p.name === 'bench-target')?.route
      if (seen !== route) throw new Error(`the ${route} peer went ${seen}`)
    }
    const payload = new Uint8Array(64)
    console.log(`load average before: ${load0.map((l) => l.toFixed(2)).join(' ')} (2 cores)`)
    console.log('round  route   echo req/s   stream MB/s')
    for (let round = 1; round <= rounds; round++) {
      for (const [route, peer] of routes) {
        let done = 0
        const until = performance.now() + durationMs
        const t0 = performance.now()
        await Promise.all(
          Array.from({ length: IN_FLIGHT }, async () => {
            while (performance.now() < until) {
              await peer.request('bench-target', 'echo', payload)
              done++
            }
          }),
        )
        const rps = done / ((performance.now() - t0) / 1000)
        const s0 = performance.now()
        const got = await peer.request<number>('bench-target', 'sink', chunks(streamBytes))
        if (got !== streamBytes) throw new Error(`sink got ${got} of ${streamBytes}`)
        const mbps = streamBytes / 1e6 / ((performance.now() - s0) / 1000)
        console.log(
          `${String(round).padEnd(5)}  ${route.padEnd(6)}  ${Math.round(rps).toString().padStart(10)}   ${mbps.toFixed(1).padStart(11)}`,
        )
      }
    }
    console.log(
      `load average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    )
    for (const [, peer] of routes) await peer.leave()
  } finally {
    for (const c of children) c.kill()
    rmSync(dir, { recursive: true, force: true })
  }
}

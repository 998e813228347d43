/**
 * The relay's bounded memory and its cost, through the daemon (startDaemon, open) in its own
 * process, compiled, on bare node (as a built daemon runs); the peers are in this process. They
 * all use one key pair towards it, so the open daemon sees one principal and relays; the two
 * targets register an entry each (daemon.register) on a link that serves relay.accept.
 * - Cost: the same payload goes to a `sink` handler direct and relayed, each over the peers' own
 *   secret-mode session (compression off), and both rates are printed (MB/s).
 * - Memory: a huge raw stream goes through the daemon to a receiver that reads slowly. It runs no
 *   inner session on purpose: inner flow control would hold the sender back by itself, while a
 *   hostile dialer obeys only the daemon's credit, so the daemon's own backpressure is what is tested.
 *   The reader first stalls until the sender is held back (no drain for 300 ms), then reads
 *   with a timer tick every
 *   4 MiB. The daemon's RSS, sampled from /proc/PID/status (VmRSS) every 20 ms, stays under
 *   128 MiB, and the bytes in flight between sender and reader stay under 16 MiB throughout.
 */
import assert from 'node:assert/strict'
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { after, before, test } from 'node:test'
import type { RelayHubStats } from '../../src/daemon/relay-hub.ts'
import { connect, type Link, listen, type Server, type Transport } from '../../src/index.ts'
import { dialRelayed, relayAcceptHandler } from '../../src/peer/relay-ends.ts'
import { RELAY_ACCEPT_METHOD } from '../../src/peer/relay-header.ts'
import type { HandlerContext } from '../../src/rpc/types.ts'
import { generateKeyPair, generateSecret } from '../../src/session/key-files.ts'
import { budget } from '../budget.ts'
import { type Child, startProgram } from '../helpers/child.ts'
import { compileProgram } from '../helpers/compile-program.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

const MiB = 1024 * 1024
const HUB_RSS_LIMIT = 128 * MiB
/** Bytes in flight allowed end to end: a few windows and queues, nowhere near the stream's size. */
const IN_FLIGHT_LIMIT = 16 * MiB
const CHUNK = 256 * 1024
const POOL = 16 * MiB
/** The payload of the direct-vs-relayed comparison. */
const COMPARE_BYTES = budget.mode === 'small' ? 64 * MiB : 256 * MiB
/** The slow reader lets one timer tick pass after every this many bytes. */
const SLOW_EVERY = 4 * MiB

let dir: RuntimeDir
let daemonProcess: Child
let receiver: Server
const links: Link[] = []
let toDaemon: Link
const secret = generateSecret()
/** The raw relayed transports the `raw` target accepted, in order. */
const rawAccepted: Transport[] = []
/** One key pair for every connection to the daemon: one principal, so the open daemon relays. */
const daemonKeys = generateKeyPair()
/** The instance ids the two targets registered under. */
const instances = { receiver: randomBytes(8).toString('hex'), raw: randomBytes(8).toString('hex') }

/** The daemon's relay counters (asked on its stdin, answered on its stdout). */
async function daemonStats(): Promise<RelayHubStats> {
  const lines = createInterface({ input: daemonProcess.proc.stdout! })
  const answer = new Promise<RelayHubStats>((resolve) => {
    lines.on('line', (line) => {
      if (line.startsWith('stats ')) resolve(JSON.parse(line.slice(6)) as RelayHubStats)
    })
  })
  daemonProcess.proc.stdin!.write('stats\n')
  try {
    return await answer
  } finally {
    lines.close()
  }
}

/** Seeded pseudo-random bytes from a pool of AES-CTR keystream (as in huge-stream.test.ts). */
function* seededBytes(seed: string, total: number): Generator<Uint8Array> {
  const key = createHash('sha256').update(seed).digest()
  const pool = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16)).update(Buffer.alloc(POOL))
  let x = key.readUInt32LE(0) || 1
  for (let sent = 0; sent < total; sent += CHUNK) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    const offset = x % (POOL - CHUNK)
    yield pool.subarray(offset, offset + Math.min(CHUNK, total - sent))
  }
}

/** How long a blocked sender must wait for a drain to count as held back, ms. */
const STALL_PROOF_MS = 300

/** True when `drain` does not come within STALL_PROOF_MS. */
async function heldBack(drain: Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), STALL_PROOF_MS)
  })
  try {
    return await Promise.race([drain.then(() => false), late])
  } finally {
    clearTimeout(timer)
  }
}

/** Resident set size of a process in bytes, from /proc. */
function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)
  if (kib === null) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(kib[1]) * 1024
}

before(async () => {
  dir = await makeRuntimeDir('sb-rly-')
  // Compiled, on bare node: tsx alone would add ~50 MiB to the RSS being measured.
  const daemonProgram = compileProgram('test/fixtures/programs/relay-daemon.ts', `${dir.path}/build`)
  daemonProcess = await startProgram(daemonProgram, [`${dir.path}/run/daemon.sock`], 15_000, true)
  const { address: daemonAddress, publicKey } = JSON.parse(daemonProcess.ready) as {
    address: string
    publicKey: string
  }
  const daemonOptions = { keys: daemonKeys, serverKey: publicKey, compression: [] as [], waitForReady: true }
  receiver = await listen(`unix:${dir.path}/receiver.sock`, { runtimeDir: dir.path, secret, compression: [] })
  receiver.handle('sink', async (_data: unknown, ctx: HandlerContext) => {
    const hash = createHash('sha256')
    let bytes = 0
    for await (const chunk of ctx.body ?? []) {
      hash.update(chunk)
      bytes += chunk.length
    }
    return { bytes, sha256: hash.digest('hex') }
  })
  const targets = {
    receiver: relayAcceptHandler((t) => receiver.adopt(t)),
    raw: relayAcceptHandler((t) => rawAccepted.push(t)),
  }
  for (const [name, handler] of Object.entries(targets)) {
    const link = await connect(daemonAddress, {
      ...daemonOptions,
      handlers: { [RELAY_ACCEPT_METHOD]: handler },
    })
    links.push(link)
    const instance = instances[name as keyof typeof instances]
    const entry = {
      name,
      instance,
      address: `unix:${dir.path}/${name}.sock`,
      pid: process.pid,
      user: 'test',
      protocols: [],
      topics: [],
      publishes: [],
      joinedAt: Date.now(),
    }
    await link.request('daemon.register', { entry })
  }
  toDaemon = await connect(daemonAddress, daemonOptions)
  links.push(toDaemon)
})

after(async () => {
  for (const t of rawAccepted) t.abort()
  await Promise.allSettled(links.map((l) => l.close()))
  await receiver?.close()
  if (daemonProcess !== undefined) {
    const exited = once(daemonProcess.proc, 'exit')
    daemonProcess.proc.stdin!.end()
    // A clean exit on stdin's end; kill() below covers one that does not come.
    await withTimeout(exited, 5000, 'the daemon to exit on stdin end').catch(() => {})
    await daemonProcess.kill()
  }
  await dir?.cleanup()
})

/** Streams `total` seeded bytes to the receiver's `sink` over `link`; checks the hash; MB/s. */
async function streamTo(link: Link, total: number, seed: string): Promise<number> {
  const hash = createHash('sha256')
  async function* hashing() {
    for (const chunk of seededBytes(seed, total)) {
      hash.update(chunk)
      yield chunk
    }
  }
  const started = performance.now()
  const result = await link.request<{ bytes: number; sha256: string }>('sink', hashing())
  const seconds = (performance.now() - started) / 1000
  assert.equal(result.bytes, total)
  assert.equal(result.sha256, hash.digest('hex'))
  return total / 1e6 / seconds
}

test(`direct vs relayed: ${COMPARE_BYTES / MiB} MiB each, same payload, same run`, async () => {
  const options = { runtimeDir: dir.path, secret, compression: [], waitForReady: true }
  const direct = await connect(receiver.address, options)
  const relayed = await connect(receiver.address, {
    ...options,
    dial: (_address, signal) => dialRelayed(toDaemon, instances.receiver, signal),
  })
  links.push(direct, relayed)
  const directMBps = await streamTo(direct, COMPARE_BYTES, 'compare')
  const relayedMBps = await streamTo(relayed, COMPARE_BYTES, 'compare')
  console.log(
    `# ${COMPARE_BYTES / MiB} MiB to a sink, secret-mode session: direct ${directMBps.toFixed(0)} MB/s, relayed ${relayedMBps.toFixed(0)} MB/s (${((relayedMBps / directMBps) * 100).toFixed(0)}% of direct)`,
  )
  assert.equal(relayed.remotePublicKey, undefined) // secret mode: no static keys
  assert.ok((await daemonStats()).opened >= 1, 'the relayed link went through the daemon')
})

test(`a ${budget.hugeStreamBytes / MiB} MiB raw stream relayed to a slow reader: the daemon's RSS stays under 128 MiB`, async () => {
  const total = budget.hugeStreamBytes
  const pid = daemonProcess.proc.pid!
  const sender = await dialRelayed(toDaemon, instances.raw)
  await waitFor(() => rawAccepted.length === 1, { what: 'the raw target to accept' })
  const reader = rawAccepted[0]!

  let produced = 0
  let consumed = 0
  let maxGap = 0
  let gapWhileStalled = -1
  let maxRss = rssOf(pid)
  const baseline = maxRss
  let samples = 0
  const sampler = setInterval(() => {
    maxRss = Math.max(maxRss, rssOf(pid))
    maxGap = Math.max(maxGap, produced - consumed)
    samples++
  }, 20)

  const readerHash = createHash('sha256')
  let nextPause = SLOW_EVERY
  let readerClosed!: (err: Error | undefined) => void
  const readerDone = new Promise<Error | undefined>((resolve) => {
    readerClosed = resolve
  })
  reader.bind({
    data(chunk) {
      readerHash.update(chunk)
      consumed += chunk.length
      if (consumed >= nextPause) {
        nextPause += SLOW_EVERY
        reader.pause()
        setTimeout(() => reader.resume(), 1)
      }
    },
    drain() {},
    close: readerClosed,
  })
  // A stalled reader first: it takes nothing until the sender is held back (below).
  reader.pause()

  let drained: (() => void) | undefined
  sender.bind({
    data() {},
    drain() {
      drained?.()
    },
    close() {},
  })
  const senderHash = createHash('sha256')
  const started = performance.now()
  try {
    let stalled = true
    for (const chunk of seededBytes('huge relayed', total)) {
      senderHash.update(chunk)
      produced += chunk.length
      if (sender.write([chunk])) continue
      const drain = new Promise<void>((resolve) => {
        drained = resolve
      })
      if (stalled && (await heldBack(drain))) {
        // No drain for STALL_PROOF_MS while the reader takes nothing: the path is full.
        stalled = false
        gapWhileStalled = produced - consumed
        reader.resume()
      }
      await drain
    }
    sender.close()
    assert.equal(await readerDone, undefined, 'the reader saw a clean end')
    const seconds = (performance.now() - started) / 1000
    maxRss = Math.max(maxRss, rssOf(pid))
    const stats = await daemonStats()
    console.log(
      `# ${total / MiB} MiB raw, relayed to a slow reader in ${seconds.toFixed(1)} s (${(total / 1e6 / seconds).toFixed(0)} MB/s); ` +
        `daemon RSS ${(baseline / MiB).toFixed(1)} MiB before, at most ${(maxRss / MiB).toFixed(1)} MiB (${samples} samples); ` +
        `in flight at most ${(maxGap / MiB).toFixed(2)} MiB, ${(gapWhileStalled / MiB).toFixed(2)} MiB while the reader stalled`,
    )
    assert.equal(consumed, total)
    assert.equal(readerHash.digest('hex'), senderHash.digest('hex'))
    assert.ok(stats.bytesToTarget >= total, 'the stream went through the daemon')
    assert.ok(samples > 0, 'the daemon RSS was sampled')
    assert.ok(gapWhileStalled >= 0, 'the reader stalled until the sender was held back')
    assert.ok(gapWhileStalled < IN_FLIGHT_LIMIT, `in flight while stalled: ${gapWhileStalled}`)
    assert.ok(maxGap < IN_FLIGHT_LIMIT, `in flight at most ${maxGap}`)
    assert.ok(maxRss < HUB_RSS_LIMIT, `daemon RSS ${maxRss} < ${HUB_RSS_LIMIT}`)
  } finally {
    clearInterval(sampler)
    sender.abort()
  }
})

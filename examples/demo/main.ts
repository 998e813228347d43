/**
 * `npm start`: switchboard end to end between separate processes, through the public API only.
 * Starts a service process and a watcher process, connects to the service by name, and shows
 * requests, a one-way burst, an event stream, a cancelled call and a large stream, then prints a
 * summary. Nothing to install; the daemon of step 8 is started by the demo itself on a temporary
 * socket; every wait has a timeout.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { rmSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { connect, generateSecret, isSwitchboardError, type Link, writeSecretFile } from '../../src/index.ts'
import { throughTheDaemon } from './daemon.ts'
import { peersByName } from './peers.ts'

const ECHOES = 2_000
const TICKS = 20_000
const EVENTS = 5_000
const STREAM_BYTES = 256 * 1024 * 1024
const BLOCK = 1024 * 1024

const started = performance.now()
const children: ChildProcess[] = []
process.on('exit', () => {
  for (const c of children) c.kill() // whatever happens, no process outlives the demo
})

try {
  await main()
} catch (err) {
  if (process.stdout.isTTY) process.stdout.write('\r\x1b[K')
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
} finally {
  process.exit()
}

async function main(): Promise<void> {
  const name = `demo-${process.pid}`
  // A fresh shared secret (what `switchboard keygen --secret --out FILE` makes), for TCP.
  const keys = await mkdtemp(join(tmpdir(), 'switchboard-demo-'))
  process.on('exit', () => rmSync(keys, { recursive: true, force: true }))
  const secretFile = join(keys, 'demo.secret')
  writeSecretFile(secretFile, generateSecret())
  const service = start('service.ts', [name, secretFile])
  const ready = await within(10_000, 'the service to start', lineOf(service, /^ready (\S+) (\S+)$/))
  const [, address = '', tcpAddress = ''] = ready
  console.log(
    `service pid ${service.pid} listening as '${name}' (${address}) and on ${tcpAddress} (secret required)`,
  )

  const link = await connect(name, { waitForReady: true })
  console.log(`connected: link ${link.state}`)

  // 1) Requests of many sizes, all in flight at once; every reply checked.
  let t = performance.now()
  const bodies = Array.from({ length: ECHOES }, (_, i) => ({ i, text: 'x'.repeat(i % 500) }))
  const replies = await within(10_000, 'the echoes', Promise.all(bodies.map((b) => link.request('echo', b))))
  const bad = replies.findIndex((r, i) => JSON.stringify(r) !== JSON.stringify(bodies[i]))
  if (bad >= 0) throw new Error(`echo ${bad} came back different`)
  const echoMs = performance.now() - t
  console.log(`1) ${n(ECHOES)} concurrent requests, every reply intact: ${rate(ECHOES, echoMs)}`)

  // 2) A one-way burst: send() resolves when written; the count request comes after them all.
  t = performance.now()
  const tick = { level: 'info', line: 'x'.repeat(40) }
  for (let i = 0; i < TICKS; i++) {
    void link.send('tick', tick) // ignoring the promise is safe: failures go to 'sendFailed'
    if (!link.writable) await link.drained()
  }
  const arrived = await within(10_000, 'the tick count', link.request<number>('count'))
  const tickMs = performance.now() - t
  if (arrived !== TICKS) throw new Error(`sent ${TICKS} one-way messages, ${arrived} arrived`)
  console.log(`2) ${n(TICKS)} one-way messages, all arrived: ${rate(TICKS, tickMs)}`)

  // 3) Events: another process subscribes; the service fans events out to every subscriber.
  const watcher = start('watcher.ts', [address, 'news'])
  await within(10_000, 'the watcher to subscribe', lineOf(watcher, /^subscribed$/))
  const mine = link.subscribe<{ n?: number; last?: boolean }>('news', { maxQueued: 100_000 })
  await within(5_000, 'our subscription', mine.ready)
  const watcherDone = lineOf(watcher, /^received (\d+) of (\d+) in order: (true|false)$/)
  t = performance.now()
  await within(20_000, 'the broadcast', link.request('broadcast', { topic: 'news', count: EVENTS }))
  let ours = 0
  for await (const ev of mine) {
    if (ev.last) break
    ours++
  }
  const [, theirs, sent, inOrder] = await within(10_000, 'the watcher', watcherDone)
  const eventMs = performance.now() - t
  if (ours !== EVENTS || Number(theirs) !== EVENTS || inOrder !== 'true') {
    throw new Error(`events: we got ${ours}, the watcher ${theirs} of ${sent} (in order: ${inOrder})`)
  }
  console.log(
    `3) ${n(EVENTS)} events to 2 subscribers in 2 processes, all in order: ${rate(2 * EVENTS, eventMs)}`,
  )

  // 4) A cancelled call: the service tells us its handler started; we abort; the handler sees it.
  const controller = new AbortController()
  link.handle('started', () => controller.abort())
  const outcome = await within(
    5_000,
    'the cancelled call',
    link.request('slow', null, { signal: controller.signal }).then(
      () => 'resolved (unexpected)',
      (err: unknown) => (isSwitchboardError(err) ? err.code : String(err)),
    ),
  )
  const seen = await within(5_000, 'the cancel count', link.request<number>('cancelledSeen'))
  if (outcome !== 'CANCELLED' || seen !== 1)
    throw new Error(`cancel: caller got ${outcome}, handler saw ${seen}`)
  console.log(`4) a call cancelled mid-handler: caller got ${outcome}, the handler's ctx.signal aborted`)

  // 5) A large streamed body under flow control, digested on both sides.
  t = performance.now()
  const result = await streamed(link)
  const streamMs = performance.now() - t
  console.log(
    `5) ${STREAM_BYTES / BLOCK} MiB streamed, SHA-256 equal on both sides: ${(STREAM_BYTES / BLOCK / (streamMs / 1000)).toFixed(0)} MiB/s`,
  )

  // 6) Over TCP with the shared secret: a Noise handshake, then every record encrypted.
  const secure = await connect(tcpAddress, { secretFile, waitForReady: true })
  const whispered = await within(
    5_000,
    'the encrypted call',
    secure.request<{ text: string; security: string }>('whisper', { text: 'psst' }),
  )
  const plain = await connect(tcpAddress, { waitForReady: true }).then(
    async (l) => {
      await l.close()
      return 'connected (unexpected)'
    },
    (err: unknown) => (isSwitchboardError(err) ? err.code : String(err)),
  )
  if (whispered.text !== 'PSST' || plain !== 'INSECURE_TRANSPORT') {
    throw new Error(`tcp: got ${JSON.stringify(whispered)}; without a secret: ${plain}`)
  }
  console.log(
    `6) over TCP with a secret: ${whispered.security}, handshake hash ${Buffer.from(secure.handshakeHash!).toString('hex').slice(0, 16)}…; without one: ${plain}`,
  )
  await secure.close()

  // 7) Peers by name, with fan-out to every subscriber (examples/demo/peers.ts).
  console.log(await peersByName(children, within))

  // 8) The same through a daemon the demo starts on a temporary socket (examples/demo/daemon.ts).
  console.log(await throughTheDaemon(children, within))

  const stats = link.getStats()
  await link.close()
  service.kill('SIGTERM')
  const code = await within(5_000, 'the service to stop', exitOf(service))
  console.log(
    `\nsummary: ${n(ECHOES + 4)} requests answered, ${n(TICKS)} one-way messages, ${n(2 * EVENTS)} events, ` +
      `1 cancelled call, ${STREAM_BYTES / BLOCK} MiB streamed (sha256 ${result.slice(0, 12)}…), 1 encrypted call, peers by name, through a daemon; ` +
      `pending after: ${stats.pendingCalls ?? 0}; service exited ${code}; ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s in all`,
  )
}

/** Streams STREAM_BYTES of seeded pseudo-random bytes to `sink`; returns the agreed digest. */
async function streamed(link: Link): Promise<string> {
  const ours = createHash('sha256')
  // Progress in tenths, on a terminal only (a log should not fill with redraws).
  let shown = 0
  const progress = (sent: number): void => {
    const tenth = Math.floor((10 * sent) / STREAM_BYTES)
    if (!process.stdout.isTTY || tenth === shown) return
    shown = tenth
    process.stdout.write(`\rstream: ${tenth * 10}%${tenth === 10 ? '\n' : ''}`)
  }
  async function* body(): AsyncGenerator<Uint8Array> {
    let x = 0x9e3779b9
    for (let sent = 0; sent < STREAM_BYTES; sent += BLOCK) {
      const words = new Uint32Array(BLOCK / 4)
      for (let i = 0; i < words.length; i++) {
        x ^= x << 13
        x ^= x >>> 17
        x ^= x << 5
        words[i] = x >>> 0
      }
      const block = new Uint8Array(words.buffer)
      ours.update(block)
      progress(sent + BLOCK)
      yield block
    }
  }
  try {
    const theirs = await within(
      60_000,
      'the stream',
      link.request<{ bytes: number; sha256: string }>('sink', body()),
    )
    const mine = ours.digest('hex')
    if (theirs.bytes !== STREAM_BYTES || theirs.sha256 !== mine) {
      throw new Error(
        `stream: sent ${STREAM_BYTES} bytes ${mine}, service got ${theirs.bytes} ${theirs.sha256}`,
      )
    }
    return mine
  } finally {
    if (shown > 0 && shown < 10) process.stdout.write('\n')
  }
}

function start(file: string, args: string[]): ChildProcess {
  const path = fileURLToPath(new URL(file, import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  children.push(child)
  return child
}

/** The first stdout line of `child` matching `pattern` (rejects if it exits first). */
function lineOf(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    const onExit = (code: number | null): void => reject(new Error(`process ${child.pid} exited (${code})`))
    lines.on('line', (line) => {
      const m = line.match(pattern)
      if (m === null) return
      child.off('exit', onExit)
      lines.close()
      resolve(m)
    })
    child.once('exit', onExit)
  })
}

function exitOf(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? '?')))
}

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

function n(x: number): string {
  return x.toLocaleString('en-US')
}

function rate(count: number, ms: number): string {
  return `${n(Math.round(count / (ms / 1000)))}/s (${ms.toFixed(0)} ms)`
}

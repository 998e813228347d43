/**
 * `npm start`: the foundation layer (transport, session, mux) end to end between two processes.
 * The public rpc API does not exist yet, so this drives the internals directly: it spawns
 * server.ts, dials its unix socket, opens channels and checks every byte that comes back.
 */
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Session, type SessionStats } from '../../src/session/session.ts'
import { dial } from '../../src/transport/index.ts'
import { MessageKind } from '../../src/wire/constants.ts'
import { Method } from './protocol.ts'

const ECHOES = 1_000
const TICKS = 10_000
const TICK_BYTES = 64
const BIG = 8 * 1024 * 1024
const CHUNK = 64 * 1024
const MiB = 1024 * 1024

const started = performance.now()
const runtimeDir = await mkdtemp(join(tmpdir(), 'switchboard-demo-'))
await chmod(runtimeDir, 0o700) // plain text is allowed only in an owner-only directory
const address = `unix:${join(runtimeDir, 'demo.sock')}`
const serverFile = fileURLToPath(new URL('./server.ts', import.meta.url))
const child = spawn(process.execPath, ['--import', 'tsx', serverFile, address], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
const childExit = new Promise<number | string>((resolve) => {
  child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
})
process.on('exit', () => child.kill()) // whatever happens, the server does not outlive us
let messageId = 0

try {
  await main()
} catch (err) {
  if (process.stdout.isTTY) process.stdout.write('\r\x1b[K')
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
} finally {
  child.kill()
  await rm(runtimeDir, { recursive: true, force: true })
  process.exit() // with process.exitCode
}

async function main(): Promise<void> {
  const ready = await within(5_000, 'the server to start', readyLine())
  console.log(`server pid ${child.pid} ready on ${ready}`)
  const client = await Session.establish(await dial(ready, { runtimeDir }), 'dialer', {}, { onChannel() {} })
  console.log(`session open: codec ${client.agreement?.codec}, compression ${client.agreement?.compression}`)
  console.log(`stats before: ${statsLine(client.getStats())}`)

  // 1) Small requests on concurrent channels: each body must come back byte for byte.
  let t = performance.now()
  const bodies = Array.from({ length: ECHOES }, (_, i) => randomBytes(16 + (i % 112)))
  const replies = await within(
    5_000,
    'the echoes',
    Promise.all(bodies.map((b) => request(client, Method.ECHO, b))),
  )
  const bad = replies.findIndex((r, i) => !r.equals(bodies[i]!))
  if (bad >= 0) throw new Error(`echo ${bad} came back different`)
  const echoMs = performance.now() - t
  console.log(`1) ${n(ECHOES)} echo exchanges on concurrent channels, all intact: ${rate(ECHOES, echoMs)}`)

  // 2) One-way messages: no replies, so ask the server how many arrived. COUNT opens after every
  //    TICK (channels open in order) and each 64-byte TICK travels in its OPEN frame with FIN.
  t = performance.now()
  const tickBody = Buffer.alloc(TICK_BYTES, 0x2a) // shared: write() keeps it, we never change it
  for (let i = 0; i < TICKS; i++) {
    const ch = client.open({
      kind: MessageKind.NOTIFY,
      method: Method.TICK,
      messageId: messageId++,
      oneWay: true,
    })
    ch.write(tickBody, true)
  }
  const counted = Number(await within(5_000, 'the count', request(client, Method.COUNT, Buffer.alloc(0))))
  if (counted !== TICKS) throw new Error(`server counted ${counted} one-way messages, expected ${TICKS}`)
  const burstMs = performance.now() - t
  console.log(
    `2) ${n(TICKS)} one-way ${TICK_BYTES}-byte messages, server counted ${n(counted)}: ${rate(TICKS, burstMs)}`,
  )

  // 3) 8 MiB out and back in 64 KiB chunks, respecting backpressure both ways.
  t = performance.now()
  const data = randomBytes(BIG)
  const got = await within(8_000, 'the 8 MiB echo', bigEcho(client, data))
  const sent = createHash('sha256').update(data).digest('hex')
  if (got !== sent) throw new Error(`8 MiB echo: SHA-256 ${got} does not match ${sent}`)
  const bigMs = performance.now() - t
  const mbps = (2 * BIG) / MiB / (bigMs / 1000)
  console.log(
    `3) 8 MiB echoed in 64 KiB chunks, SHA-256 match (${sent.slice(0, 16)}…): ${ms(bigMs)}, ${mbps.toFixed(0)} MiB/s (both ways)`,
  )

  // 4) Counters after the run, then a graceful close: GOAWAY, wait for channels, end the socket.
  console.log(`stats after:  ${statsLine(client.getStats())}`)
  await within(3_000, 'the session to close', client.close())
  if (client.error !== undefined) throw client.error
  const exit = await within(3_000, 'the server to exit', childExit)
  if (exit !== 0) throw new Error(`server exited with ${exit}`)
  console.log('closed gracefully; server exited with code 0')

  const total = ECHOES + TICKS + 1
  const elapsed = performance.now() - started
  console.log(
    `summary: ${n(total)} messages + 8 MiB echoed, ${rate(ECHOES + TICKS, echoMs + burstMs)} small, ` +
      `${mbps.toFixed(0)} MiB/s bulk, elapsed ${ms(elapsed)} (spawn included)`,
  )
}

/** Opens a REQUEST channel, sends `body` with FIN and resolves with the whole reply. */
function request(client: Session, method: number, body: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const ch = client.open({ kind: MessageKind.REQUEST, method, messageId: messageId++ })
    const parts: Buffer[] = []
    ch.bind({
      onData(data, fin) {
        parts.push(Buffer.from(data)) // a copy: `data` is a view into a record
        ch.consume(data.length)
        if (fin) resolve(Buffer.concat(parts))
      },
      onEnd: (status) => reject(new Error(`channel ended with status ${status}`)),
      onReset: (code) => reject(resetError(client, code)),
      onWritable() {},
    })
    ch.write(body, true)
  })
}

/** Streams `data` through the echo in CHUNK pieces; resolves with the SHA-256 of the reply. */
function bigEcho(client: Session, data: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const ch = client.open({ kind: MessageKind.REQUEST, method: Method.ECHO, messageId: messageId++ })
    const hash = createHash('sha256')
    let received = 0
    let wake = (): void => {}
    ch.bind({
      onData(chunk, fin) {
        hash.update(chunk)
        received += chunk.length
        ch.consume(chunk.length) // grants the server credit to send more
        if (process.stdout.isTTY && (received % MiB < chunk.length || fin)) {
          process.stdout.write(`\r   ${(received / MiB).toFixed(0)} / ${BIG / MiB} MiB back`)
        }
        if (!fin) return
        if (process.stdout.isTTY) process.stdout.write('\r\x1b[K')
        if (received !== data.length) reject(new Error(`8 MiB echo returned ${received} bytes`))
        resolve(hash.digest('hex'))
      },
      onEnd: (status) => reject(new Error(`channel ended with status ${status}`)),
      onReset: (code) => reject(resetError(client, code)),
      onWritable: () => wake(),
    })
    const pump = async (): Promise<void> => {
      for (let off = 0; off < data.length; off += CHUNK) {
        const last = off + CHUNK >= data.length
        // false: the channel's queue is full, so wait for onWritable before the next chunk.
        if (!ch.write(data.subarray(off, off + CHUNK), last) && !last) {
          await new Promise<void>((r) => (wake = r))
        }
      }
    }
    pump().catch(reject)
  })
}

/** A channel reset, explained by the session's error when the whole session went down. */
function resetError(client: Session, code: number): Error {
  const err = client.error
  return new Error(
    err ? `session closed with ${err.code}: ${err.message}` : `channel reset with code ${code}`,
  )
}

/** Resolves with the address from the server's `ready <address>` line. */
function readyLine(): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', (line) => {
      if (line.startsWith('ready ')) resolve(line.slice('ready '.length))
    })
    void childExit.then((how) => reject(new Error(`server exited with ${how} before it was ready`)))
  })
}

function within<T>(limitMs: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${limitMs} ms waiting for ${what}`)), limitMs)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function statsLine(s: SessionStats): string {
  return (
    `${s.state}, ${s.openChannels} channels open, ${n(s.recordsOut)} records / ${n(s.bytesOut)} B out, ` +
    `${n(s.recordsIn)} records / ${n(s.bytesIn)} B in, ${n(s.queuedBytes)} B queued`
  )
}

function n(x: number): string {
  return x.toLocaleString('en-US')
}

function ms(x: number): string {
  return x < 1000 ? `${x.toFixed(0)} ms` : `${(x / 1000).toFixed(2)} s`
}

function rate(count: number, took: number): string {
  return `${ms(took)}, ${n(Math.round(count / (took / 1000)))} msgs/s`
}

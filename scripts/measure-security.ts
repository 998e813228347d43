/**
 * A quick measurement (not the benchmark): handshakes per second in secret and keys mode, and
 * encrypted vs plaintext throughput over a unix socket for 64 B requests and a 64 MiB upload,
 * between this process and a server child process. One run, printed as a table.
 *
 *   node --import tsx scripts/measure-security.ts
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { type ConnectOptions, connect, listen } from '../src/index.ts'
import { nodeCryptoProvider } from '../src/session/node-crypto.ts'

const [role, modeArg, dirArg] = process.argv.slice(2)
const secret = Buffer.alloc(32, 7).toString('base64url')
// Fixed keys: the server child and this process must agree on them.
const keyPair = (fill: number) => {
  const privateKey = new Uint8Array(32).fill(fill)
  return { privateKey, publicKey: nodeCryptoProvider.publicKeyFromPrivate(privateKey) }
}
const server = keyPair(1)
const client = keyPair(2)

function optionsFor(mode: string, side: 'server' | 'client'): ConnectOptions {
  if (mode === 'secret') return { secret }
  if (mode === 'keys') {
    return side === 'server'
      ? { keys: server, allow: [client.publicKey] }
      : { keys: client, allow: [server.publicKey] }
  }
  return {}
}

async function serve(mode: string, dir: string): Promise<void> {
  const s = await listen(`unix:${join(dir, `${mode}.sock`)}`, optionsFor(mode, 'server'))
  s.handle('echo', (d) => d)
  s.handle('sink', async (_d, ctx) => {
    let bytes = 0
    for await (const chunk of ctx.body ?? []) bytes += chunk.length
    return bytes
  })
  process.stdout.write(`ready ${s.address}\n`)
  process.stdin.resume()
  process.stdin.on('end', () => process.exit(0))
}

async function startServer(mode: string, dir: string): Promise<{ address: string; stop(): void }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/measure-security.ts', 'serve', mode, dir],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  const address = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout }).on('line', (l) => l.startsWith('ready ') && resolve(l.slice(6))),
  )
  return { address, stop: () => child.kill('SIGKILL') }
}

async function handshakesPerSecond(address: string, options: ConnectOptions, n: number): Promise<number> {
  const t = performance.now()
  for (let i = 0; i < n; i++) {
    const link = await connect(address, { ...options, waitForReady: true })
    await link.close()
  }
  return n / ((performance.now() - t) / 1000)
}

async function smallRequests(address: string, options: ConnectOptions, n: number): Promise<number> {
  const link = await connect(address, { ...options, waitForReady: true })
  const body = randomBytes(64)
  const t = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (next++ < n) await link.request('echo', body)
    }),
  )
  const rate = n / ((performance.now() - t) / 1000)
  await link.close()
  return rate
}

async function upload(address: string, options: ConnectOptions, mib: number): Promise<number> {
  const link = await connect(address, { ...options, waitForReady: true })
  const chunk = randomBytes(1024 * 1024)
  async function* body() {
    for (let i = 0; i < mib; i++) yield chunk
  }
  const t = performance.now()
  const got = await link.request<number>('sink', body())
  if (got !== mib * 1024 * 1024) throw new Error(`sink got ${got}`)
  const rate = mib / ((performance.now() - t) / 1000)
  await link.close()
  return rate
}

if (role === 'serve') {
  await serve(modeArg!, dirArg!)
} else {
  const dir = mkdtempSync(join(tmpdir(), 'sbm-'))
  const rows: string[] = []
  try {
    for (const mode of ['none', 'secret', 'keys']) {
      const s = await startServer(mode, dir)
      const o = optionsFor(mode, 'client')
      await handshakesPerSecond(s.address, o, 20) // warm-up
      const hs = await handshakesPerSecond(s.address, o, 300)
      const small = mode === 'keys' ? Number.NaN : await smallRequests(s.address, o, 50_000)
      const big = mode === 'keys' ? Number.NaN : await upload(s.address, o, 64)
      rows.push(
        `| ${mode} | ${hs.toFixed(0)} | ${Number.isNaN(small) ? '—' : small.toFixed(0)} | ${Number.isNaN(big) ? '—' : big.toFixed(0)} |`,
      )
      s.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  console.log(
    '| mode (unix socket) | handshakes/s (connect+close, sequential) | 64 B requests/s (256 in flight) | 64 MiB upload, MiB/s |',
  )
  console.log('|---|---|---|---|')
  for (const r of rows) console.log(r)
  process.exit(0)
}

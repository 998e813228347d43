/**
 * The demo's service process: `node --import tsx service.ts NAME SECRET_FILE`. Listens on NAME
 * (a socket in the owner-only runtime directory) and on an ephemeral TCP port of 127.0.0.1,
 * where the secret in SECRET_FILE is required (TCP without security is refused). Prints
 * `ready <address> <tcp address>`, and serves until SIGTERM/SIGINT or until its parent goes
 * away (stdin ends).
 */
import { createHash } from 'node:crypto'
import { listen } from '../../src/index.ts'

const [name, secretFile] = process.argv.slice(2)
if (name === undefined || secretFile === undefined) throw new Error('usage: service.ts NAME SECRET_FILE')

const server = await listen(name)
// The same service over TCP: Noise NNpsk0 with the shared secret, then encrypted records.
const tcp = await listen('tcp://127.0.0.1:0', { secretFile })
tcp.handle<{ text: string }, { text: string; security: string }>('whisper', ({ text }, ctx) => ({
  text: text.toUpperCase(),
  security: [...tcp.connections].find((c) => c.peer === ctx.peer)?.security ?? 'unknown',
}))
let ticks = 0
let cancelledSeen = 0

// Requests: a value in, a value out (msgpack by default; Uint8Array travels as raw bytes).
server.handle('echo', (data) => data)

// One-way messages: nobody waits for a reply; `count` tells how many arrived.
server.handle('tick', () => {
  ticks++
})
server.handle('count', () => ticks)

// A slow call that tells its caller it started (a call back on the same connection), then waits
// for the caller to cancel it: ctx.signal aborts when the caller's AbortSignal fires.
server.handle('slow', async (_data, ctx) => {
  void ctx.peer.send('started', { method: ctx.method })
  await new Promise<void>((resolve) => {
    ctx.signal.addEventListener(
      'abort',
      () => {
        cancelledSeen++ // counted at once: the caller's next request may be read in this same turn
        resolve()
      },
      { once: true },
    )
  })
})
server.handle('cancelledSeen', () => cancelledSeen)

// Events: publish `count` events on `topic` to every subscriber, then a last one.
server.handle<{ topic: string; count: number }, number>('broadcast', async ({ topic, count }) => {
  for (let i = 0; i < count; i++) await server.publish(topic, { n: i })
  await server.publish(topic, { last: true, sent: count })
  return count
})

// A streamed request body of any size: digest it as it arrives.
server.handle('sink', async (_data, ctx) => {
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of ctx.body ?? []) {
    hash.update(chunk)
    bytes += chunk.length
  }
  return { bytes, sha256: hash.digest('hex') }
})

process.stdout.write(`ready ${server.address} ${tcp.address}\n`)

const stop = (): void => {
  Promise.all([server.close(), tcp.close()]).then(() => process.exit(0))
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.resume()

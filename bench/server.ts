/**
 * The bench server, one OS process per system, spawned by run.ts:
 *
 *   node --import tsx bench/server.ts --system raw-coalesced|raw-naive|switchboard \
 *     --transport unix|tcp --dir <private temp dir>
 *
 * Listens (a socket file in --dir, or 127.0.0.1 on an ephemeral port), prints `ready <address>`
 * on stdout, serves every connection until stdin closes (the parent went away) or a signal.
 */
import { createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { isSwitchboard, SYSTEMS, type SystemName, TRANSPORTS, type TransportName } from './lib/common.ts'
import { serveRaw } from './lib/raw.ts'
import { serveSwitchboard } from './lib/switchboard.ts'

const { values } = parseArgs({
  options: {
    system: { type: 'string' },
    transport: { type: 'string', default: 'unix' },
    dir: { type: 'string' },
  },
})
const system = values.system as SystemName
const transport = values.transport as TransportName
if (!SYSTEMS.includes(system)) fail(`--system must be one of ${SYSTEMS.join(', ')}`)
if (!TRANSPORTS.includes(transport)) fail(`--transport must be one of ${TRANSPORTS.join(', ')}`)
if (values.dir === undefined) fail('--dir is required')

const tcp = transport === 'tcp'
const sockets = new Set<Socket>()
const server = createServer((socket) => {
  sockets.add(socket)
  socket.once('close', () => sockets.delete(socket))
  if (tcp) socket.setNoDelay(true)
  serveRaw(socket, system === 'raw-coalesced')
})
server.on('error', (err) => fail(`listen failed: ${err.message}`))

if (isSwitchboard(system)) {
  // Through the public listen(), as a user would; its own server replaces the net one.
  serveSwitchboard(system, values.dir!, tcp).then(
    (sb) => ready(sb.address),
    (err: Error) => fail(`listen failed: ${err.message}`),
  )
} else if (tcp) {
  server.listen({ host: '127.0.0.1', port: 0 }, () => {
    const addr = server.address()
    if (addr === null || typeof addr === 'string') fail('no tcp address')
    ready(`tcp://127.0.0.1:${addr.port}`)
  })
} else {
  const path = join(values.dir!, `${system}.sock`)
  server.listen({ path }, () => ready(`unix:${path}`))
}

function ready(address: string): void {
  process.stdout.write(`ready ${address}\n`)
}

function shutdown(): void {
  server.close()
  for (const s of sockets) s.destroy()
  process.exit(0)
}

// The parent holds our stdin: when it exits (or dies), stdin ends and so do we.
process.stdin.on('end', shutdown)
process.stdin.on('close', shutdown)
process.stdin.resume()
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)

function fail(message: string): never {
  process.stderr.write(`bench server (${system}/${transport}): ${message}\n`)
  process.exit(2)
}

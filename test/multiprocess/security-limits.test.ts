/**
 * Handshake limits against hostile clients, with a real server process: a slowloris client that
 * sends one byte of its handshake per second is closed at the handshake deadline while 100
 * honest clients are served; the 9th half-open handshake from one address and the 65th overall
 * get HANDSHAKE_BUSY while honest clients from other addresses still complete. Clients bind
 * distinct 127.0.0.x addresses (localAddress) so that each has its own source.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { connect as netConnect, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { isSwitchboardError, type SwitchboardError } from '../../src/errors.ts'
import { RpcConnection } from '../../src/rpc/connection.ts'
import { SocketTransport } from '../../src/transport/socket-transport.ts'
import { PROTOCOL_MAJOR } from '../../src/wire/constants.ts'
import { encodeHello, encodePreamble, frameHello } from '../../src/wire/hello.ts'
import { budget } from '../budget.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'
import { type SecureServer, startSecureServer } from './secure-helpers.ts'

const secret = randomBytes(32).toString('base64url')
const DEADLINE_MS = budget.handshakeTimeoutMs
let server: SecureServer

before(async () => {
  server = await startSecureServer('tcp://127.0.0.1:0', {
    secret,
    handshakeTimeoutMs: DEADLINE_MS,
    maxHandshaking: 64,
    maxHandshakingPerSource: 8,
  })
})

after(() => server?.stop())

async function socketFrom(localAddress: string): Promise<Socket> {
  const socket = netConnect({ host: '127.0.0.1', port: server.port, localAddress, noDelay: true })
  await once(socket, 'connect')
  return socket
}

/** An honest secret-mode client from `localAddress`: handshake, then one echo. */
async function honest(localAddress: string): Promise<void> {
  const socket = await socketFrom(localAddress)
  const transport = new SocketTransport(socket, `tcp://127.0.0.1:${server.port}`, '127.0.0.1')
  const conn = await RpcConnection.open(transport, 'dialer', { secret })
  const body = randomBytes(1000)
  assert.ok(Buffer.from(await conn.request<Uint8Array>('echo', body)).equals(body))
  await conn.close()
}

async function refusedFrom(localAddress: string): Promise<SwitchboardError> {
  return honest(localAddress).then(
    () => assert.fail(`a client from ${localAddress} was served`),
    (err: unknown) => {
      assert.ok(isSwitchboardError(err), String(err))
      return err
    },
  )
}

/** A client that connects, sends its preamble and then nothing; resolves once the server greeted it (so it counts). */
async function halfOpen(localAddress: string): Promise<Socket> {
  const socket = await socketFrom(localAddress)
  socket.on('error', () => {})
  socket.write(encodePreamble({ major: PROTOCOL_MAJOR, minor: 0 }))
  await once(socket, 'data')
  return socket
}

function dialerHelloBytes(): Buffer {
  const hello = encodeHello({
    versions: [PROTOCOL_MAJOR],
    role: 'dialer',
    linkId: randomBytes(16),
    codecs: ['msgpack'],
    compression: [],
    security: ['noise-nnpsk0'],
    limits: new Map(),
    protocols: [],
  })
  return Buffer.concat([encodePreamble({ major: PROTOCOL_MAJOR, minor: 0 }), frameHello(hello)])
}

test('slowloris: one byte per second is closed at the deadline while 100 honest clients are served', async () => {
  const from = server.lines.length
  const slow = await socketFrom('127.0.0.2')
  slow.on('error', () => {})
  slow.resume()
  const opened = performance.now()
  const bytes = dialerHelloBytes()
  let sent = 0
  const drip = setInterval(() => {
    if (sent < bytes.length) slow.write(bytes.subarray(sent, ++sent))
  }, 1000)
  drip.unref()
  slow.write(bytes.subarray(0, ++sent))
  const slowClosed = once(slow, 'close').then(() => performance.now() - opened)
  let served = 0
  const addresses = Array.from({ length: 100 }, (_, i) => `127.0.0.${10 + i}`)
  for (let i = 0; i < addresses.length; i += 20) {
    await Promise.all(addresses.slice(i, i + 20).map((a) => honest(a).then(() => served++)))
  }
  const closedAfter = await withTimeout(slowClosed, DEADLINE_MS + 5000, 'the slow client to be closed')
  clearInterval(drip)
  assert.equal(served, 100)
  assert.ok(closedAfter >= DEADLINE_MS - 50, `closed after ${closedAfter.toFixed(0)} ms, before the deadline`)
  assert.ok(
    closedAfter < DEADLINE_MS + 1000,
    `closed after ${closedAfter.toFixed(0)} ms, long past the deadline`,
  )
  assert.ok(sent < bytes.length, 'the slow client never finished its hello')
  assert.equal(await server.line('error ', from), 'error HANDSHAKE_TIMEOUT')
})

test('the 9th half-open handshake from one address and the 65th overall get HANDSHAKE_BUSY', async () => {
  const from = server.lines.length
  const held: Socket[] = []
  try {
    for (let i = 0; i < 8; i++) held.push(await halfOpen('127.0.0.2'))
    const ninth = await refusedFrom('127.0.0.2')
    assert.equal(ninth.code, 'HANDSHAKE_BUSY', ninth.message)
    assert.equal(ninth.retryable, true)
    await honest('127.0.0.3') // another address still gets in
    for (let a = 4; a <= 10; a++) for (let i = 0; i < 8; i++) held.push(await halfOpen(`127.0.0.${a}`))
    assert.equal(held.length, 64)
    const sixtyFifth = await refusedFrom('127.0.0.11')
    assert.equal(sixtyFifth.code, 'HANDSHAKE_BUSY', sixtyFifth.message)
    // The half-open ones hit the deadline and are closed; then everyone gets in again.
    await waitFor(() => held.every((s) => s.closed), {
      what: 'the half-open handshakes to be closed at the deadline',
      timeoutMs: DEADLINE_MS + 5000,
      describe: () => `${held.filter((s) => s.closed).length} of 64 closed`,
    })
    await honest('127.0.0.2')
    await honest('127.0.0.11')
    const busy = server.lines.slice(from).filter((l) => l === 'error HANDSHAKE_BUSY').length
    assert.equal(busy, 2, 'the server reported both refusals')
  } finally {
    for (const s of held) s.destroy()
  }
})

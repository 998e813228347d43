/**
 * Security between two processes over TCP and TLS: each mode connects and echoes with the same
 * handshake hash on both ends; wrong secret, wrong key and a key not allowed are refused with
 * their code on BOTH sides; TCP without security is refused unless insecure; TLS, mutual TLS and
 * a secret inside TLS.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { type ConnectOptions, connect, listen, type SwitchboardError } from '../../src/index.ts'
import { encodeKey, keygenKeyPair, keygenSecret, readKeyPairFile } from '../../src/session/key-files.ts'
import { testCerts as certs } from '../helpers/certs.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { withTimeout } from '../helpers/wait.ts'
import { type SecureServer, startSecureServer } from './secure-helpers.ts'

let dir: RuntimeDir
let secretFile: string
let serverKeyFile: string
let clientKeyFile: string
let strangerKeyFile: string
const servers: SecureServer[] = []

before(async () => {
  dir = await makeRuntimeDir()
  secretFile = join(dir.path, 'secret')
  keygenSecret({ out: secretFile })
  serverKeyFile = join(dir.path, 'server-key')
  clientKeyFile = join(dir.path, 'client-key')
  strangerKeyFile = join(dir.path, 'stranger-key')
  for (const f of [serverKeyFile, clientKeyFile, strangerKeyFile]) keygenKeyPair({ out: f })
})

after(async () => {
  await Promise.all(servers.map((s) => s.stop()))
  await dir?.cleanup()
})

async function server(address: string, spec: object): Promise<SecureServer> {
  const s = await startSecureServer(address, spec)
  servers.push(s)
  return s
}

function pub(file: string): string {
  return encodeKey(readKeyPairFile(file).publicKey)
}

async function echoOnce(address: string, options: ConnectOptions): Promise<Uint8Array | undefined> {
  const link = await connect(address, { ...options, waitForReady: true })
  try {
    const body = randomBytes(200_000)
    const back = await withTimeout(link.request<Uint8Array>('echo', body), 10_000, 'echo')
    assert.ok(Buffer.from(back).equals(body), 'echo intact')
    return link.handshakeHash
  } finally {
    await link.close()
  }
}

async function refused(address: string, options: ConnectOptions): Promise<SwitchboardError> {
  return withTimeout(
    connect(address, { ...options, waitForReady: true }).then(
      async (link) => {
        await link.close()
        assert.fail('connect() succeeded')
      },
      (err: SwitchboardError) => err,
    ),
    10_000,
    'connect() to be refused',
  )
}

test('secret from a 0600 file: echo over TCP; both ends report the same handshake hash', async () => {
  const s = await server('tcp://127.0.0.1:0', { secretFile })
  const hash = await echoOnce(s.address, { secretFile })
  assert.equal(hash?.length, 32)
  const line = await s.line('connection ')
  assert.equal(line, `connection noise-nnpsk0 ${Buffer.from(hash!).toString('hex')}`)
})

test('wrong secret: AUTH_FAILED on the client and on the server', async () => {
  const s = await server('tcp://127.0.0.1:0', { secretFile })
  const err = await refused(s.address, { secret: randomBytes(32) })
  assert.equal(err.code, 'AUTH_FAILED', err.message)
  assert.equal(await s.line('error '), 'error AUTH_FAILED')
})

test('keys (XX): allowed keys echo; the peer key is known on both ends', async () => {
  const s = await server('tcp://127.0.0.1:0', { keyFile: serverKeyFile, allow: [pub(clientKeyFile)] })
  await echoOnce(s.address, { keyFile: clientKeyFile, allow: [pub(serverKeyFile)] })
  assert.match(await s.line('connection '), /^connection noise-xx [0-9a-f]{64}$/)
})

test('keys with the server key known in advance (IK): echo; a pinned wrong server key is refused', async () => {
  const s = await server('tcp://127.0.0.1:0', { keyFile: serverKeyFile, allow: [pub(clientKeyFile)] })
  await echoOnce(s.address, { keyFile: clientKeyFile, serverKey: pub(serverKeyFile) })
  assert.match(await s.line('connection '), /^connection noise-ik [0-9a-f]{64}$/)
  const from = s.lines.length
  const err = await refused(s.address, { keyFile: clientKeyFile, serverKey: pub(strangerKeyFile) })
  assert.equal(err.code, 'HANDSHAKE_FAILED', err.message)
  assert.equal(await s.line('error ', from), 'error HANDSHAKE_FAILED')
})

test('a client without keys that pinned the server key (NK): echo over TCP and over a shared unix socket', async () => {
  const spec = { keyFile: serverKeyFile, allow: [pub(clientKeyFile)], acceptAnonymousDialers: true }
  const s = await server('tcp://127.0.0.1:0', spec)
  const hash = await echoOnce(s.address, { serverKey: pub(serverKeyFile) })
  const line = await s.line('connection ')
  assert.match(line, /^connection noise-nk [0-9a-f]{64}$/)
  assert.equal(line.split(' ')[2], Buffer.from(hash!).toString('hex'), 'both ends report the same hash')
  // A unix socket whose directory is not owner-only (0755), as the daemon's: plain text is
  // INSECURE_TRANSPORT there, and NK is what lets a client without keys use it.
  const shared = join(dir.path, 'shared')
  mkdirSync(shared, { mode: 0o755 })
  chmodSync(shared, 0o755)
  const u = await server(`unix:${join(shared, 'nk.sock')}`, spec)
  await echoOnce(u.address, { serverKey: pub(serverKeyFile) })
  assert.match(await u.line('connection '), /^connection noise-nk [0-9a-f]{64}$/)
  // A keyed client still goes through allow on the same server.
  await echoOnce(s.address, { keyFile: clientKeyFile, serverKey: pub(serverKeyFile) })
  const err = await refused(s.address, { keyFile: strangerKeyFile, serverKey: pub(serverKeyFile) })
  assert.equal(err.code, 'PEER_NOT_ALLOWED', err.message)
  // serverKey secures a dialer only: a listener given nothing else is still plain text, refused.
  await assert.rejects(listen('tcp://127.0.0.1:0', { serverKey: pub(serverKeyFile) }), {
    code: 'INSECURE_TRANSPORT',
  })
})

test('NK to a keyed server that did not opt in: NEGOTIATION_FAILED, naming the option; a wrong pinned key: HANDSHAKE_FAILED', async () => {
  const s = await server('tcp://127.0.0.1:0', { keyFile: serverKeyFile, allow: [pub(clientKeyFile)] })
  const err = await refused(s.address, { serverKey: pub(serverKeyFile) })
  assert.equal(err.code, 'NEGOTIATION_FAILED', err.message)
  assert.match(err.message, /acceptAnonymousDialers/)
  assert.equal(await s.line('error '), 'error NEGOTIATION_FAILED')
  const open = await server('tcp://127.0.0.1:0', { keyFile: serverKeyFile, acceptAnonymousDialers: true })
  const wrong = await refused(open.address, { serverKey: pub(strangerKeyFile) })
  assert.equal(wrong.code, 'HANDSHAKE_FAILED', wrong.message)
  assert.equal(await open.line('error '), 'error HANDSHAKE_FAILED')
})

test('client key not in the server allow list: PEER_NOT_ALLOWED on both sides', async () => {
  const s = await server('tcp://127.0.0.1:0', { keyFile: serverKeyFile, allow: [pub(clientKeyFile)] })
  const err = await refused(s.address, { keyFile: strangerKeyFile, allow: [pub(serverKeyFile)] })
  assert.equal(err.code, 'PEER_NOT_ALLOWED', err.message)
  assert.equal(await s.line('error '), 'error PEER_NOT_ALLOWED')
})

test('wrong server key (the client pinned another): PEER_NOT_ALLOWED on both sides', async () => {
  const s = await server('tcp://127.0.0.1:0', { keyFile: strangerKeyFile, allow: [pub(clientKeyFile)] })
  const err = await refused(s.address, { keyFile: clientKeyFile, allow: [pub(serverKeyFile)] })
  assert.equal(err.code, 'PEER_NOT_ALLOWED', err.message)
  assert.equal(await s.line('error '), 'error PEER_NOT_ALLOWED')
})

test('keys and a secret (XXpsk3): a wrong secret is AUTH_FAILED on both sides', async () => {
  const s = await server('tcp://127.0.0.1:0', {
    keyFile: serverKeyFile,
    allow: [pub(clientKeyFile)],
    secretFile,
  })
  await echoOnce(s.address, { keyFile: clientKeyFile, allow: [pub(serverKeyFile)], secretFile })
  const err = await refused(s.address, {
    keyFile: clientKeyFile,
    allow: [pub(serverKeyFile)],
    secret: randomBytes(32),
  })
  assert.equal(err.code, 'AUTH_FAILED', err.message)
  assert.equal(await s.line('error '), 'error AUTH_FAILED')
})

test('TCP without security is refused on both connect and listen unless insecure', async () => {
  await assert.rejects(listen('tcp://127.0.0.1:0'), { code: 'INSECURE_TRANSPORT' })
  await assert.rejects(connect('tcp://127.0.0.1:1', { waitForReady: true }), { code: 'INSECURE_TRANSPORT' })
  const s = await server('tcp://127.0.0.1:0', { insecure: true })
  await echoOnce(s.address, { insecure: true }).catch((err) => {
    throw new Error(`${err.message}; server printed ${JSON.stringify(s.lines)} ${s.stderr()}`, { cause: err })
  })
  // A secured client never falls back to plain text with an insecure server.
  const err = await refused(s.address, { secretFile })
  assert.equal(err.code, 'NEGOTIATION_FAILED', err.message)
})

function tlsClient(extra: object = {}): ConnectOptions {
  return { tls: { ca: readFileSync(certs.caFile), ...extra } }
}

test('TLS: echo over tls://; a client that does not trust the CA is refused', async () => {
  const s = await server('tls://127.0.0.1:0', {
    tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile },
  })
  assert.match(s.address, /^tls:\/\/127\.0\.0\.1:\d+$/)
  const hash = await echoOnce(s.address, tlsClient())
  assert.equal(hash, undefined, 'plain TLS runs no Noise handshake')
  const err = await refused(s.address, { tls: { ca: readFileSync(certs.otherCaFile) } })
  assert.equal(err.code, 'HANDSHAKE_FAILED', err.message)
})

test('mutual TLS: a client with a certificate from the CA is served, one without is refused', async () => {
  const s = await server('tls://127.0.0.1:0', {
    tls: {
      certFile: certs.serverCertFile,
      keyFile: certs.serverKeyFile,
      caFile: certs.caFile,
      requestCert: true,
    },
  })
  await echoOnce(
    s.address,
    tlsClient({ cert: readFileSync(certs.clientCertFile), key: readFileSync(certs.clientKeyFile) }),
  )
  // TLS 1.3 lets the client finish before the server checks its (missing) certificate: the
  // refusal then arrives as the connection closing during the hello, which a link would retry
  // (a lost connection is retryable), so this client does not reconnect.
  const link = await connect(s.address, { ...tlsClient(), waitForReady: true, reconnect: false }).catch(
    (e: SwitchboardError) => e,
  )
  if (link instanceof Error) {
    assert.ok(['HANDSHAKE_FAILED', 'CONNECTION_LOST', 'TRANSPORT_ERROR'].includes(link.code), link.message)
  } else {
    await link.close()
    assert.fail('a client without a certificate was served')
  }
})

test('a secret inside TLS: Noise NNpsk0 runs over the TLS stream; a wrong secret is AUTH_FAILED', async () => {
  const s = await server('tls://127.0.0.1:0', {
    tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile },
    secretFile,
  })
  const hash = await echoOnce(s.address, { ...tlsClient(), secretFile })
  assert.equal(hash?.length, 32)
  const err = await refused(s.address, { ...tlsClient(), secret: randomBytes(32) })
  assert.equal(err.code, 'AUTH_FAILED', err.message)
  assert.equal(await s.line('error '), 'error AUTH_FAILED')
})

test('a secret file readable by others is refused with KEY_FILE_INSECURE', async () => {
  const { chmodSync } = await import('node:fs')
  const loose = join(dir.path, 'loose-secret')
  keygenSecret({ out: loose })
  chmodSync(loose, 0o644)
  await assert.rejects(listen('tcp://127.0.0.1:0', { secretFile: loose }), { code: 'KEY_FILE_INSECURE' })
  await assert.rejects(connect('tcp://127.0.0.1:1', { secretFile: loose, waitForReady: true }), {
    code: 'KEY_FILE_INSECURE',
  })
})

/**
 * Two OS users through the daemon's relay, and the relay carries only ciphertext. As root: an
 * `sbtest-relay` user is created (idempotently; deleted in teardown). A daemon process runs with
 * the real auth (createDaemonAuth) and a policy entry letting sbtest-relay reach 'target'. The
 * target runs here as root, on a socket in root's 0700 directory, registered with the daemon on
 * a link that serves relay.accept; the dialer runs as sbtest-relay, proves its OS user with the
 * cookie challenge, and its direct connect fails with EACCES, so routedDial takes the relay. The
 * two run their own keys-mode session (Noise IK) through it.
 *
 * The capture point is the target's relay.accept call: its request body is every byte the daemon
 * forwarded toward the target, its response every byte the daemon forwards back, i.e. exactly
 * what the daemon handled in clear (its own connections are encrypted on the wire). A 4 KiB
 * random payload (compression off) goes to the target and back; no 16-byte window of it appears
 * in those bytes.
 */
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, test } from 'node:test'
import { cookieLogin } from '../../src/discovery/daemon-login.ts'
import { connect, type Link, listen, type Server } from '../../src/index.ts'
import { relayAcceptHandler } from '../../src/peer/relay-ends.ts'
import { RELAY_ACCEPT_METHOD } from '../../src/peer/relay-header.ts'
import type { Handler, HandlerContext } from '../../src/rpc/types.ts'
import { generateKeyPair } from '../../src/session/key-files.ts'
import { withTimeout } from '../helpers/wait.ts'
import { type DaemonProcess, startPolicyDaemon } from './daemon-process.ts'

const USER = 'sbtest-relay'
const PAYLOAD_BYTES = 4096
const WINDOW = 16

let shared = ''
let privateDir = ''
let daemon: DaemonProcess | undefined
let target: Server | undefined
let targetToHub: Link | undefined
let userCreated = false

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url')
}

/** Creates the test user unless it exists; returns its uid and gid. */
function ensureUser(): { uid: number; gid: number } {
  const ids = (): { uid: number; gid: number } => ({
    uid: Number(
      execFileSync('id', ['-u', USER], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim(),
    ),
    gid: Number(
      execFileSync('id', ['-g', USER], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim(),
    ),
  })
  try {
    return ids()
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER])
    userCreated = true
    return ids()
  }
}

async function* tapped(source: AsyncIterable<Uint8Array>, into: Buffer[]): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    into.push(Buffer.from(chunk))
    yield chunk
  }
}

/** `handler` on relay.accept, keeping every byte of the call both ways in `into`. */
function tapping(handler: Handler, into: Buffer[]): Handler {
  return async (data, ctx) => {
    const body = ctx.body === undefined ? undefined : tapped(ctx.body, into)
    const out = (await handler(data, {
      ...ctx,
      body,
      signal: ctx.signal,
    } as HandlerContext)) as AsyncIterable<Uint8Array>
    return tapped(out, into)
  }
}

/** Offsets of every WINDOW-byte window of `payload` found in `capture`. */
function windowsFound(payload: Buffer, capture: Buffer): number[] {
  const found: number[] = []
  for (let i = 0; i + WINDOW <= payload.length; i++) {
    if (capture.indexOf(payload.subarray(i, i + WINDOW)) >= 0) found.push(i)
  }
  return found
}

before(() => {
  if (process.getuid?.() !== 0) throw new Error('relay-users.test.ts needs root (it creates an OS user)')
})

after(async () => {
  await targetToHub?.close()
  await target?.close()
  await daemon?.stop().catch(() => daemon?.kill())
  if (privateDir !== '') await rm(privateDir, { recursive: true, force: true })
  if (shared !== '') await rm(shared, { recursive: true, force: true })
  // Deleted whether this run created it or an earlier run left it behind.
  if (userCreated || process.getuid?.() === 0) {
    try {
      execFileSync('userdel', [USER], { stdio: 'ignore' })
    } catch {
      // not there
    }
  }
})

test('a peer of another OS user reaches a private socket through the daemon; the daemon sees only ciphertext', async () => {
  const { uid, gid } = ensureUser()
  // The daemon's directory: 0755, so the other user reaches its socket (0666) and its own cookie dir.
  shared = await mkdtemp(join(tmpdir(), 'sb-share-'))
  await chmod(shared, 0o755)
  // The target's socket: in root's owner-only directory, out of the other user's reach.
  privateDir = await mkdtemp(join(tmpdir(), 'sb-priv-'))
  await chmod(privateDir, 0o700)

  const captured: Buffer[] = []
  const config = join(shared, 'daemon.json')
  await writeFile(
    config,
    JSON.stringify({
      socket: join(shared, 'run', 'daemon.sock'),
      policy: { [`os-user:${USER}`]: { reach: ['target'] } },
    }),
  )
  daemon = await startPolicyDaemon(config)

  const targetKeys = generateKeyPair()
  const dialerKeys = generateKeyPair()
  const payload = randomBytes(PAYLOAD_BYTES)
  const received: Buffer[] = []
  target = await listen(`unix:${privateDir}/target.sock`, {
    keys: targetKeys,
    allow: [dialerKeys.publicKey],
    compression: [],
  })
  const provenKeys: Buffer[] = []
  target.on('connection', (conn) => {
    if (conn.remotePublicKey !== undefined) provenKeys.push(Buffer.from(conn.remotePublicKey))
  })
  target.handle<Uint8Array, Uint8Array>('echo', (data) => {
    received.push(Buffer.from(data))
    return data
  })
  targetToHub = await connect(daemon.address, {
    keys: generateKeyPair(),
    serverKey: daemon.publicKey,
    waitForReady: true,
    handlers: {
      [RELAY_ACCEPT_METHOD]: tapping(
        relayAcceptHandler((t) => target!.adopt(t)),
        captured,
      ),
    },
  })
  const toDaemon = targetToHub
  await cookieLogin(join(shared, 'run'))((method, data) => toDaemon.request(method, data))
  const instance = randomBytes(8).toString('hex')
  await targetToHub.request('daemon.register', {
    entry: {
      name: 'target',
      instance,
      address: target.address,
      pid: process.pid,
      user: 'root',
      protocols: [],
      topics: [],
      publishes: [],
      joinedAt: Date.now(),
    },
  })

  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/fixtures/programs/relay-dialer.ts',
      daemon.address,
      daemon.publicKey,
      target.address,
      instance,
      b64(targetKeys.publicKey),
    ],
    {
      uid,
      gid,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: tmpdir(),
        SB_PRIVATE_KEY: b64(dialerKeys.privateKey),
        SB_PAYLOAD: payload.toString('hex'),
      },
    },
  )
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const line = await withTimeout(
    new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (l) => {
        if (l.startsWith('ready ')) resolve(l.slice(6))
      })
      child.once('exit', (code) => reject(new Error(`the dialer exited with ${code}: ${stderr}`)))
    }),
    30_000,
    'the dialer (as sbtest-relay) to report',
  )
  const report = JSON.parse(line) as { uid: number; directErrno: string; route: string; echoed: boolean }

  assert.equal(report.uid, uid, 'the dialer ran as the other user')
  assert.notEqual(report.uid, 0)
  assert.equal(report.directErrno, 'EACCES', 'its direct connect to the private socket was refused')
  assert.equal(report.route, 'relay')
  assert.equal(report.echoed, true, 'the payload came back intact')
  assert.equal(received.length, 1)
  assert.ok(received[0]!.equals(payload), 'the target got the payload')
  assert.deepEqual(provenKeys, [Buffer.from(dialerKeys.publicKey)], 'the inner handshake proved the dialer')

  const capture = Buffer.concat(captured)
  assert.ok(
    capture.length >= 2 * PAYLOAD_BYTES,
    `the daemon forwarded the payload both ways (${capture.length} bytes)`,
  )
  assert.deepEqual(
    windowsFound(payload, capture),
    [],
    'no 16-byte window of the payload crossed the daemon in clear',
  )
  console.log(
    `# the daemon forwarded ${capture.length} bytes; none of the ${PAYLOAD_BYTES - WINDOW + 1} windows of the payload among them`,
  )
})

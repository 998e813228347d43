import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmod, lstat, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type ErrorCode, isSwitchboardError } from '../../src/errors.ts'
import { dial } from '../../src/transport/dial.ts'
import { listen } from '../../src/transport/listen.ts'
import { isOwnerOnlyDir } from '../../src/transport/runtime-dir.ts'
import type { Transport, TransportListener } from '../../src/transport/types.ts'
import { Probe } from '../conformance/transport.conformance.ts'

const fixture = fileURLToPath(new URL('../fixtures/programs/unix-listener.ts', import.meta.url))
const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

let root = ''
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'sb-unix-'))
})
after(async () => {
  await rm(root, { recursive: true, force: true })
})

let serial = 0
/** A fresh owner-only directory for one test (mkdtemp makes it 0700). */
function freshDir(): Promise<string> {
  return mkdtemp(join(root, `t${++serial}-`))
}

function isCode(code: ErrorCode): (err: unknown) => boolean {
  return (err: unknown) => isSwitchboardError(err, code)
}

/** Starts the fixture listener; resolves once it printed "ready". */
async function startChild(path: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, path], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child not ready: ${out}`)), 30_000)
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (text: string) => {
      out += text
      if (out.includes('ready')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`child exited (${code}) before ready: ${out}`))
    })
  })
  return child
}

/** Listens with an echo handler. */
function echoListen(address: string, options: { runtimeDir: string; insecure?: boolean }) {
  return listen(address, options, (t: Transport) => {
    t.bind({ data: (chunk) => void t.write([chunk]), drain: () => {}, close: () => {} })
  })
}

/** Dials, sends `text`, waits for the echo, closes. */
async function echoOnce(address: string, options: { runtimeDir: string; insecure?: boolean }, text: string) {
  const t = await dial(address, options)
  const probe = new Probe()
  t.bind(probe)
  t.write([Buffer.from(text)])
  await probe.until(() => probe.received === Buffer.byteLength(text), 'echo')
  assert.equal(probe.text(), text)
  t.close()
  await probe.until(() => probe.closes.length === 1, 'close')
}

describe('unix sockets', () => {
  it('replaces a stale socket left by a SIGKILLed listener; a live one is ADDRESS_IN_USE', async () => {
    const dir = await freshDir()
    const path = join(dir, 'stale.sock')
    const child = await startChild(path)
    await assert.rejects(echoListen(`unix:${path}`, { runtimeDir: dir }), isCode('ADDRESS_IN_USE'))
    await echoOnce(`unix:${path}`, { runtimeDir: dir }, 'child is alive')
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    const [, signal] = await exited
    assert.equal(signal, 'SIGKILL')
    assert.ok((await lstat(path)).isSocket(), 'the killed listener left its socket file')
    const listener = await echoListen(`unix:${path}`, { runtimeDir: dir })
    await echoOnce(`unix:${path}`, { runtimeDir: dir }, 'replaced')
    await listener.close()
    await assert.rejects(lstat(path), { code: 'ENOENT' })
  })

  it('a live in-process listener makes a second listen fail with ADDRESS_IN_USE', async () => {
    const dir = await freshDir()
    const first = await echoListen('svc', { runtimeDir: dir })
    await assert.rejects(echoListen('svc', { runtimeDir: dir }), isCode('ADDRESS_IN_USE'))
    await assert.rejects(echoListen(first.address, { runtimeDir: dir }), isCode('ADDRESS_IN_USE'))
    await echoOnce('svc', { runtimeDir: dir }, 'still served')
    await first.close()
  })

  it('refuses a regular file with NOT_A_SOCKET and leaves it untouched', async () => {
    const dir = await freshDir()
    const path = join(dir, 'file.sock')
    await writeFile(path, 'precious')
    await assert.rejects(echoListen(`unix:${path}`, { runtimeDir: dir }), isCode('NOT_A_SOCKET'))
    assert.equal(await readFile(path, 'utf8'), 'precious')
  })

  it('a 150-character name works (listen + dial + echo) through a hashed path', async () => {
    const dir = await freshDir()
    const name = 'a'.repeat(150)
    const listener = await echoListen(name, { runtimeDir: dir })
    assert.match(listener.address, /\/h-[a-z2-7]{26}\.sock$/)
    assert.ok(Buffer.byteLength(listener.address) - 'unix:'.length <= 107)
    await echoOnce(name, { runtimeDir: dir }, 'long name')
    await echoOnce(`unix:${name}`, { runtimeDir: dir }, 'same socket')
    await listener.close()
  })

  it('a long explicit path maps to the same short path for listener and dialer', async () => {
    const dir = await freshDir()
    const path = join(dir, `${'p'.repeat(120)}.sock`)
    const listener = await echoListen(`unix:${path}`, { runtimeDir: dir })
    assert.ok(listener.address.startsWith(`unix:${dir}/h-`), listener.address)
    await echoOnce(`unix:${path}`, { runtimeDir: dir }, 'long path')
    await listener.close()
  })

  it('a runtime dir too long for sun_path falls back to tmpdir/switchboard-<uid>', async () => {
    const dir = join(await freshDir(), 'r'.repeat(100))
    const listener = await echoListen('svc', { runtimeDir: dir })
    const fallback = join(tmpdir(), `switchboard-${process.getuid!()}`)
    assert.ok(listener.address.startsWith(`unix:${fallback}/h-`), listener.address)
    assert.ok(await isOwnerOnlyDir(fallback))
    await echoOnce('svc', { runtimeDir: dir }, 'fallback')
    await listener.close()
    await assert.rejects(lstat(listener.address.slice('unix:'.length)), { code: 'ENOENT' })
  })

  it('creates the runtime dir with mode 0700', async () => {
    const dir = join(await freshDir(), 'nested', 'rt')
    const listener = await echoListen('svc', { runtimeDir: dir })
    assert.equal((await stat(dir)).mode & 0o777, 0o700)
    assert.ok(await isOwnerOnlyDir(dir))
    await listener.close()
  })

  it('refuses a group-readable runtime dir with INSECURE_TRANSPORT and suggests chmod 700', async () => {
    const dir = await freshDir()
    await chmod(dir, 0o750)
    assert.equal(await isOwnerOnlyDir(dir), false)
    for (const attempt of [echoListen('svc', { runtimeDir: dir }), dial('svc', { runtimeDir: dir })]) {
      await assert.rejects(attempt, (err: unknown) => {
        assert.ok(isSwitchboardError(err, 'INSECURE_TRANSPORT'), String(err))
        assert.match(err.message, /chmod 700/)
        return true
      })
    }
    // insecure: true does not loosen the runtime directory rule
    await assert.rejects(echoListen('svc', { runtimeDir: dir, insecure: true }), isCode('INSECURE_TRANSPORT'))
  })

  it('refuses a runtime dir path that is a regular file', async () => {
    const dir = await freshDir()
    await writeFile(join(dir, 'rt'), '')
    await assert.rejects(echoListen('svc', { runtimeDir: join(dir, 'rt') }), isCode('INSECURE_TRANSPORT'))
  })

  it('an explicit path outside an owner-only dir needs insecure: true', async () => {
    const dir = await freshDir()
    const shared = join(dir, 'shared')
    await mkdir(shared)
    await chmod(shared, 0o755)
    const address = `unix:${shared}/x.sock`
    await assert.rejects(echoListen(address, { runtimeDir: dir }), (err: unknown) => {
      assert.ok(isSwitchboardError(err, 'INSECURE_TRANSPORT'), String(err))
      assert.match(err.message, /insecure: true/)
      return true
    })
    const listener = await echoListen(address, { runtimeDir: dir, insecure: true })
    await assert.rejects(dial(address, { runtimeDir: dir }), isCode('INSECURE_TRANSPORT'))
    await echoOnce(address, { runtimeDir: dir, insecure: true }, 'shared')
    await listener.close()
  })

  it('tcp without insecure is refused with INSECURE_TRANSPORT', async () => {
    const dir = await freshDir()
    for (const address of ['tcp://127.0.0.1:0', 'tcp4://127.0.0.1:0', 'tcp6://[::1]:0']) {
      await assert.rejects(echoListen(address, { runtimeDir: dir }), (err: unknown) => {
        assert.ok(isSwitchboardError(err, 'INSECURE_TRANSPORT'), String(err))
        assert.match(err.message, /insecure: true/)
        return true
      })
    }
    const listener: TransportListener = await echoListen('tcp4://127.0.0.1:0', {
      runtimeDir: dir,
      insecure: true,
    })
    assert.match(listener.address, /^tcp4:\/\/127\.0\.0\.1:[1-9]\d*$/)
    await assert.rejects(dial(listener.address, { runtimeDir: dir }), isCode('INSECURE_TRANSPORT'))
    await echoOnce(listener.address, { runtimeDir: dir, insecure: true }, 'tcp')
    await listener.close()
  })

  it('refuses sb: addresses and later schemes with their codes; a TLS listener without a certificate', async () => {
    const dir = await freshDir()
    const opts = { runtimeDir: dir, insecure: true }
    await assert.rejects(echoListen('tls://127.0.0.1:0', opts), isCode('INVALID_ARGUMENT'))
    await assert.rejects(dial('sb:billing', opts), isCode('PEER_NAME_UNSUPPORTED'))
    await assert.rejects(echoListen('sb:billing', opts), isCode('PEER_NAME_UNSUPPORTED'))
    await assert.rejects(dial('shm:ring', opts), isCode('SCHEME_UNSUPPORTED'))
  })

  it('a dial to nothing is CONNECT_FAILED (retryable) with the OS error as cause', async () => {
    const dir = await freshDir()
    await assert.rejects(dial('nobody', { runtimeDir: dir }), (err: unknown) => {
      assert.ok(isSwitchboardError(err, 'CONNECT_FAILED'), String(err))
      assert.equal(err.retryable, true)
      assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOENT')
      return true
    })
    const listener = await echoListen('tcp4://127.0.0.1:0', { runtimeDir: dir, insecure: true })
    const address = listener.address
    await listener.close()
    await assert.rejects(dial(address, { runtimeDir: dir, insecure: true }), (err: unknown) => {
      assert.ok(isSwitchboardError(err, 'CONNECT_FAILED'), String(err))
      assert.equal((err.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED')
      return true
    })
  })

  it('an aborted signal cancels a dial with CANCELLED', async () => {
    const dir = await freshDir()
    const aborted = AbortSignal.abort(new Error('stop'))
    await assert.rejects(dial('svc', { runtimeDir: dir, signal: aborted }), isCode('CANCELLED'))
    // Aborted while the runtime directory is being prepared (file system I/O in flight).
    const early = new AbortController()
    const preparing = dial('svc', { runtimeDir: dir, signal: early.signal })
    early.abort(new Error('early'))
    await assert.rejects(preparing, isCode('CANCELLED'))
    // Aborted while connecting: the connect has started (after a few microtasks, no I/O) but a
    // loopback connect completes only in the next I/O poll, so only the abort can end it first.
    const listener = await echoListen('tcp4://127.0.0.1:0', { runtimeDir: dir, insecure: true })
    const controller = new AbortController()
    const pending = dial(listener.address, { runtimeDir: dir, insecure: true, signal: controller.signal })
    for (let i = 0; i < 50; i++) await Promise.resolve()
    controller.abort(new Error('user gave up'))
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(isSwitchboardError(err, 'CANCELLED'), String(err))
      assert.equal((err.cause as Error).message, 'user gave up')
      return true
    })
    await listener.close()
  })

  it('listener close() removes the socket file and is idempotent', async () => {
    const dir = await freshDir()
    const listener = await echoListen('svc', { runtimeDir: dir })
    const path = listener.address.slice('unix:'.length)
    assert.ok((await lstat(path)).isSocket())
    await Promise.all([listener.close(), listener.close()])
    await listener.close()
    await assert.rejects(lstat(path), { code: 'ENOENT' })
    await assert.rejects(dial('svc', { runtimeDir: dir }), isCode('CONNECT_FAILED'))
  })
})

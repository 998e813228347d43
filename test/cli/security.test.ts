/**
 * keygen, pubkey, and serve/call with --secret-file, --key-file and --allow over TCP, in-process
 * through run(argv, io): files with the right modes, calls that work with the right material,
 * and coded refusals (exit 1) with the wrong one.
 */
import assert from 'node:assert/strict'
import { chmod, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { ExitCode, run } from '../../src/cli/run.ts'
import { testCerts } from '../helpers/certs.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { withTimeout } from '../helpers/wait.ts'
import { type CapturedIo, captureIo } from './captured-io.ts'

let dir: RuntimeDir
const file = (name: string): string => join(dir.path, name)
const servers: { io: CapturedIo; exit: Promise<number> }[] = []

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo({ env: { SWITCHBOARD_RUNTIME_DIR: dir.path } })
  const code = await withTimeout(run(argv, io), 15_000, argv.join(' '))
  return { code, out: io.out(), err: io.err() }
}

/** Starts `serve` on an ephemeral TCP port; resolves with its address. */
async function serve(extra: string[], address = 'tcp://127.0.0.1:0'): Promise<string> {
  const io = captureIo({ env: { SWITCHBOARD_RUNTIME_DIR: dir.path } })
  const exit = run(['serve', address, ...extra], io)
  servers.push({ io, exit })
  const line = await Promise.race([
    io.lineStartingWith('listening ', 'serve to listen'),
    exit.then((code) => {
      throw new Error(`serve returned ${code}: ${io.err()}`)
    }),
  ])
  return line.slice('listening '.length)
}

before(async () => {
  dir = await makeRuntimeDir()
})

after(async () => {
  for (const s of servers) s.io.stop()
  await Promise.all(servers.map((s) => s.exit))
  await dir?.cleanup()
})

test('keygen --secret --out writes a 0600 file of 32 base64url bytes; it never overwrites without --force', async () => {
  const r = await cli(['keygen', '--secret', '--out', file('a.secret')])
  assert.equal(r.code, ExitCode.ok, r.err)
  assert.equal((await stat(file('a.secret'))).mode & 0o777, 0o600)
  assert.match(await readFile(file('a.secret'), 'utf8'), /^[A-Za-z0-9_-]{43}\n$/)
  const again = await cli(['keygen', '--secret', '--out', file('a.secret')])
  assert.equal(again.code, ExitCode.failed)
  assert.match(again.err, /^error KEY_FILE_INVALID: .*already exists/)
  const forced = await cli(['keygen', '--secret', '--out', file('a.secret'), '--force'])
  assert.equal(forced.code, ExitCode.ok, forced.err)
})

test('keygen --out writes a private key (0600) and FILE.pub; pubkey prints the same public line', async () => {
  const r = await cli(['keygen', '--out', file('k'), '--comment', 'ci'])
  assert.equal(r.code, ExitCode.ok, r.err)
  assert.equal((await stat(file('k'))).mode & 0o777, 0o600)
  const pub = await readFile(file('k.pub'), 'utf8')
  assert.match(pub, /^switchboard-x25519 [A-Za-z0-9_-]{43} ci\n$/)
  assert.equal(r.out, pub)
  const p = await cli(['pubkey', file('k')])
  assert.equal(p.code, ExitCode.ok, p.err)
  assert.equal(p.out, pub.replace(' ci\n', '\n'))
})

test('keygen and pubkey refuse bad arguments (exit 2) and unreadable files (exit 1, coded)', async () => {
  assert.equal((await cli(['keygen', '--secret', '--comment', 'x'])).code, ExitCode.usage)
  assert.equal((await cli(['pubkey'])).code, ExitCode.usage)
  const missing = await cli(['pubkey', file('nope')])
  assert.equal(missing.code, ExitCode.failed)
  assert.match(missing.err, /^error KEY_FILE_INVALID: /)
})

test('serve and call over TCP with --secret-file; a different secret is AUTH_FAILED; none is INSECURE_TRANSPORT', async () => {
  await cli(['keygen', '--secret', '--out', file('s1')])
  await cli(['keygen', '--secret', '--out', file('s2')])
  const address = await serve(['--secret-file', file('s1')])
  const ok = await cli(['call', address, 'echo', '"sealed"', '--secret-file', file('s1')])
  assert.deepEqual(ok, { code: ExitCode.ok, out: '"sealed"\n', err: '' })
  const wrong = await cli(['call', address, 'echo', '1', '--secret-file', file('s2')])
  assert.equal(wrong.code, ExitCode.failed)
  assert.match(wrong.err, /^error AUTH_FAILED: /)
  const none = await cli(['call', address, 'echo', '1'])
  assert.equal(none.code, ExitCode.failed)
  assert.match(none.err, /^error INSECURE_TRANSPORT: /, 'plain TCP is refused before dialing')
  assert.equal(none.out, '')
})

test('a secret file readable by others is refused with KEY_FILE_INSECURE', async () => {
  await cli(['keygen', '--secret', '--out', file('loose')])
  await chmod(file('loose'), 0o644)
  const r = await cli(['serve', 'tcp://127.0.0.1:0', '--secret-file', file('loose')])
  assert.equal(r.code, ExitCode.failed)
  assert.match(r.err, /^error KEY_FILE_INSECURE: /)
})

test('serve and call with key files and allow files; a key not allowed is PEER_NOT_ALLOWED', async () => {
  for (const k of ['server', 'client', 'stranger']) await cli(['keygen', '--out', file(k)])
  await writeFile(file('server.allow'), `# clients\n${await readFile(file('client.pub'), 'utf8')}`)
  await writeFile(file('client.allow'), await readFile(file('server.pub'), 'utf8'))
  const address = await serve(['--key-file', file('server'), '--allow', file('server.allow')])
  const ok = await cli([
    'call',
    address,
    'echo',
    '[1,2]',
    '--key-file',
    file('client'),
    '--allow',
    file('client.allow'),
  ])
  assert.deepEqual(ok, { code: ExitCode.ok, out: '[1,2]\n', err: '' })
  const stranger = await cli([
    'call',
    address,
    'echo',
    '1',
    '--key-file',
    file('stranger'),
    '--allow',
    file('client.allow'),
  ])
  assert.equal(stranger.code, ExitCode.failed)
  assert.match(stranger.err, /^error PEER_NOT_ALLOWED: /)
})

test('an allow file with a line that is not a key is refused, naming the line', async () => {
  await cli(['keygen', '--out', file('k2')])
  await writeFile(file('bad.allow'), 'switchboard-x25519 not-a-key\n')
  const r = await cli(['serve', 'tcp://127.0.0.1:0', '--key-file', file('k2'), '--allow', file('bad.allow')])
  assert.equal(r.code, ExitCode.failed)
  assert.match(r.err, /^error INVALID_ARGUMENT: line 1 of allow file /)
})

test('serve and call over tls:// with --tls-cert, --tls-key and --tls-ca; an untrusted server is refused', async () => {
  const server = ['--tls-cert', testCerts.serverCertFile, '--tls-key', testCerts.serverKeyFile]
  const address = await serve(server, 'tls://127.0.0.1:0')
  assert.match(address, /^tls:\/\/127\.0\.0\.1:\d+$/)
  const ok = await cli(['call', address, 'echo', '"over tls"', '--tls-ca', testCerts.caFile])
  assert.deepEqual(ok, { code: ExitCode.ok, out: '"over tls"\n', err: '' })
  const untrusted = await cli(['call', address, 'echo', '1', '--tls-ca', testCerts.otherCaFile])
  assert.equal(untrusted.code, ExitCode.failed)
  assert.match(untrusted.err, /^error [A-Z_]+: /)
  const half = await cli(['call', address, 'echo', '1', '--tls-cert', testCerts.clientCertFile])
  assert.equal(half.code, ExitCode.usage, 'a certificate without its key is a wrong command line')
  const missing = await cli(['call', address, 'echo', '1', '--tls-ca', file('no-such-ca.crt')])
  assert.equal(missing.code, ExitCode.failed)
  assert.match(missing.err, /^error KEY_FILE_INVALID: cannot read --tls-ca file /)
})

test('serve --tls-ca asks for mutual TLS: a call without a client certificate fails, with one it works', async () => {
  const address = await serve(
    [
      '--tls-cert',
      testCerts.serverCertFile,
      '--tls-key',
      testCerts.serverKeyFile,
      '--tls-ca',
      testCerts.caFile,
    ],
    'tls://127.0.0.1:0',
  )
  const anonymous = await cli(['call', address, 'echo', '1', '--tls-ca', testCerts.caFile])
  assert.equal(anonymous.code, ExitCode.failed)
  const client = ['--tls-cert', testCerts.clientCertFile, '--tls-key', testCerts.clientKeyFile]
  const mutual = await cli(['call', address, 'echo', '"mutual"', '--tls-ca', testCerts.caFile, ...client])
  assert.deepEqual(mutual, { code: ExitCode.ok, out: '"mutual"\n', err: '' })
})

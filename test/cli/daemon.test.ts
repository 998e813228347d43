/**
 * `switchboard daemon` in-process: the config file and flags (a flag wins), the JSON-lines log,
 * a graceful stop, bad settings refused with a code or a usage error; and `call sb:NAME
 * --directory`, `pub --directory` reaching peers that joined through the daemon; `daemon
 * hash-password` and a config with accounts, logged in to by `ls --user` with the password
 * from SWITCHBOARD_PASSWORD.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join as joinPath } from 'node:path'
import { PassThrough } from 'node:stream'
import { after, test } from 'node:test'
import { ExitCode, run } from '../../src/cli/run.ts'
import { openDaemonDirectory } from '../../src/discovery/daemon-directory.ts'
import type { PeerEntry } from '../../src/discovery/types.ts'
import { isSwitchboardError } from '../../src/errors.ts'
import { join } from '../../src/peer/join.ts'
import { generateKeyPair } from '../../src/session/key-files.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'
import { withTimeout } from '../helpers/wait.ts'
import { captureIo } from './captured-io.ts'

const tmp = await makeRuntimeDir('sbcd-')
after(() => tmp.cleanup())

function entry(instance: string): PeerEntry {
  return {
    name: 'x',
    instance,
    address: `unix:/nowhere/${instance}.sock`,
    pid: process.pid,
    user: 'test',
    protocols: [],
    topics: [],
    publishes: [],
    joinedAt: Date.now(),
  }
}

test('daemon: config file plus flags, a JSON-lines log, a limit from a flag, a graceful stop', async () => {
  const home = joinPath(tmp.path, 'd1')
  const socket = joinPath(home, 'daemon.sock')
  const logFile = joinPath(tmp.path, 'd1.log')
  const config = joinPath(tmp.path, 'd1.json')
  writeFileSync(config, JSON.stringify({ socket, log: logFile, limits: { maxEntriesPerConnection: 5 } }))
  const io = captureIo()
  const exited = run(['daemon', '--config', config, '--max-entries-per-connection', '1'], io)
  const listening = await io.lineStartingWith('listening ', 'the daemon to listen')
  assert.equal(listening, `listening unix:${socket}`)
  const key = (await io.lineStartingWith('public-key ', 'the public key')).slice('public-key '.length)
  const d = openDaemonDirectory({
    address: `unix:${socket}`,
    connect: { keys: generateKeyPair(), serverKey: key },
  })
  await d.publish(entry('one'))
  const err = await d.publish(entry('two')).catch((e: unknown) => e)
  assert.ok(isSwitchboardError(err) && err.code === 'DAEMON_LIMIT', String(err))
  await d.closeAndWait()
  io.stop()
  assert.equal(await withTimeout(exited, 10_000, 'the daemon to stop'), ExitCode.ok)
  const events = readFileSync(logFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { event: string }).event)
  assert.deepEqual(events, ['start', 'join', 'leave', 'stop'])
})

test('daemon: an unknown setting is a coded error, a bad number a usage error', async () => {
  const config = joinPath(tmp.path, 'bad.json')
  writeFileSync(config, JSON.stringify({ socket: joinPath(tmp.path, 'bad', 'd.sock'), color: 'blue' }))
  const io = captureIo()
  assert.equal(await run(['daemon', '--config', config], io), ExitCode.failed)
  assert.match(io.err(), /^error INVALID_ARGUMENT: .*unknown setting 'color'/)
  const io2 = captureIo()
  assert.equal(await run(['daemon', '--sweep-ms', 'soon'], io2), ExitCode.usage)
  assert.match(io2.err(), /--sweep-ms takes a positive integer/)
  const io3 = captureIo()
  assert.equal(await run(['daemon', '--socket', 'relative.sock'], io3), ExitCode.failed)
  assert.match(io3.err(), /INVALID_ARGUMENT/)
})

test('call sb:NAME --directory and pub --directory reach peers joined through the daemon', async () => {
  const socket = joinPath(tmp.path, 'd2', 'daemon.sock')
  const runtimeDir = joinPath(tmp.path, 'rt2')
  const io = captureIo()
  const exited = run(['daemon', '--socket', socket], io)
  await io.lineStartingWith('listening ', 'the daemon to listen')
  const directory = `unix:${socket}`
  const svc = await join({ name: 'svc', directory, runtimeDir })
  svc.handle('echo', (x) => x)
  const events: unknown[] = []
  const sub = svc.subscribe('news', (v) => events.push(v))
  await sub.ready
  try {
    const env = { SWITCHBOARD_RUNTIME_DIR: runtimeDir }
    const callIo = captureIo({ env })
    assert.equal(
      await run(['call', 'sb:svc', 'echo', '{"hi":1}', '--directory', directory], callIo),
      0,
      callIo.err(),
    )
    assert.equal(callIo.out(), '{"hi":1}\n')
    const pubIo = captureIo({ env })
    assert.equal(await run(['pub', 'news', '"extra"', '--directory', directory], pubIo), 0, pubIo.err())
    assert.deepEqual(events, ['extra'])
    const lsIo = captureIo({ env })
    assert.equal(await run(['ls', '--json', '--directory', directory], lsIo), 0, lsIo.err())
    assert.deepEqual(
      (JSON.parse(lsIo.out()) as PeerEntry[]).map((e) => e.name),
      ['svc'],
    )
  } finally {
    await svc.leave()
    io.stop()
    await exited
  }
})

test('daemon hash-password, a config with accounts, and ls --user with SWITCHBOARD_PASSWORD', async () => {
  const hashIo = captureIo({ stdin: new PassThrough().end('s3cret-pw\n') })
  assert.equal(await run(['daemon', 'hash-password'], hashIo), ExitCode.ok, hashIo.err())
  const hash = hashIo.out().trim()
  assert.match(hash, /^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/)

  const config = joinPath(tmp.path, 'auth.json')
  const keyFile = joinPath(tmp.path, 'auth.key')
  const pubFile = joinPath(tmp.path, 'auth.pub')
  writeFileSync(
    config,
    JSON.stringify({
      socket: false,
      tcp: '127.0.0.1:0',
      keyFile,
      publicKeyFile: pubFile,
      auth: { users: { ops: { password: hash } }, usersDir: joinPath(tmp.path, 'auth-users') },
    }),
  )
  const io = captureIo()
  const exited = run(['daemon', '--config', config], io)
  const address = (await io.lineStartingWith('listening ', 'the daemon to listen')).slice('listening '.length)
  const key = (await io.lineStartingWith('public-key ', 'the public key')).slice('public-key '.length)
  try {
    const ls = ['ls', '--json', '--directory', address, '--daemon-key', pubFile]
    const good = captureIo({ env: { SWITCHBOARD_PASSWORD: 's3cret-pw' } })
    assert.equal(await run([...ls, '--user', 'ops'], good), ExitCode.ok, good.err())
    assert.deepEqual(JSON.parse(good.out()), [])
    const wrong = captureIo({ env: { SWITCHBOARD_PASSWORD: 'guess' } })
    assert.equal(await run([...ls, '--user', 'ops'], wrong), ExitCode.failed)
    assert.match(wrong.err(), /AUTH_FAILED/)
    const anonymous = captureIo()
    assert.equal(await run(ls, anonymous), ExitCode.failed)
    assert.match(anonymous.err(), /NOT_PERMITTED/)
    const noPassword = captureIo()
    assert.equal(await run([...ls, '--user', 'ops'], noPassword), ExitCode.usage)
    assert.match(noPassword.err(), /SWITCHBOARD_PASSWORD or --password-file/)
    assert.ok(readFileSync(pubFile, 'utf8').includes(key), 'the key the CLI pinned is the one it printed')
  } finally {
    io.stop()
    assert.equal(await withTimeout(exited, 10_000, 'the daemon to stop'), ExitCode.ok)
  }
})

/**
 * The CLI as users run it: `switchboard serve` in one OS process, each `switchboard call` in
 * another. Echo, info, an upload from a file and from stdin (SHA-256 compared), a coded error,
 * and a clean stop on SIGTERM and SIGINT with the --log file holding JSON lines.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { withTimeout } from '../helpers/wait.ts'
import { type CliProcess, runCli, startCli } from './cli-process.ts'
import { seededBytes, writeSeededFile } from './seeded.ts'

let dir: RuntimeDir
let env: Record<string, string>
let server: CliProcess
const name = `cli-proc-${process.pid}`
const logFile = (): string => join(dir.path, 'serve.jsonl')

before(async () => {
  dir = await makeRuntimeDir()
  env = { SWITCHBOARD_RUNTIME_DIR: dir.path }
  server = startCli(['serve', name, '--log', logFile()], env)
  await server.line('listening ')
})

after(async () => {
  await server?.kill()
  await dir?.cleanup()
})

test('serve prints its address; call echo prints the argument back', async () => {
  assert.equal(await server.line('listening '), `listening unix:${dir.path}/${name}.sock`)
  const r = await runCli(['call', name, 'echo', '{"hi":[1,"two",null]}'], env)
  assert.deepEqual(r, { code: 0, signal: null, stdout: '{"hi":[1,"two",null]}\n', stderr: '' })
})

test('call info answers with the serving process pid', async () => {
  const r = await runCli(['call', name, 'info', '--timeout', '5000'], env)
  assert.equal(r.code, 0, r.stderr)
  const info = JSON.parse(r.stdout) as { pid: number; uptimeMs: number; connections: number }
  assert.equal(info.pid, server.proc.pid)
  assert.ok(info.uptimeMs > 0)
  assert.ok(info.connections >= 1)
})

test('call sink --stream FILE: the server hashes what it received; SHA-256 matches', async () => {
  const file = join(dir.path, 'seeded.bin')
  const size = 8 * 1024 * 1024 + 5
  const sha256 = await writeSeededFile(file, 'processes-file', size)
  const r = await runCli(['call', name, 'sink', '--stream', file], env)
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), { bytes: size, sha256 })
  assert.equal(r.stderr, '', 'stderr is a pipe, not a terminal: no progress bar')
})

test('call sink --stream - sends its stdin', async () => {
  const bytes = seededBytes('processes-stdin', 3 * 1024 * 1024 + 1)
  const r = await runCli(['call', name, 'sink', '--stream', '-'], env, bytes)
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), {
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  })
})

test('a coded error exits 1 with "error CODE: message" on stderr', async () => {
  const r = await runCli(['call', name, 'nope'], env)
  assert.deepEqual(r, {
    code: 1,
    signal: null,
    stdout: '',
    stderr: "error METHOD_NOT_FOUND: no handler for 'nope'\n",
  })
})

test('a failed call exits even while its stdin pipe stays open', async () => {
  const child = startCli(['call', name, 'sink', '--stream', '-', '--timeout', '300'], env)
  after(() => child.kill())
  child.proc.stdin!.write(Buffer.alloc(10_000)) // and never ended
  const exit = await withTimeout(child.exited, 15_000, 'the call to exit with stdin still open')
  assert.equal(exit.code, 1)
  assert.match(exit.stderr, /^error DEADLINE: /)
  child.proc.stdin!.destroy()
})

test('a reader that closes stdout early (| head) ends call quietly, no stack trace', async () => {
  const big = JSON.stringify({ text: 'y'.repeat(100_000) })
  const call = startCli(['call', name, 'echo', big], env)
  call.proc.stdout!.destroy() // the reader went away before the result was printed
  const r = await withTimeout(call.exited, 20_000, 'call to exit')
  assert.equal(r.signal, null)
  assert.doesNotMatch(r.stderr, /EPIPE|at .*\(/, 'no uncaught EPIPE stack')
  assert.equal(r.code, 0)
})

test('a bad argument exits 2 before connecting anywhere', async () => {
  const r = await runCli(['call', name, 'echo', '--timeout', 'later'], env)
  assert.equal(r.code, 2)
  assert.equal(r.stdout, '')
  assert.match(r.stderr, /^switchboard call: --timeout must be a whole number .*\nusage: switchboard call /)
})

test('--version and --help work as a real process', async () => {
  const version = await runCli(['--version'], env)
  const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string }
  assert.deepEqual(version, { code: 0, signal: null, stdout: `${pkg.version}\n`, stderr: '' })
  const help = await runCli(['serve', '--help'], env)
  assert.equal(help.code, 0)
  assert.match(help.stdout, /^usage: switchboard serve ADDRESS \[options\]/)
})

test('last: SIGTERM stops serve with exit 0; the log has JSON lines for connect and disconnect', async () => {
  server.proc.kill('SIGTERM')
  const exit = await withTimeout(server.exited, 10_000, 'serve to exit after SIGTERM')
  assert.equal(exit.code, 0, exit.stderr)
  assert.equal(exit.signal, null)
  const records = (await readFile(logFile(), 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; id?: number; time: string })
  const events = records.map((r) => r.event)
  assert.equal(events[0], 'listening')
  assert.deepEqual(events.slice(-2), ['stopping', 'stopped'])
  const connects = records.filter((r) => r.event === 'connect').map((r) => r.id)
  const disconnects = records.filter((r) => r.event === 'disconnect').map((r) => r.id)
  // echo, info, sink ×3, nope, the early-closed reader: seven calls reached the server (the
  // bad-argument one did not).
  assert.equal(connects.length, 7, events.join(' '))
  assert.deepEqual([...disconnects].sort(), [...connects].sort())
})

test('SIGINT stops serve too; without --log it logs human lines on stderr', async () => {
  const other = startCli(['serve', `${name}-int`], env)
  after(() => other.kill())
  await other.line('listening ')
  assert.equal((await runCli(['call', `${name}-int`, 'echo', '7'], env)).stdout, '7\n')
  other.proc.kill('SIGINT')
  const exit = await withTimeout(other.exited, 10_000, 'serve to exit after SIGINT')
  assert.equal(exit.code, 0, exit.stderr)
  const lines = exit.stderr.trimEnd().split('\n')
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z listening address=unix:\S+ pid=\d+$/)
  assert.ok(
    lines.some((l) => / connect id=1 connections=1$/.test(l)),
    exit.stderr,
  )
  assert.ok(
    lines.some((l) => / disconnect id=1 connections=0/.test(l)),
    exit.stderr,
  )
  assert.match(lines.at(-1)!, / stopped$/)
})

/**
 * serve and call run in this process through run(argv, io): a real server on a real socket in
 * a temp runtime dir, real calls, coded errors (exit 1), the progress bar when io says stderr is
 * a terminal, and a clean stop (exit 0) when io.shutdown aborts.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { after, before, test } from 'node:test'
import { ExitCode, run } from '../../src/cli/run.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'
import { type CapturedIo, captureIo } from './captured-io.ts'
import { seededBytes, writeSeededFile } from './seeded.ts'

let dir: RuntimeDir
let env: Record<string, string>
let serveIo: CapturedIo
let served: Promise<number>
const logFile = (): string => join(dir.path, 'serve.log')

/** Starts `serve` in-process and waits for its `listening` line (or fails if serve returns first). */
async function startServe(io: CapturedIo, argv: string[]): Promise<{ exit: Promise<number>; line: string }> {
  const exit = run(argv, io)
  const line = await Promise.race([
    io.lineStartingWith('listening ', 'serve to print its listening line'),
    exit.then((code) => {
      throw new Error(`serve returned ${code} before listening: ${io.err()}`)
    }),
  ])
  return { exit, line }
}

/** Runs one `call` and returns its exit code and output. */
async function call(args: string[], options: Parameters<typeof captureIo>[0] = {}) {
  const io = captureIo({ env, ...options })
  const code = await withTimeout(run(['call', 'cli-svc', ...args], io), 15_000, `call ${args.join(' ')}`)
  return { code, out: io.out(), err: io.err() }
}

before(async () => {
  dir = await makeRuntimeDir()
  env = { SWITCHBOARD_RUNTIME_DIR: dir.path }
  serveIo = captureIo({ env })
  served = (await startServe(serveIo, ['serve', 'cli-svc', '--log', logFile()])).exit
})

after(async () => {
  serveIo?.stop()
  await served
  await dir?.cleanup()
})

test('serve prints the resolved address once it listens', () => {
  assert.match(serveIo.out(), new RegExp(`^listening unix:${dir.path}/cli-svc\\.sock\\n`))
})

test('call echo prints the result as one JSON line', async () => {
  const value = { text: 'héllo', list: [1, 2.5, null, true], nested: { deep: 'x'.repeat(1000) } }
  assert.deepEqual(await call(['echo', JSON.stringify(value)]), {
    code: ExitCode.ok,
    out: `${JSON.stringify(value)}\n`,
    err: '',
  })
  // No argument: the result is undefined, printed as null so stdout is always JSON.
  assert.deepEqual(await call(['echo']), { code: ExitCode.ok, out: 'null\n', err: '' })
  assert.deepEqual(await call(['echo', '"just a string"', '--timeout', '5000']), {
    code: ExitCode.ok,
    out: '"just a string"\n',
    err: '',
  })
})

test('call info reports this process and the caller among the connections', async () => {
  const { code, out } = await call(['info'])
  assert.equal(code, ExitCode.ok)
  const info = JSON.parse(out) as { pid: number; uptimeMs: number; connections: number }
  assert.equal(info.pid, process.pid)
  assert.ok(info.uptimeMs >= 0 && Number.isInteger(info.uptimeMs))
  assert.ok(info.connections >= 1, `the caller itself is connected (${info.connections})`)
})

test('call sink --stream FILE sends the file as a stream; the sha256 matches', async () => {
  const file = join(dir.path, 'upload.bin')
  const sha256 = await writeSeededFile(file, 'in-process-file', 3 * 1024 * 1024 + 17)
  const { code, out, err } = await call(['sink', '--stream', file])
  assert.equal(code, ExitCode.ok, err)
  assert.deepEqual(JSON.parse(out), { bytes: 3 * 1024 * 1024 + 17, sha256 })
  assert.equal(err, '', 'no progress bar when stderr is not a terminal')
})

test('call sink --stream - sends stdin', async () => {
  const bytes = seededBytes('in-process-stdin', 1024 * 1024 + 3)
  const stdin = new PassThrough()
  // Written in pieces, as a pipe delivers it.
  for (let i = 0; i < bytes.length; i += 100_000) stdin.write(bytes.subarray(i, i + 100_000))
  stdin.end()
  const { code, out } = await call(['sink', '--stream', '-'], { stdin })
  assert.equal(code, ExitCode.ok)
  assert.deepEqual(JSON.parse(out), {
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  })
})

/** The text of the last redraw: after the last carriage return, without the clear-to-end-of-line. */
function lastDraw(stderr: string): string {
  const last = stderr.trimEnd().split('\r').at(-1)!
  const clearToEnd = '\u001b[K'
  assert.ok(last.endsWith(clearToEnd), JSON.stringify(last))
  return last.slice(0, -clearToEnd.length)
}

test('on a terminal, --stream draws a progress bar on stderr that ends at 100%', async () => {
  const file = join(dir.path, 'progress.bin')
  const size = 2 * 1024 * 1024
  await writeSeededFile(file, 'progress', size)
  const { code, err } = await call(['sink', '--stream', file], { isTTY: true })
  assert.equal(code, ExitCode.ok)
  assert.ok(err.startsWith('\r['), JSON.stringify(err.slice(0, 40)))
  assert.ok(err.endsWith('\n'), 'the last redraw ends the line')
  assert.match(lastDraw(err), /^\[#{20}\] 100% {2}2\.0 MiB \/ 2\.0 MiB {2}[\d.]+ [KMG]?i?B\/s$/)
  // From stdin the total is unknown: bytes and rate only.
  const stdin = new PassThrough().end(seededBytes('progress-stdin', 5000))
  const piped = await call(['sink', '--stream', '-'], { stdin, isTTY: true })
  assert.equal(piped.code, ExitCode.ok)
  assert.match(lastDraw(piped.err), /^4\.9 KiB {2}[\d.]+ [KMG]?i?B\/s$/)
})

test('coded errors print "error CODE: message" on stderr and exit 1', async () => {
  assert.deepEqual(await call(['no-such-method']), {
    code: ExitCode.failed,
    out: '',
    err: "error METHOD_NOT_FOUND: no handler for 'no-such-method'\n",
  })
  const sink = await call(['sink', '"not a stream"'])
  assert.equal(sink.code, ExitCode.failed)
  assert.match(sink.err, /^error INVALID_ARGUMENT: sink takes a byte stream/)
  // A stream that never ends, under a deadline: DEADLINE.
  const stdin = new PassThrough()
  stdin.write(Buffer.alloc(1000))
  const stalled = await call(['sink', '--stream', '-', '--timeout', '200'], { stdin })
  assert.equal(stalled.code, ExitCode.failed)
  assert.match(stalled.err, /^error DEADLINE: /)
  stdin.destroy()
  // Nothing listening at that name.
  const io = captureIo({ env })
  assert.equal(await run(['call', 'cli-nobody', 'echo'], io), ExitCode.failed)
  assert.match(io.err(), /^error CONNECT_FAILED: .*cli-nobody/)
})

test('stopping a call (SIGINT in main) cancels it: exit 1 with CANCELLED', async () => {
  const stdin = new PassThrough()
  const io = captureIo({ env, stdin })
  const calling = run(['call', 'cli-svc', 'sink', '--stream', '-'], io)
  stdin.write(Buffer.alloc(1000))
  // Stop once the caller is connected (info counts it besides its own connection); the
  // stalled stream keeps the call open.
  await waitFor(async () => JSON.parse((await call(['info'])).out).connections >= 2, {
    what: 'the streaming caller to connect',
  })
  io.stop()
  assert.equal(await calling, ExitCode.failed)
  assert.match(io.err(), /^error CANCELLED: /)
  stdin.destroy()
})

test('a second serve on the same address: error ADDRESS_IN_USE, exit 1', async () => {
  const io = captureIo({ env })
  assert.equal(await run(['serve', 'cli-svc'], io), ExitCode.failed)
  assert.match(io.err(), /^error ADDRESS_IN_USE: /m)
})

test('serve --log to a path that cannot be opened is a bad argument (exit 2)', async () => {
  const io = captureIo({ env })
  const path = join(dir.path, 'missing-dir', 'x.log')
  assert.equal(await run(['serve', 'cli-other', '--log', path], io), ExitCode.usage)
  assert.equal(io.err().split('\n')[0], `switchboard serve: cannot open --log file '${path}' (ENOENT)`)
})

test('serve over TCP needs --insecure; with it, calls work', async () => {
  const refused = captureIo({ env })
  assert.equal(await run(['serve', 'tcp://127.0.0.1:0'], refused), ExitCode.failed)
  assert.match(refused.err(), /^error INSECURE_TRANSPORT: /m)

  const io = captureIo({ env })
  const { exit, line } = await startServe(io, ['serve', 'tcp://127.0.0.1:0', '--insecure'])
  const address = line.slice('listening '.length)
  assert.match(address, /^tcp:\/\/127\.0\.0\.1:\d+$/)
  const caller = captureIo({ env })
  assert.equal(await run(['call', address, 'echo', '[1,2,3]', '--insecure'], caller), ExitCode.ok)
  assert.equal(caller.out(), '[1,2,3]\n')
  io.stop()
  assert.equal(await exit, ExitCode.ok)
})

test('last: stopping serve closes it gracefully (exit 0); the log has JSON lines for every event', async () => {
  serveIo.stop()
  assert.equal(await withTimeout(served, 10_000, 'serve to stop'), ExitCode.ok)
  const records = (await readFile(logFile(), 'utf8'))
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { time: string; event: string; id?: number; connections?: number })
  for (const r of records) assert.ok(!Number.isNaN(Date.parse(r.time)), r.time)
  const events = records.map((r) => r.event)
  assert.equal(events[0], 'listening')
  assert.deepEqual(events.slice(-2), ['stopping', 'stopped'])
  const connects = records.filter((r) => r.event === 'connect')
  const disconnects = records.filter((r) => r.event === 'disconnect')
  assert.ok(connects.length >= 10, `one connect per call (${connects.length})`)
  assert.deepEqual(
    disconnects.map((r) => r.id).sort((a, b) => a! - b!),
    connects.map((r) => r.id),
    'every connection that came also went',
  )
  assert.equal(disconnects.at(-1)?.connections, 0)
  assert.equal(serveIo.err(), '', 'with --log, nothing on stderr')
})

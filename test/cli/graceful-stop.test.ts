/**
 * How `switchboard serve` stops, between real processes: the first SIGTERM stops accepting but
 * lets a call in flight finish (the upload completes and its hash is right), and a second signal
 * ends the process at once.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, test } from 'node:test'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'
import { type CliProcess, runCli, startCli } from './cli-process.ts'
import { seededBytes } from './seeded.ts'

let dir: RuntimeDir
let env: Record<string, string>

before(async () => {
  dir = await makeRuntimeDir()
  env = { SWITCHBOARD_RUNTIME_DIR: dir.path }
})
after(() => dir?.cleanup())

/** Starts serve at `name` and an upload to its sink whose stdin stays open; returns once the call is in flight. */
async function serveWithUploadInFlight(name: string): Promise<{ server: CliProcess; upload: CliProcess }> {
  const server = startCli(['serve', name], env)
  after(() => server.kill())
  await server.line('listening ')
  const upload = startCli(['call', name, 'sink', '--stream', '-'], env)
  after(() => upload.kill())
  upload.proc.stdin!.write(seededBytes('graceful', 100_000))
  // info counts itself among the active calls: two means the upload is being handled.
  await waitFor(
    async () => {
      const r = await runCli(['call', name, 'info'], env)
      return (JSON.parse(r.stdout) as { activeCalls: number }).activeCalls >= 2
    },
    { what: 'the upload to be in flight' },
  )
  return { server, upload }
}

test('SIGTERM lets the call in flight finish, then serve exits 0', async () => {
  const { server, upload } = await serveWithUploadInFlight('cli-graceful')
  server.proc.kill('SIGTERM')
  await server.errorLine(/ stopping connections=\d+$/)
  // Closing: new connections are refused...
  const late = await runCli(['call', 'cli-graceful', 'echo', '1'], env)
  assert.equal(late.code, 1)
  assert.match(late.stderr, /^error [A-Z_]+: /)
  // ...while the upload already in flight completes.
  const rest = seededBytes('graceful-rest', 2 * 1024 * 1024)
  upload.proc.stdin!.end(rest)
  const done = await withTimeout(upload.exited, 15_000, 'the upload to finish')
  assert.equal(done.code, 0, done.stderr)
  const all = Buffer.concat([seededBytes('graceful', 100_000), rest])
  assert.deepEqual(JSON.parse(done.stdout), {
    bytes: all.length,
    sha256: createHash('sha256').update(all).digest('hex'),
  })
  const exit = await withTimeout(server.exited, 15_000, 'serve to exit')
  assert.equal(exit.code, 0, exit.stderr)
  assert.match(exit.stderr, / stopped\n$/)
})

test('a second signal while closing exits at once (143 for SIGTERM)', async () => {
  const { server, upload } = await serveWithUploadInFlight('cli-impatient')
  server.proc.kill('SIGTERM')
  await server.errorLine(/ stopping connections=\d+$/)
  server.proc.kill('SIGTERM')
  const exit = await withTimeout(server.exited, 15_000, 'serve to exit after the second SIGTERM')
  assert.equal(exit.code, 143)
  assert.doesNotMatch(exit.stderr, / stopped$/m, 'it did not wait for the graceful close')
  // The upload loses its server: a coded error, exit 1.
  const lost = await withTimeout(upload.exited, 15_000, 'the upload to fail')
  assert.equal(lost.code, 1)
  assert.match(lost.stderr, /^error [A-Z_]+: /)
})

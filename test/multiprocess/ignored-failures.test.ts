/**
 * Ignored failing send(), publish() and request() promises never raise unhandledRejection, and
 * every failed send and publish is reported once as a 'sendFailed' event. The client is its own
 * process (with its own unhandledRejection counter); the server is another one, killed mid-call.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { after, test } from 'node:test'
import { type Child, startProgram } from '../helpers/child.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { withTimeout } from '../helpers/wait.ts'

let server: Child | undefined
let dir: RuntimeDir | undefined
after(async () => {
  await server?.kill()
  await dir?.cleanup()
})

interface Result {
  unhandled: number
  unhandledReasons: string[]
  sendFailed: { link: string; name: string; code: string }[]
  expectedFailures: string[]
  liveBeforeKill: string
  liveCloseCode: string | undefined
}

test('ignored failing calls: no unhandledRejection, one sendFailed per failed send/publish', async () => {
  dir = await makeRuntimeDir()
  server = await startProgram('test/fixtures/programs/rpc-server.ts', ['ignored', dir.path])
  const client = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/fixtures/programs/ignored-failures.ts', 'ignored', dir.path],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stderr = ''
  client.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const lines = createInterface({ input: client.stdout })
  const result = await withTimeout(
    new Promise<Result>((resolve, reject) => {
      lines.on('line', (line) => {
        if (line === 'kill-server') {
          const killing = server!
          void killing.kill().then(() => {
            stderr += `[server exited: ${killing.proc.exitCode ?? killing.proc.signalCode}]`
          })
        } else if (line.startsWith('{')) resolve(JSON.parse(line) as Result)
      })
      client.once('exit', (code) => reject(new Error(`client exited with ${code} first: ${stderr}`)))
    }),
    30_000,
    'the client to report',
  )
  // The live link was still up when its server was killed, and it saw the death as such.
  assert.equal(result.liveBeforeKill, 'ready')
  assert.equal(result.liveCloseCode, 'CONNECTION_LOST')
  assert.equal(result.unhandled, 0, `unhandled rejections: ${result.unhandledReasons.join('; ')}`)
  const seen = result.sendFailed.map((f) => `${f.link} ${f.name}`).sort()
  assert.deepEqual(
    seen,
    [...result.expectedFailures].sort(),
    'exactly one sendFailed per failed send/publish',
  )
  for (const f of result.sendFailed) assert.match(f.code, /^[A-Z_]+$/, `${f.name} failed with a code`)
  const codes = Object.fromEntries(result.sendFailed.map((f) => [`${f.link} ${f.name}`, f.code]))
  assert.equal(codes['live send-aborted'], 'CANCELLED')
  assert.equal(codes['closed send-after-close'], 'SESSION_CLOSED')
  console.log('# sendFailed codes', JSON.stringify(codes))
})

/**
 * Soak: 20,000 handshakes with fresh keys in a child process (Node 20.20 once deadlocked after
 * some thousands of X25519 key generations followed by a JWK export). The child's stdio is piped
 * to this process, never inherited from the runner; this process SIGKILLs it by pid after 45 s,
 * because a timer inside a deadlocked process would never fire.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { test } from 'node:test'

const HANDSHAKES = 20_000
const WATCHDOG_MS = 45_000

test(`${HANDSHAKES} handshakes with fresh keys finish in a child process (watchdog ${WATCHDOG_MS / 1000} s)`, async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/fixtures/programs/handshake-soak.ts', String(HANDSHAKES), '10'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  let last = ''
  createInterface({ input: child.stdout }).on('line', (line) => {
    last = line
  })
  let hung = false
  const watchdog = setTimeout(() => {
    hung = true
    process.kill(child.pid!, 'SIGKILL')
  }, WATCHDOG_MS)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (c, s) => resolve([c, s])),
  )
  clearTimeout(watchdog)
  if (hung) assert.fail(`soak hung (deadlock?): last line ${JSON.stringify(last)}`)
  assert.equal(code, 0, `soak exited with ${code ?? signal}: ${stderr}`)
  const m = /^done (\d+) (\d+)$/.exec(last)
  assert.ok(m, `last line ${JSON.stringify(last)}`)
  assert.equal(Number(m[1]), HANDSHAKES)
  console.log(`${HANDSHAKES} handshakes in ${m[2]} ms`)
})

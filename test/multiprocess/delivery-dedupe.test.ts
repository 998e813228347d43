/**
 * Receiver dedupe across a cut connection: an idempotent request whose connection is cut while
 * the handler runs is resent on a new connection; the resend waits for the first run and gets
 * its result, and the ledger shows one execution. (Stored responses and the window's bounds
 * are covered in test/unit/rpc/dedupe.test.ts.)
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { connect } from '../../src/index.ts'
import { type FaultProxy, startFaultProxy } from '../../src/testing/index.ts'
import { type Child, startProgram } from '../helpers/child.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { withTimeout } from '../helpers/wait.ts'

const program = 'test/fixtures/programs/delivery-server.ts'
let dir: RuntimeDir
let server: Child
let proxy: FaultProxy
let ledger: string

before(async () => {
  dir = await makeRuntimeDir()
  const socket = `unix:${join(dir.path, 'dedupe.sock')}`
  ledger = join(dir.path, 'ledger.txt')
  server = await startProgram(program, [socket, ledger])
  proxy = await startFaultProxy({ listen: 'tcp://127.0.0.1:0', target: socket })
})
after(async () => {
  await proxy?.close()
  await server?.kill()
  await dir?.cleanup()
})

function startedLine(id: string): Promise<void> {
  return new Promise((resolve) => {
    const onData = (d: Buffer): void => {
      if (!d.toString().includes(`started ${id}`)) return
      server.proc.stdout?.off('data', onData)
      resolve()
    }
    server.proc.stdout?.on('data', onData)
  })
}

test('a resend arriving while the first run is going waits for it: one execution, one answer', async () => {
  const link = await connect(proxy.address, { insecure: true, waitForReady: true, backoffInitialMs: 5 })
  const started = startedLine('dd-1')
  const call = link.request<{ id: string; pid: number }>(
    'work',
    { id: 'dd-1', ms: 400 },
    { idempotent: true, timeout: 10_000 },
  )
  await withTimeout(started, 5000, 'the handler to start')
  proxy.cutAll()
  const reply = await withTimeout(call, 10_000, 'the resent call')
  assert.equal(reply.id, 'dd-1')
  assert.equal(reply.pid, server.proc.pid)
  assert.ok(link.getStats().resent >= 1, 'it was resent')
  const runs = (await readFile(ledger, 'utf8')).split('\n').filter((l) => l.startsWith('dd-1 '))
  assert.equal(runs.length, 1, 'executed once')
  await link.close()
})

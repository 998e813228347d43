/**
 * pair(): when the serving process dies (kill -9), the survivor takes the address over and
 * serves; a restarted process connects to it; the survivor's link object stays the same and
 * calls go both ways again.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { pair, type SwitchboardError } from '../../src/index.ts'
import { killHard } from '../../src/testing/index.ts'
import { type Child, startProgram } from '../helpers/child.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

const program = 'test/fixtures/programs/pair-takeover-peer.ts'
let dir: RuntimeDir
const children: Child[] = []

before(async () => {
  dir = await makeRuntimeDir()
})
after(async () => {
  for (const c of children) await c.kill()
  await dir.cleanup()
})

test('pair survivor takeover: the client takes the address over, the restarted process connects to it', async () => {
  const address = `unix:${join(dir.path, 'pair.sock')}`
  const first = await startProgram(program, [address, 'B'])
  children.push(first)
  assert.equal(first.ready, 'server')
  const a = await pair(address, {
    insecure: true,
    backoffInitialMs: 10,
    waitForReady: true,
    handlers: { whoami: () => 'A' },
  })
  assert.equal(a.role, 'client')
  assert.equal(await a.request('whoami'), `B ${first.proc.pid}`)
  assert.equal(await a.request('ask-peer'), 'A')

  await killHard(first.proc)
  await waitFor(() => a.role === 'server', { what: 'the survivor to serve the address' })
  assert.equal(a.state, 'reconnecting')

  const second = await startProgram(program, [address, 'B'])
  children.push(second)
  assert.equal(second.ready, 'client', 'the restarted process connects to the survivor')
  await withTimeout(a.ready(), 10_000, 'the survivor link to be ready again')
  assert.equal(await a.request('whoami'), `B ${second.proc.pid}`)
  assert.equal(await a.request('ask-peer'), 'A', 'calls go both ways on the same link object')
  assert.equal(a.getStats().reconnects, 1)
  await a.close()
})

test('a third process gets PAIR_FULL and its link closes instead of retrying', async () => {
  const address = `unix:${join(dir.path, 'full.sock')}`
  const serving = await startProgram(program, [address, 'S'])
  children.push(serving)
  const second = await startProgram(program, [address, 'C'])
  children.push(second)
  assert.equal(second.ready, 'client')
  const third = await pair(address, { insecure: true, backoffInitialMs: 10 })
  await waitFor(() => third.state === 'closed', { what: 'the third link to close' })
  await assert.rejects(third.request('whoami'), (e: SwitchboardError) => e.code === 'PAIR_FULL')
  // Usually one dial; a socket error can beat the GOAWAY to our reader, and then the next
  // attempt reads the refusal. Either way the link stops instead of retrying forever.
  assert.ok(third.getStats().dials <= 5, `stopped after ${third.getStats().dials} dials`)
})

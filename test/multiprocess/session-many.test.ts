/**
 * Many channels at once across two OS processes (unix and TCP): 500 concurrent echo channels
 * with sizes from 1 byte to 256 KiB, every reply checked byte for byte, and the session's stats
 * back to zero after a clean close. The server is test/fixtures/programs/session-server.ts.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { budget } from '../budget.ts'
import { withTimeout } from '../helpers/wait.ts'
import { closeClean, connect, echo, type Flavour, startServer } from './session-helpers.ts'

const count = budget.concurrentChannels
const maxBody = 256 * 1024

/** Sizes spread from 1 byte to 256 KiB, mostly small, a few large (deterministic). */
function sizeOf(i: number): number {
  if (i % 50 === 0) return maxBody
  if (i % 10 === 0) return 1 + ((i * 7919) % maxBody)
  return 1 + ((i * 977) % 4096)
}

for (const flavour of ['unix', 'tcp'] as const satisfies readonly Flavour[]) {
  test(`${flavour}: ${count} concurrent echo channels of varied sizes come back intact`, async (t) => {
    const server = await startServer(flavour)
    t.after(() => server.stop())
    const session = await connect(server)
    const bodies = Array.from({ length: count }, (_, i) => new Uint8Array(randomBytes(sizeOf(i))))
    const replies = bodies.map((body, i) => echo(session, body, i))
    const stats = session.getStats()
    assert.ok(stats.openChannels > 0 && stats.queuedBytes > 0, 'load shows in getStats() while in flight')
    const got = await withTimeout(Promise.all(replies), budget.waitTimeoutMs * 3, `${count} echoes`)
    for (const [i, reply] of got.entries()) {
      assert.equal(reply.length, bodies[i]!.length, `echo ${i} length`)
      assert.ok(reply.equals(bodies[i]!), `echo ${i} intact`)
    }
    assert.equal(session.getStats().openChannels, 0)
    await closeClean(session)
  })
}

test('two sessions to one server process run side by side', async (t) => {
  const server = await startServer('unix')
  t.after(() => server.stop())
  const [a, b] = await Promise.all([connect(server), connect(server)])
  const bodies = Array.from({ length: 50 }, (_, i) => new Uint8Array(randomBytes(sizeOf(i))))
  const results = await withTimeout(
    Promise.all([...bodies.map((body, i) => echo(a, body, i)), ...bodies.map((body, i) => echo(b, body, i))]),
    budget.waitTimeoutMs,
    'echoes on both sessions',
  )
  for (const [i, reply] of results.entries()) assert.ok(reply.equals(bodies[i % bodies.length]!))
  await Promise.all([closeClean(a), closeClean(b)])
})

/**
 * server.close() with 1,000 requests in flight from another process: every one settles, either
 * with its result (the graceful drain let its handler finish) or with a coded SwitchboardError
 * (its handler outlived closeTimeoutMs); none stays pending.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { after, test } from 'node:test'
import { connect, ErrorCodes, isSwitchboardError, type Link } from '../../src/index.ts'
import { type Child, startProgram } from '../helpers/child.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitUntil, withTimeout } from '../helpers/wait.ts'

const IN_FLIGHT = 1000
let server: Child | undefined
let dir: RuntimeDir | undefined
let link: Link | undefined
after(async () => {
  link?.abort()
  await server?.kill()
  await dir?.cleanup()
})

test('server.close() with 1,000 requests in flight: all settle, with results or codes', async () => {
  dir = await makeRuntimeDir()
  server = await startProgram('test/fixtures/programs/closing-server.ts', ['closing', dir.path, '1000'])
  link = await connect('closing', { runtimeDir: dir.path, waitForReady: true })
  link.on('error', () => {})

  const outcomes = new Map<string, number>()
  let settled = 0
  const count = (key: string): void => {
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
    settled++
  }
  const calls = Array.from({ length: IN_FLIGHT }, (_, i) =>
    link!.request<number>('hold', i, { timeout: 30_000 }).then(
      (v) => {
        assert.equal(v, i)
        count('resolved')
      },
      (err: unknown) => count(isSwitchboardError(err) ? err.code : `uncoded: ${String(err)}`),
    ),
  )
  // Every handler is running in the server process before it closes.
  await waitUntil(async () => (await link!.request<number>('holding')) === IN_FLIGHT, {
    what: `${IN_FLIGHT} handlers running in the server`,
  })
  assert.equal(link.getStats().pendingCalls, IN_FLIGHT)

  const closed = once(server.proc.stdout!, 'data')
  server.proc.stdin!.write('close\n')
  await withTimeout(Promise.all(calls), 20_000, 'every in-flight request to settle')
  await withTimeout(closed, 10_000, 'the server to finish closing')

  const counts = Object.fromEntries(outcomes)
  console.log(`# outcomes of ${IN_FLIGHT} in-flight requests: ${JSON.stringify(counts)}`)
  assert.equal(settled, IN_FLIGHT)
  assert.equal(
    [...outcomes.values()].reduce((a, b) => a + b, 0),
    IN_FLIGHT,
  )
  for (const key of outcomes.keys()) {
    assert.ok(key === 'resolved' || key in ErrorCodes, `'${key}' is a result or a known error code`)
  }
  // The even half finished during the graceful drain; the odd half outlived closeTimeoutMs.
  assert.equal(counts['resolved'], IN_FLIGHT / 2)
  assert.equal(link.getStats().pendingCalls ?? 0, 0)
})

/**
 * Regression: a deadline that is not a whole number of ms (a user's `timeout: 250.5`, or the
 * remaining time of a call that waited while connecting, computed from performance.now()) used
 * to reach the frame encoder as a fraction, which threw inside the session's flush and crashed
 * the process. The wire carries whole ms; the call must simply work.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { connect, listen } from '../../src/index.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'

test('fractional deadlines reach the peer as whole ms', async () => {
  const dir = await makeRuntimeDir()
  after(() => dir.cleanup())
  const server = await listen('fractional', { runtimeDir: dir.path })
  after(() => server.close())
  server.handle('deadline', (_data, ctx) => ctx.deadline !== undefined)
  // No waitForReady: the first call waits for the connection, so its remaining time is a fraction.
  const link = await connect('fractional', { runtimeDir: dir.path })
  after(() => link.close())
  assert.equal(await link.request('deadline'), true)
  assert.equal(await link.request('deadline', undefined, { timeout: 2500.25 }), true)
})

/**
 * HANDSHAKE_BUSY is retryable, and a link retries it with backoff: while a half-open connection
 * holds a server's only handshake slot, a link's dials are refused with HANDSHAKE_BUSY; once the
 * slot frees, the link's next dial gets through and its queued request is answered.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect as netConnect } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { connect, listen, type SwitchboardError } from '../../src/index.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

test('a link retries HANDSHAKE_BUSY with backoff and gets through once a slot frees', async () => {
  const dir = await makeRuntimeDir()
  const server = await listen(`unix:${join(dir.path, 'busy.sock')}`, { maxHandshaking: 1 })
  server.handle('echo', (d) => d)
  const refusals: string[] = []
  server.on('error', (err: SwitchboardError) => refusals.push(err.code))
  // A client that connects and never says a word: it holds the only handshake slot.
  const squatter = netConnect({ path: join(dir.path, 'busy.sock') })
  await once(squatter, 'connect')
  await waitFor(() => server.getStats().handshaking === 1, { what: 'the squatter to hold the slot' })
  const link = await connect(`unix:${join(dir.path, 'busy.sock')}`, {
    backoffInitialMs: 20,
    backoffMaxMs: 50,
  })
  try {
    const reply = link.request('echo', 'through', { timeout: 10_000 })
    await waitFor(() => refusals.filter((c) => c === 'HANDSHAKE_BUSY').length >= 2, {
      what: 'the link to be refused HANDSHAKE_BUSY twice (it retries)',
      timeoutMs: 5_000,
    })
    assert.notEqual(link.state, 'closed', 'HANDSHAKE_BUSY does not end the link')
    squatter.destroy()
    assert.equal(await withTimeout(reply, 10_000, 'the queued request'), 'through')
    assert.ok(link.getStats().dials >= 3, `dials: ${link.getStats().dials}`)
  } finally {
    squatter.destroy()
    await link.close()
    await server.close()
    await dir.cleanup()
  }
})

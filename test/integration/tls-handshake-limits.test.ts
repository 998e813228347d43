/**
 * TLS handshakes count against the server's handshake limits: connections that never send a
 * ClientHello hold slots; past maxHandshaking a new TCP connection is dropped at once; once the
 * half-open ones go, an honest TLS client is served.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { connect as netConnect, type Socket } from 'node:net'
import { test } from 'node:test'
import { connect, listen } from '../../src/index.ts'
import { testCerts as certs } from '../helpers/certs.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

test('half-open TLS handshakes hold handshake slots; past the limit a connection is dropped', async () => {
  const dir = await makeRuntimeDir()
  const server = await listen('tls://127.0.0.1:0', {
    maxHandshaking: 2,
    tls: { cert: readFileSync(certs.serverCertFile), key: readFileSync(certs.serverKeyFile) },
  })
  server.handle('echo', (d) => d)
  const port = Number(new URL(server.address).port)
  const squatters: Socket[] = []
  try {
    for (let i = 0; i < 2; i++) {
      const s = netConnect({ host: '127.0.0.1', port })
      squatters.push(s)
      await once(s, 'connect')
    }
    await waitFor(() => server.getStats().handshaking === 2, {
      what: 'two half-open TLS handshakes to be counted',
      describe: () => JSON.stringify(server.getStats()),
    })
    const third = netConnect({ host: '127.0.0.1', port })
    third.on('error', () => {})
    await withTimeout(once(third, 'close'), 5_000, 'the third connection to be dropped at once')
    assert.equal(server.getStats().handshaking, 2)
    for (const s of squatters) s.destroy()
    await waitFor(() => server.getStats().handshaking === 0, { what: 'the slots to be freed' })
    const link = await connect(server.address, {
      tls: { ca: readFileSync(certs.caFile) },
      waitForReady: true,
    })
    assert.equal(await link.request('echo', 'tls'), 'tls')
    assert.equal(server.getStats().handshaking, 0, 'a finished TLS handshake frees its slot')
    await link.close()
  } finally {
    for (const s of squatters) s.destroy()
    await server.close()
    await dir.cleanup()
  }
})

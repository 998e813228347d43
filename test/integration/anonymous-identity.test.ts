/**
 * A keyless (NK) dialer proves nothing about itself, so on the server each such connection is its
 * own party: two NK connections presenting the same link id get two client handles, where two
 * holders of one shared secret presenting one link id are one client (the existing rule). Real
 * TCP sockets, in one process.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { type ListenOptions, listen } from '../../src/index.ts'
import { RpcConnection } from '../../src/rpc/connection.ts'
import { nodeCryptoProvider } from '../../src/session/node-crypto.ts'
import type { SessionOptions } from '../../src/session/options.ts'
import { dial } from '../../src/transport/dial.ts'
import { waitFor } from '../helpers/wait.ts'

async function clientsAfterTwoDials(server: ListenOptions, client: SessionOptions): Promise<number> {
  const s = await listen('tcp://127.0.0.1:0', server)
  s.handle('echo', (data) => data)
  const linkId = randomBytes(16)
  const conns: RpcConnection[] = []
  try {
    for (let i = 0; i < 2; i++) {
      const conn = await RpcConnection.open(await dial(s.address, client), 'dialer', { ...client, linkId })
      conns.push(conn)
      assert.equal(await conn.request('echo', 'hi'), 'hi')
    }
    await waitFor(() => s.getStats().connections === 2, { what: 'both connections served' })
    return s.getStats().clients
  } finally {
    for (const c of conns) c.abort()
    await s.close()
  }
}

test('two NK connections with one link id are two clients; two secret holders with one link id are one', async () => {
  const keys = nodeCryptoProvider.generateKeyPair()
  const anonymous = await clientsAfterTwoDials(
    { keys, acceptAnonymousDialers: true },
    { serverKey: keys.publicKey },
  )
  assert.equal(anonymous, 2)
  const secret = randomBytes(32)
  assert.equal(await clientsAfterTwoDials({ secret }, { secret }), 1)
})

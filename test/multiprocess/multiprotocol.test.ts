/**
 * SolidFrame's test_multiprotocol between OS processes: one server process implements three
 * protocols; two client processes, configured with different subsets, each run the
 * clientserver_basic traffic (many echoes of different sizes at once, integrity checked) on
 * their protocols at the same time. The server's per-protocol counts prove each echo went to
 * the protocol it was sent to, and this process sees what the server offers.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { connect, defineProtocol, isSwitchboardError } from '../../src/index.ts'
import { Blobs, Numbers, Texts } from '../fixtures/programs/multiprotocol-contracts.ts'
import { type Child, startProgram } from '../helpers/child.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'

const COUNT = 40
let dir: RuntimeDir
let server: Child
const clients: Child[] = []

before(async () => {
  dir = await makeRuntimeDir('sb-mp-')
  server = await startProgram('test/fixtures/programs/multiprotocol-server.ts', ['multiprotocol', dir.path])
})

after(async () => {
  for (const c of clients) await c.kill()
  await server?.kill()
  await dir?.cleanup()
})

test('one server, three protocols, two clients with different subsets', async () => {
  const program = 'test/fixtures/programs/multiprotocol-client.ts'
  const [first, second] = await Promise.all([
    startProgram(program, ['multiprotocol', dir.path, 'blobs,texts', String(COUNT)], 30_000),
    startProgram(program, ['multiprotocol', dir.path, 'texts,numbers', String(COUNT)], 30_000),
  ])
  clients.push(first, second)
  assert.deepEqual(JSON.parse(first.ready), { blobs: COUNT, texts: COUNT })
  assert.deepEqual(JSON.parse(second.ready), { texts: COUNT, numbers: COUNT })

  const link = await connect('multiprotocol', { runtimeDir: dir.path, waitForReady: true })
  try {
    const offered = link.peerProtocols?.list().map((p) => `${p.name} ${p.major}.${p.minor}`)
    assert.deepEqual(offered?.sort(), ['blobs 1.0', 'numbers 1.1', 'texts 2.3'])
    assert.equal(await link.use(Blobs).request('count', null), COUNT)
    assert.equal(await link.use(Texts).request('count', null), 2 * COUNT)
    assert.equal(await link.use(Numbers).request('count', null), COUNT)
    // A client configured with a protocol the server does not offer is refused at use().
    const Missing = defineProtocol({ ...Texts.definition, name: 'missing' })
    assert.throws(
      () => link.use(Missing),
      (e) => isSwitchboardError(e, 'PROTOCOL_UNSUPPORTED'),
    )
  } finally {
    await link.close()
  }
})

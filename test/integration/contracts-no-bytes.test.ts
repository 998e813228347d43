/**
 * A contract's call that the other side cannot serve fails locally, with no byte sent: counted
 * at the fault proxy between a link and a real TCP server. Two links run the same traffic, one
 * with the refused call added; their connections must carry the same number of bytes up.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import * as v from 'valibot'
import {
  ANY_METHOD,
  connect,
  defineProtocol,
  isSwitchboardError,
  type Link,
  listen,
  type Server,
} from '../../src/index.ts'
import { type FaultProxy, type ProxiedConnection, startFaultProxy } from '../../src/testing/index.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

const Billing = defineProtocol({
  name: 'billing',
  version: '1.0',
  requests: { 'invoice.void': { input: v.object({ id: v.string() }), output: v.boolean() } },
})
/** A newer minor: adds a method the server's 1.0 does not have. */
const Billing11 = defineProtocol({
  name: 'billing',
  version: '1.1',
  requests: {
    ...Billing.definition.requests,
    'invoice.refund': { input: v.object({ id: v.string() }), output: v.boolean() },
  },
})
const Other = defineProtocol({
  name: 'other',
  version: '1.0',
  requests: { m: { input: v.string(), output: v.string() } },
})

let server: Server
let proxy: FaultProxy
let calls = 0

before(async () => {
  server = await listen('tcp://127.0.0.1:0', { insecure: true })
  server.implement(Billing, {
    'invoice.void': () => {
      calls++
      return true
    },
  })
  // The same length as 'billing/invoice.void', for the hello-bound names test.
  server.handle('x'.repeat('billing/invoice.void'.length), () => true)
  server.handle(ANY_METHOD, () => {
    calls++
  })
  proxy = await startFaultProxy({ listen: 'tcp://127.0.0.1:0', target: server.address })
})

after(async () => {
  await proxy?.close()
  await server?.close()
})

/** Connects through the proxy, runs `work`, closes; returns the bytes its connection carried. */
async function measured(
  work: (link: Link) => Promise<void>,
  wait = true,
): Promise<{ up: number; down: number }> {
  const known = new Set(proxy.connections)
  const link = await connect(proxy.address, { insecure: true, waitForReady: wait, reconnect: false })
  let conn: ProxiedConnection | undefined
  const find = (): void => {
    conn ??= [...proxy.connections].find((c) => !known.has(c))
  }
  find()
  await work(link)
  find()
  assert.ok(conn !== undefined, 'the link went through the proxy')
  await withTimeout(link.close(), 5000, 'the link to close')
  await waitFor(() => conn!.closed, { what: 'the proxied connection to close' })
  return conn.bytes
}

test('a method the peer’s minor lacks: METHOD_NOT_OFFERED, and no byte more goes up', async () => {
  const before = calls
  const plain = await measured(async (link) => {
    assert.equal(await link.use(Billing11).request('invoice.void', { id: 'a' }), true)
  })
  const refused = await measured(async (link) => {
    const billing = link.use(Billing11)
    assert.equal(await billing.request('invoice.void', { id: 'a' }), true)
    await assert.rejects(billing.request('invoice.refund', { id: 'a' }), (e) =>
      isSwitchboardError(e, 'METHOD_NOT_OFFERED'),
    )
    await assert.rejects(billing.send('invoice.refund', { id: 'a' }), (e) =>
      isSwitchboardError(e, 'METHOD_NOT_OFFERED'),
    )
  })
  assert.equal(calls - before, 2, 'only the two valid calls reached the server')
  assert.ok(plain.up > 0)
  assert.equal(refused.up, plain.up, 'the refused calls sent nothing')
})

test('the counter sees a call: one more valid call sends more bytes up', async () => {
  const one = await measured(async (link) => {
    await link.use(Billing).request('invoice.void', { id: 'a' })
  })
  const two = await measured(async (link) => {
    await link.use(Billing).request('invoice.void', { id: 'a' })
    await link.use(Billing).request('invoice.void', { id: 'a' })
  })
  assert.ok(two.up > one.up, `${two.up} > ${one.up}`)
})

test('PROTOCOL_UNSUPPORTED right after the hello, with no request bytes', async () => {
  const before = calls
  const idle = await measured(async (link) => {
    await link.ready()
  }, false)
  const refused = await measured(async (link) => {
    // Before the hello the peer's offer is unknown: use() succeeds, the call waits for it.
    const other = link.use(Other)
    await assert.rejects(other.request('m', 'x'), (e) => isSwitchboardError(e, 'PROTOCOL_UNSUPPORTED'))
    assert.equal(link.state, 'ready')
    // Now it is known: use() throws at once.
    assert.throws(
      () => link.use(Other),
      (e) => isSwitchboardError(e, 'PROTOCOL_UNSUPPORTED'),
    )
  }, false)
  assert.equal(calls, before)
  assert.equal(refused.up, idle.up, 'nothing but the hello, SETTINGS, ACK and GOAWAY went up')
})

test('a contract method is addressed by its hello-bound id: no NAME frame goes up', async () => {
  const bound = await measured(async (link) => {
    assert.equal(await link.use(Billing).request('invoice.void', { id: 'a' }), true)
  })
  // An untyped name of the same length is interned with one NAME frame: 1 type, 1 flags,
  // 1 channel, 1 length, 1 id, and the 20 bytes of the name.
  const named = await measured(async (link) => {
    assert.equal(await link.request('x'.repeat('billing/invoice.void'.length), { id: 'a' }), true)
  })
  assert.equal(named.up - bound.up, 5 + 'billing/invoice.void'.length)
})

/**
 * Typed contracts over real unix sockets (docs/contracts.md), with valibot schemas (and zod in
 * contracts-zod.test.ts): validation before the handler, invalid output, PROTOCOL_UNSUPPORTED at
 * use() and after the hello, METHOD_NOT_OFFERED for a method of a newer minor, a protocol
 * implemented after connect reaching the client (OFFER), event validation (sync and async, in
 * order) with invalid events dropped, counted and reported, and validation switched off.
 */
import assert from 'node:assert/strict'
import diagnostics from 'node:diagnostics_channel'
import { after, test } from 'node:test'
import * as v from 'valibot'
import {
  connect,
  defineProtocol,
  isSwitchboardError,
  type Link,
  listen,
  pair,
  type Server,
} from '../../src/index.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

const dir = await makeRuntimeDir('sb-ct-')
after(() => dir.cleanup())
let n = 0
const opts = { runtimeDir: dir.path }

const Billing = defineProtocol({
  name: 'billing',
  version: '1.2',
  requests: {
    'invoice.create': {
      input: v.object({ amount: v.pipe(v.number(), v.minValue(1)), note: v.optional(v.string()) }),
      output: v.object({ id: v.string() }),
    },
    'invoice.void': { input: v.object({ id: v.string() }), output: v.boolean() },
  },
  events: { 'invoice.paid': v.object({ id: v.string() }) },
})

async function serve(): Promise<{ server: Server; link: Link; ran: string[] }> {
  const server = await listen(`t${++n}`, opts)
  const ran: string[] = []
  server.implement(Billing, {
    'invoice.create': async (input) => {
      ran.push(`create ${input.amount}`)
      // A broken handler for amount 13: its result fails the output schema.
      return (input.amount === 13 ? { id: 13 } : { id: `inv_${input.amount}` }) as { id: string }
    },
    'invoice.void': (input) => {
      ran.push(`void ${input.id}`)
      return true
    },
  })
  const link = await connect(server.address, { ...opts, waitForReady: true })
  return { server, link, ran }
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await withTimeout(p, 5000, 'the call to settle')
  } catch (err) {
    return err
  }
  assert.fail('expected a rejection')
}

test('a valid call reaches the typed handler; the result is typed and validated', async () => {
  const { server, link, ran } = await serve()
  const billing = link.use(Billing)
  const { id } = await billing.request('invoice.create', { amount: 10 })
  assert.equal(id, 'inv_10')
  assert.equal(await billing.request('invoice.void', { id }), true)
  assert.deepEqual(ran, ['create 10', 'void inv_10'])
  // Plain untyped calls keep working beside the contract, under the wire name.
  assert.deepEqual(await link.request('billing/invoice.create', { amount: 2 }), { id: 'inv_2' })
  await link.close()
  await server.close()
})

test('invalid input is refused with INPUT_INVALID and its issues; the handler never runs', async () => {
  const { server, link, ran } = await serve()
  const billing = link.use(Billing)
  const untyped = billing.request as (m: string, i: unknown) => Promise<unknown>
  const err = await rejection(untyped.call(billing, 'invoice.create', { amount: 0, note: 5 }))
  assert.ok(isSwitchboardError(err, 'INPUT_INVALID'), String(err))
  const data = err.details?.['data'] as { issues: { path: unknown[]; message: string }[]; truncated: number }
  assert.deepEqual(
    data.issues.map((i) => i.path),
    [['amount'], ['note']],
  )
  assert.match(data.issues[0]!.message, /1/)
  assert.equal(data.truncated, 0)
  assert.deepEqual(ran, [])
  await link.close()
  await server.close()
})

test('issues are cut to fit the error detail limit', async () => {
  const server = await listen(`t${++n}`, opts)
  const Wide = defineProtocol({
    name: 'wide',
    version: '1',
    requests: { put: { input: v.array(v.pipe(v.string(), v.maxLength(1))), output: v.null() } },
  })
  let ran = false
  server.implement(Wide, {
    put: () => {
      ran = true
      return null
    },
  })
  const link = await connect(server.address, { ...opts, waitForReady: true })
  const long = 'x'.repeat(5000)
  const err = await rejection(
    link.use(Wide).request(
      'put',
      Array.from({ length: 500 }, () => long),
    ),
  )
  assert.ok(isSwitchboardError(err, 'INPUT_INVALID'), String(err))
  const data = err.details?.['data'] as { issues: { path: unknown[]; message: string }[]; truncated: number }
  assert.ok(data.issues.length >= 1 && data.issues.length <= 20)
  assert.equal(data.issues.length + data.truncated, 500)
  for (const i of data.issues) assert.ok(i.message.length <= 200)
  assert.equal(ran, false)
  await link.close()
  await server.close()
})

test('an invalid result is OUTPUT_INVALID, not a silent pass', async () => {
  const { server, link, ran } = await serve()
  const err = await rejection(link.use(Billing).request('invoice.create', { amount: 13 }))
  assert.ok(isSwitchboardError(err, 'OUTPUT_INVALID'), String(err))
  assert.deepEqual(ran, ['create 13'])
  await link.close()
  await server.close()
})

test('use() of a protocol the server lacks, or of another major, throws PROTOCOL_UNSUPPORTED at once', async () => {
  const { server, link } = await serve()
  const Billing2 = defineProtocol({ name: 'billing', version: '2.0', requests: {} })
  const Other = defineProtocol({ name: 'other', version: '1.0' })
  assert.throws(
    () => link.use(Billing2),
    (e) => isSwitchboardError(e, 'PROTOCOL_UNSUPPORTED'),
  )
  assert.throws(
    () => link.use(Other),
    (e) => isSwitchboardError(e, 'PROTOCOL_UNSUPPORTED'),
  )
  // An older minor of the same major is served.
  const Billing10 = defineProtocol({
    name: 'billing',
    version: '1.0',
    requests: { 'invoice.void': { input: v.object({ id: v.string() }), output: v.boolean() } },
  })
  assert.equal(await link.use(Billing10).request('invoice.void', { id: 'a' }), true)
  await link.close()
  await server.close()
})

test('before the hello, use() succeeds and the first call rejects with PROTOCOL_UNSUPPORTED after it', async () => {
  const server = await listen(`t${++n}`, opts)
  const link = await connect(server.address, opts) // not waiting for ready
  const client = link.use(Billing)
  const err = await rejection(client.request('invoice.create', { amount: 1 }))
  assert.ok(isSwitchboardError(err, 'PROTOCOL_UNSUPPORTED'), String(err))
  assert.equal(link.state, 'ready')
  await link.close()
  await server.close()
})

test('a method of a newer minor that the server lacks fails locally with METHOD_NOT_OFFERED', async () => {
  const { server, link } = await serve()
  const Billing13 = defineProtocol({
    name: 'billing',
    version: '1.3',
    requests: {
      ...Billing.definition.requests,
      'invoice.refund': { input: v.object({ id: v.string() }), output: v.boolean() },
    },
  })
  const client = link.use(Billing13)
  const err = await rejection(client.request('invoice.refund', { id: 'a' }))
  assert.ok(isSwitchboardError(err, 'METHOD_NOT_OFFERED'), String(err))
  assert.deepEqual(await client.request('invoice.create', { amount: 4 }), { id: 'inv_4' })
  await link.close()
  await server.close()
})

test('a protocol implemented after connect is announced to the connected client (OFFER)', async () => {
  const server = await listen(`t${++n}`, opts)
  const link = await connect(server.address, { ...opts, waitForReady: true })
  assert.throws(
    () => link.use(Billing),
    (e) => isSwitchboardError(e, 'PROTOCOL_UNSUPPORTED'),
  )
  server.implement(Billing, {
    'invoice.create': (input) => ({ id: `late_${input.amount}` }),
    'invoice.void': () => false,
  })
  await waitFor(() => link.peerProtocols?.get('billing') !== undefined, { what: 'the OFFER to arrive' })
  assert.deepEqual(await link.use(Billing).request('invoice.create', { amount: 3 }), { id: 'late_3' })
  await link.close()
  await server.close()
})

test('events: valid ones arrive in order, invalid ones are dropped, counted and reported', async () => {
  const { server, link } = await serve()
  const publisher = server.implement(Billing, {
    'invoice.create': () => ({ id: 'x' }),
    'invoice.void': () => true,
  })
  const reported: unknown[] = []
  const onError = (m: unknown): void => {
    reported.push(m)
  }
  diagnostics.subscribe('switchboard:error', onError)
  const got: string[] = []
  const sub = link.use(Billing).subscribe('invoice.paid', (e) => got.push(e.id))
  await sub.ready
  await publisher.publish('invoice.paid', { id: 'a' })
  // biome-ignore lint/suspicious/noExplicitAny: a publisher that breaks the contract
  await server.publish('billing/invoice.paid', { id: 7 } as any)
  await publisher.publish('invoice.paid', { id: 'b' })
  await waitFor(() => got.length === 2, { what: 'two valid events', describe: () => got.join() })
  assert.deepEqual(got, ['a', 'b'])
  assert.equal(link.getStats().invalidEvents, 1)
  diagnostics.unsubscribe('switchboard:error', onError)
  assert.equal(reported.length, 1)
  const error = (reported[0] as { error: unknown }).error
  assert.ok(isSwitchboardError(error, 'EVENT_INVALID'))
  sub.close()
  await link.close()
  await server.close()
})

test('events with an async validate() keep their order; the iterator form validates too', async () => {
  const server = await listen(`t${++n}`, opts)
  let delay = 0
  const Slow = defineProtocol({
    name: 'slow',
    version: '1',
    events: {
      tick: v.pipeAsync(
        v.number(),
        v.checkAsync(async (x) => {
          // Earlier events take longer: a gate that did not wait would reorder them.
          const ms = Math.max(0, 20 - delay++ * 2)
          await new Promise((r) => setTimeout(r, ms))
          return x >= 0
        }, 'negative'),
      ),
    },
  })
  const publisher = server.implement(Slow, {})
  const link = await connect(server.address, { ...opts, waitForReady: true })
  const sub = link.use(Slow).subscribe('tick')
  await sub.ready
  const sent = [1, 2, -1, 3, 4, -2, 5]
  for (const x of sent) await publisher.publish('tick', x)
  const got: number[] = []
  for await (const x of sub) {
    got.push(x)
    if (got.length === 5) break
  }
  assert.deepEqual(got, [1, 2, 3, 4, 5])
  await waitFor(() => link.getStats().invalidEvents === 2, { what: 'two invalid events counted' })
  await link.close()
  await server.close()
})

test('validation off: the handler gets what was sent, and the result goes as returned', async () => {
  const server = await listen(`t${++n}`, opts)
  const seen: unknown[] = []
  server.implement(
    Billing,
    {
      'invoice.create': (input) => {
        seen.push(input)
        return { id: 'unchecked' }
      },
      'invoice.void': () => true,
    },
    { validate: false },
  )
  const link = await connect(server.address, { ...opts, waitForReady: true })
  // biome-ignore lint/suspicious/noExplicitAny: an input the schema would refuse
  await link.use(Billing).request('invoice.create', { amount: -5 } as any)
  assert.deepEqual(seen, [{ amount: -5 }])
  await link.close()
  await server.close()
})

test('a server calls a client that implements a protocol, through conn.use()', async () => {
  const server = await listen(`t${++n}`, opts)
  const Ping = defineProtocol({
    name: 'ping',
    version: '1.0',
    requests: { ping: { input: v.string(), output: v.string() } },
  })
  const connected = new Promise<import('../../src/index.ts').RpcConnection>((resolve) =>
    server.once('connection', resolve),
  )
  const link = await connect(server.address, opts)
  link.implement(Ping, { ping: (s) => `pong ${s}` })
  const conn = await withTimeout(connected, 5000, 'the connection')
  assert.equal(await conn.use(Ping).request('ping', 'x'), 'pong x')
  await link.close()
  await server.close()
})

test('defineProtocol refuses bad names, versions and non-schemas', () => {
  assert.throws(
    () => defineProtocol({ name: 'a/b', version: '1' }),
    (e) => isSwitchboardError(e, 'INVALID_ARGUMENT'),
  )
  assert.throws(
    () => defineProtocol({ name: 'a', version: 'x' }),
    (e) => isSwitchboardError(e, 'INVALID_ARGUMENT'),
  )
  assert.throws(
    () =>
      defineProtocol({
        name: 'a',
        version: '1',
        // biome-ignore lint/suspicious/noExplicitAny: not a schema
        requests: { m: { input: {} as any, output: v.string() } },
      }),
    (e) => isSwitchboardError(e, 'INVALID_ARGUMENT'),
  )
})

test('pair(): each side implements a protocol the other uses, both ways', async () => {
  const Ping = defineProtocol({
    name: 'ping',
    version: '1',
    requests: { ping: { input: v.string(), output: v.string() } },
  })
  const Pong = defineProtocol({
    name: 'pong',
    version: '1',
    requests: { pong: { input: v.string(), output: v.string() } },
  })
  const address = `pair${++n}`
  const first = await pair(address, opts)
  first.implement(Ping, { ping: (s) => `ping ${s}` })
  const second = await pair(address, { ...opts, waitForReady: true })
  second.implement(Pong, { pong: (s) => `pong ${s}` })
  try {
    assert.equal(first.role, 'server')
    assert.equal(await second.use(Ping).request('ping', 'a'), 'ping a')
    await waitFor(() => first.peerProtocols?.get('pong') !== undefined, { what: 'the OFFER of pong' })
    assert.equal(await first.use(Pong).request('pong', 'b'), 'pong b')
  } finally {
    await second.close()
    await first.close()
  }
})

test('use(P, { validate: false }) delivers events without checking them', async () => {
  const server = await listen(`t${++n}`, opts)
  const publisher = server.implement(Billing, {
    'invoice.create': () => ({ id: 'x' }),
    'invoice.void': () => true,
  })
  const link = await connect(server.address, { ...opts, waitForReady: true })
  try {
    const got: unknown[] = []
    const sub = link.use(Billing, { validate: false }).subscribe('invoice.paid', (e) => got.push(e))
    await sub.ready
    await server.publish('billing/invoice.paid', { id: 7 })
    await publisher.publish('invoice.paid', { id: 'a' })
    await waitFor(() => got.length === 2, { what: 'both events' })
    assert.deepEqual(got, [{ id: 7 }, { id: 'a' }])
    assert.equal(link.getStats().invalidEvents, 0)
  } finally {
    await link.close()
    await server.close()
  }
})

test('a name outside the protocol (a caller past the types) is INVALID_ARGUMENT, nothing sent', async () => {
  const { server, link, ran } = await serve()
  const billing = link.use(Billing)
  const loose = billing as unknown as {
    request(m: string, i: unknown): Promise<unknown>
    subscribe(e: string, f: () => void): unknown
  }
  await assert.rejects(loose.request('invoice.nope', {}), (e) => isSwitchboardError(e, 'INVALID_ARGUMENT'))
  assert.throws(
    () => loose.subscribe('invoice.nope', () => {}),
    (e) => isSwitchboardError(e, 'INVALID_ARGUMENT'),
  )
  assert.deepEqual(ran, [])
  await link.close()
  await server.close()
})

test('offers that would not fit in a hello are refused at implement()', async () => {
  const server = await listen(`t${++n}`, opts)
  const requests = Object.fromEntries(
    Array.from({ length: 60 }, (_, i) => [`${i}${'m'.repeat(890)}`, { input: v.null(), output: v.null() }]),
  )
  const Huge = defineProtocol({ name: 'huge', version: '1', requests })
  const handlers = Object.fromEntries(Object.keys(requests).map((m) => [m, () => null]))
  assert.throws(
    () => server.implement(Huge, handlers as never),
    (e) => isSwitchboardError(e, 'INVALID_ARGUMENT'),
  )
  // Nothing of it was registered: the server offers nothing and serves none of its methods.
  const link = await connect(server.address, { ...opts, waitForReady: true })
  assert.deepEqual(link.peerProtocols?.list(), [])
  await assert.rejects(link.request(`huge/0${'m'.repeat(890)}`, null), (e) =>
    isSwitchboardError(e, 'METHOD_NOT_FOUND'),
  )
  await link.close()
  await server.close()
})

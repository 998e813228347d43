/**
 * The contract of contracts.test.ts with zod schemas instead of valibot: the same behaviour
 * through any Standard Schema library (typed handler and client, INPUT_INVALID with issue paths
 * and the handler not run, OUTPUT_INVALID, a zod transform applied before the handler, invalid
 * events dropped and counted).
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { z } from 'zod'
import { connect, defineProtocol, isSwitchboardError, listen } from '../../src/index.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

const dir = await makeRuntimeDir('sb-cz-')
after(() => dir.cleanup())
const opts = { runtimeDir: dir.path }

const Billing = defineProtocol({
  name: 'billing',
  version: '1.2',
  requests: {
    'invoice.create': {
      input: z.object({ amount: z.number().min(1), note: z.string().optional() }),
      output: z.object({ id: z.string() }),
    },
    // The caller sends a string; the handler gets the number it parses to.
    'invoice.parse': { input: z.string().transform((s) => Number.parseInt(s, 10)), output: z.number() },
  },
  events: { 'invoice.paid': z.object({ id: z.string() }) },
})

test('zod: typed calls, INPUT_INVALID, OUTPUT_INVALID, a transform, invalid events', async () => {
  const server = await listen('zod', opts)
  const ran: unknown[] = []
  const publisher = server.implement(Billing, {
    'invoice.create': ({ amount }) => {
      ran.push(amount)
      return (amount === 13 ? { id: 13 } : { id: `inv_${amount}` }) as { id: string }
    },
    'invoice.parse': (n) => {
      ran.push(n)
      return n + 1
    },
  })
  const link = await connect(server.address, { ...opts, waitForReady: true })
  try {
    const billing = link.use(Billing)
    assert.deepEqual(await billing.request('invoice.create', { amount: 5 }), { id: 'inv_5' })
    assert.equal(await billing.request('invoice.parse', '41'), 42)
    const untyped = billing.request as (m: string, i: unknown) => Promise<unknown>
    await assert.rejects(
      withTimeout(untyped.call(billing, 'invoice.create', { amount: 0, note: 1 }), 5000, 'call'),
      (e) => {
        assert.ok(isSwitchboardError(e, 'INPUT_INVALID'), String(e))
        const data = e.details?.['data'] as { issues: { path: unknown[] }[] }
        assert.deepEqual(
          data.issues.map((i) => i.path),
          [['amount'], ['note']],
        )
        return true
      },
    )
    await assert.rejects(billing.request('invoice.create', { amount: 13 }), (e) =>
      isSwitchboardError(e, 'OUTPUT_INVALID'),
    )
    assert.deepEqual(ran, [5, 41, 13])

    const got: string[] = []
    const sub = billing.subscribe('invoice.paid', (e) => got.push(e.id))
    await sub.ready
    await publisher.publish('invoice.paid', { id: 'a' })
    await server.publish('billing/invoice.paid', { nope: true })
    await publisher.publish('invoice.paid', { id: 'b' })
    await waitFor(() => got.length === 2, { what: 'the valid events' })
    assert.deepEqual(got, ['a', 'b'])
    assert.equal(link.getStats().invalidEvents, 1)
  } finally {
    await link.close()
    await server.close()
  }
})

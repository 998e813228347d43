/**
 * Typed contracts in one process (docs/contracts.md): a server implements two protocols, a
 * client uses one of them, and the schemas refuse what does not fit. Run it with
 * `node --import tsx examples/contracts/main.ts` (valibot is a dev dependency of this repo; in
 * your project use any Standard Schema library).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as v from 'valibot'
import { connect, defineProtocol, isSwitchboardError, listen } from '../../src/index.ts'

export const Billing = defineProtocol({
  name: 'billing',
  version: '1.2',
  requests: {
    'invoice.create': {
      input: v.object({ amount: v.pipe(v.number(), v.minValue(1)) }),
      output: v.object({ id: v.string() }),
    },
  },
  events: { 'invoice.paid': v.object({ id: v.string() }) },
})

export const Health = defineProtocol({
  name: 'health',
  version: '1.0',
  requests: { ping: { input: v.null(), output: v.literal('pong') } },
})

const runtimeDir = await mkdtemp(join(tmpdir(), 'sb-contracts-'))
const server = await listen('billing-svc', { runtimeDir })
let next = 0
const billingEvents = server.implement(Billing, {
  'invoice.create': async ({ amount }) => ({ id: `inv_${++next}_${amount}` }),
})
server.implement(Health, { ping: () => 'pong' as const })

const link = await connect('billing-svc', { runtimeDir, waitForReady: true })
const billing = link.use(Billing)
console.log(
  'offered:',
  link.peerProtocols?.list().map((p) => `${p.name} ${p.major}.${p.minor}`),
)

const paid = new Promise<string>((resolve) => {
  const sub = billing.subscribe('invoice.paid', (e) => {
    sub.close()
    resolve(e.id)
  })
  void sub.ready.then(() => billingEvents.publish('invoice.paid', { id: 'inv_1_10' }))
})

const { id } = await billing.request('invoice.create', { amount: 10 })
console.log('created:', id)
console.log('paid event:', await paid)

try {
  await billing.request('invoice.create', { amount: 0 })
} catch (err) {
  if (!isSwitchboardError(err, 'INPUT_INVALID')) throw err
  console.log('refused:', err.code, JSON.stringify(err.details?.['data']))
}

await link.close()
await server.close()
await rm(runtimeDir, { recursive: true, force: true })

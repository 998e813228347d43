/**
 * Type tests of typed contracts, compiled by `npm test` (typecheck) and never run: the same
 * protocol with valibot and with zod schemas types handlers, clients and publishers; wrong
 * method and event names, wrong inputs and wrong uses of results do not compile (each
 * `@ts-expect-error` fails the build if its line starts compiling); no handler parameter or
 * result is `any`, and no `any` leaks into the contract types.
 */
import * as v from 'valibot'
import { z } from 'zod'
import {
  type ContractHandlers,
  defineProtocol,
  type HandlerContext,
  type HandlerInputOf,
  type HandlerOutputOf,
  type InputOf,
  type Link,
  type OutputOf,
  type PeerProtocols,
  type Protocol,
  type ProtocolClient,
  type ProtocolPublisher,
  type RpcConnection,
  type Server,
  type StandardSchemaV1,
} from '../../src/index.ts'
import { type Equal, expect, expectNoAny, type IsAny } from './public-api.types.ts'

const BillingV = defineProtocol({
  name: 'billing',
  version: '1.2',
  requests: {
    'invoice.create': {
      input: v.object({ amount: v.number() }),
      output: v.object({ id: v.string() }),
    },
    // A transforming input: the caller sends a string, the handler gets a number.
    parse: { input: v.pipe(v.string(), v.transform(Number)), output: v.number() },
  },
  events: { 'invoice.paid': v.object({ id: v.string() }) },
})

const BillingZ = defineProtocol({
  name: 'billing',
  version: '1.2',
  requests: {
    'invoice.create': { input: z.object({ amount: z.number() }), output: z.object({ id: z.string() }) },
    parse: { input: z.string().transform(Number), output: z.number() },
  },
  events: { 'invoice.paid': z.object({ id: z.string() }) },
})

declare const server: Server
declare const link: Link
declare const conn: RpcConnection

// Handler parameters and results come from the schemas, never `any` (valibot).
server.implement(BillingV, {
  'invoice.create': async (input, ctx) => {
    expect<Equal<typeof input, { amount: number }>>()
    expect<Equal<IsAny<typeof input>, false>>()
    expect<Equal<IsAny<typeof ctx>, false>>()
    expect<Equal<typeof ctx, HandlerContext>>()
    return { id: `inv_${input.amount}` }
  },
  parse: (input) => {
    expect<Equal<typeof input, number>>()
    expect<Equal<IsAny<typeof input>, false>>()
    return input * 2
  },
})
// The same with zod.
server.implement(BillingZ, {
  'invoice.create': async (input, ctx) => {
    expect<Equal<typeof input, { amount: number }>>()
    expect<Equal<IsAny<typeof input>, false>>()
    expect<Equal<IsAny<typeof ctx>, false>>()
    return { id: `inv_${input.amount}` }
  },
  parse: (input) => {
    expect<Equal<typeof input, number>>()
    return input * 2
  },
})
type V = typeof BillingV
type Z = typeof BillingZ
expect<Equal<IsAny<HandlerInputOf<V, 'invoice.create'>>, false>>()
expect<Equal<IsAny<HandlerOutputOf<V, 'invoice.create'>>, false>>()
expect<Equal<IsAny<HandlerInputOf<Z, 'invoice.create'>>, false>>()
expect<Equal<IsAny<HandlerOutputOf<Z, 'invoice.create'>>, false>>()
expect<Equal<HandlerOutputOf<V, 'invoice.create'>, { id: string }>>()
expect<Equal<HandlerOutputOf<Z, 'invoice.create'>, { id: string }>>()
expect<Equal<InputOf<V, 'parse'>, string>>()
expect<Equal<InputOf<Z, 'parse'>, string>>()
expect<Equal<HandlerInputOf<V, 'parse'>, number>>()
expect<Equal<HandlerInputOf<Z, 'parse'>, number>>()
expect<Equal<OutputOf<V, 'invoice.create'>, { id: string }>>()
expect<Equal<OutputOf<Z, 'invoice.create'>, { id: string }>>()
expect<Equal<Parameters<ContractHandlers<Z>['parse']>[0], number>>()

async function clientsV(billing: ProtocolClient<V>): Promise<void> {
  const { id } = await billing.request('invoice.create', { amount: 10 })
  expect<Equal<typeof id, string>>()
  // @ts-expect-error a wrong result use: id is a string
  const n: number = (await billing.request('invoice.create', { amount: 1 })).id
  void n
  // @ts-expect-error a method the protocol does not have
  await billing.request('invoice.delete', { amount: 1 })
  // @ts-expect-error a wrong input shape
  await billing.request('invoice.create', { amount: '10' })
  // @ts-expect-error a missing input field
  await billing.request('invoice.create', {})
  // @ts-expect-error the caller of `parse` sends a string (the handler gets a number)
  await billing.request('parse', 5)
  await billing.send('parse', '5')
  billing.subscribe('invoice.paid', (e) => {
    expect<Equal<typeof e, { id: string }>>()
  })
  for await (const e of billing.subscribe('invoice.paid')) expect<Equal<typeof e, { id: string }>>()
  // @ts-expect-error an event the protocol does not have
  billing.subscribe('invoice.lost', () => {})
}
async function clientsZ(billing: ProtocolClient<Z>): Promise<void> {
  const { id } = await billing.request('invoice.create', { amount: 10 })
  expect<Equal<typeof id, string>>()
  // @ts-expect-error a wrong result use: id is a string
  const n: number = (await billing.request('invoice.create', { amount: 1 })).id
  void n
  // @ts-expect-error a method the protocol does not have
  await billing.request('invoice.delete', { amount: 1 })
  // @ts-expect-error a wrong input shape
  await billing.request('invoice.create', { amount: '10' })
  // @ts-expect-error the caller of `parse` sends a string (the handler gets a number)
  await billing.request('parse', 5)
  billing.subscribe('invoice.paid', (e) => {
    expect<Equal<typeof e, { id: string }>>()
  })
  // @ts-expect-error an event the protocol does not have
  billing.subscribe('invoice.lost', () => {})
}
void clientsV(link.use(BillingV))
void clientsZ(conn.use(BillingZ))

function servers(): void {
  const pub = server.implement(BillingV, {
    'invoice.create': ({ amount }) => ({ id: String(amount) }),
    parse: (x) => x,
  })
  void pub.publish('invoice.paid', { id: 'a' })
  // @ts-expect-error a wrong event value
  void pub.publish('invoice.paid', { id: 1 })
  // @ts-expect-error an event the protocol does not have
  void pub.publish('invoice.lost', { id: 'a' })
  server.implement(BillingZ, {
    // @ts-expect-error a handler whose result does not match the output schema
    'invoice.create': () => ({ id: 1 }),
    parse: (x) => x,
  })
  // @ts-expect-error a handler is missing
  server.implement(BillingV, { 'invoice.create': () => ({ id: 'a' }) })
  server.implement(BillingV, {
    'invoice.create': () => ({ id: 'a' }),
    parse: (x) => x,
    // @ts-expect-error a handler for a method the protocol does not have
    'invoice.delete': () => true,
  })
  link.implement(BillingZ, {
    // @ts-expect-error the handler's input is typed: amount is a number
    'invoice.create': (input: { amount: string }) => ({ id: input.amount }),
    parse: (x) => x,
  })
}
void servers

// Any Standard Schema is accepted, including one written by hand.
const handMade: StandardSchemaV1<string, string> = {
  '~standard': {
    version: 1,
    vendor: 'hand',
    validate: (x) => (typeof x === 'string' ? { value: x } : { issues: [{ message: 'not a string' }] }),
  },
}
const Hand = defineProtocol({
  name: 'hand',
  version: '1',
  requests: { m: { input: handMade, output: handMade } },
})
expect<Equal<InputOf<typeof Hand, 'm'>, string>>()

// No `any` in the contract types.
expectNoAny<typeof BillingV>()
// (Not typeof BillingZ itself: the walk would reach zod's own schema internals, which declare
// `any` members; they are zod's types, carried as they are, not ours.)
expectNoAny<ProtocolClient<typeof BillingV>>()
expectNoAny<ProtocolClient<typeof BillingZ>>()
expectNoAny<ProtocolPublisher<typeof BillingV>>()
expectNoAny<ContractHandlers<typeof BillingZ>>()
expectNoAny<Protocol>()
expectNoAny<PeerProtocols>()
expectNoAny<StandardSchemaV1>()

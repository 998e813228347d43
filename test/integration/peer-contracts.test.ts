/**
 * Contracts on named peers: implement() lists the protocol in the directory entry and serves it;
 * a caller reaches it by name; `switchboard describe sb:NAME` prints it.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import * as v from 'valibot'
import { defineProtocol, type JoinedPeer, join, resolve } from '../../src/index.ts'
import { type CliProcess, startCli } from '../cli/cli-process.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

const Billing = defineProtocol({
  name: 'billing',
  version: '1.2',
  requests: {
    'invoice.create': { input: v.object({ amount: v.number() }), output: v.object({ id: v.string() }) },
  },
  events: { 'invoice.paid': v.object({ id: v.string() }) },
})

let dir: RuntimeDir
let server: JoinedPeer
let caller: JoinedPeer
const clis: CliProcess[] = []

before(async () => {
  dir = await makeRuntimeDir()
  server = await join({ name: 'billing-svc', runtimeDir: dir.path })
  caller = await join({ name: 'shop', runtimeDir: dir.path })
})
after(async () => {
  for (const c of clis) await c.kill()
  await caller?.leave()
  await server?.leave()
  await dir?.cleanup()
})

test('implement() lists name@version in the entry; calls by name are validated by the contract', async () => {
  server.implement(Billing, { 'invoice.create': ({ amount }) => ({ id: `inv_${amount}` }) })
  await waitFor(
    () => caller.peers().some((p) => p.name === 'billing-svc' && p.protocols.includes('billing@1.2')),
    {
      what: 'the entry to list the protocol',
    },
  )
  // The contract's wire name is protocol/method; a plain call by name reaches it.
  assert.deepEqual(await caller.request('billing-svc', 'billing/invoice.create', { amount: 3 }), {
    id: 'inv_3',
  })
  await assert.rejects(caller.request('billing-svc', 'billing/invoice.create', { amount: 'x' }), {
    code: 'INPUT_INVALID',
  })
  assert.deepEqual((await resolve('billing-svc', { runtimeDir: dir.path })).length, 1)
})

test('describe sb:NAME prints the protocols of the named peer', async () => {
  const cli = startCli(['describe', 'sb:billing-svc', '--json'], { SWITCHBOARD_RUNTIME_DIR: dir.path })
  clis.push(cli)
  const exit = await withTimeout(cli.exited, 15_000, 'describe')
  assert.equal(exit.code, 0, exit.stderr)
  const described = JSON.parse(exit.stdout) as { protocols: { name: string; version: string }[] }
  assert.ok(
    described.protocols.some((p) => p.name === 'billing' && p.version === '1.2'),
    exit.stdout,
  )
})

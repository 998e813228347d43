/**
 * The name commands as real processes against peers started by the test: ls (and --watch,
 * --json), call/send sb:NAME, pub and sub.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type JoinedPeer, join } from '../../src/index.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'
import { PeerProcess } from '../multiprocess/peer-process.ts'
import { type CliProcess, startCli } from './cli-process.ts'

let dir: RuntimeDir
let env: Record<string, string>
let billing: JoinedPeer
const started: CliProcess[] = []

before(async () => {
  dir = await makeRuntimeDir()
  env = { SWITCHBOARD_RUNTIME_DIR: dir.path }
  billing = await join({ name: 'billing', runtimeDir: dir.path })
  billing.handle('invoice.create', (input: { amount: number }) => ({ id: `inv_${input.amount}` }))
})
after(async () => {
  for (const p of started) await p.kill()
  await billing?.leave()
  await dir?.cleanup()
})

function cli(...args: string[]): CliProcess {
  const p = startCli(args, env)
  started.push(p)
  return p
}

test('ls lists the joined peers; --json has every column', async () => {
  const table = await withTimeout(cli('ls').exited, 15_000, 'ls')
  assert.equal(table.code, 0, table.stderr)
  const [header, ...rows] = table.stdout.trim().split('\n')
  assert.match(header!, /^NAME\s+INSTANCE\s+PID\s+USER\s+ADDRESS\s+TOPICS\s+CONNECTED$/)
  const row = rows.find((r) => r.includes(billing.instance))
  assert.ok(row, `billing's row is listed: ${table.stdout}`)
  assert.match(
    row!,
    new RegExp(`^billing\\s+${billing.instance}\\s+${process.pid}\\s+\\S+\\s+unix:\\S+\\s+-\\s+yes$`),
  )

  const json = await withTimeout(cli('ls', '--json').exited, 15_000, 'ls --json')
  const entries = JSON.parse(json.stdout) as Record<string, unknown>[]
  const mine = entries.find((e) => e['instance'] === billing.instance)
  assert.deepEqual(
    { ...mine, joinedAt: typeof mine?.['joinedAt'], user: typeof mine?.['user'] },
    {
      name: 'billing',
      instance: billing.instance,
      address: billing.address,
      pid: process.pid,
      user: 'string',
      protocols: [],
      topics: [],
      publishes: [],
      joinedAt: 'number',
      connected: true,
    },
  )
})

test('call sb:NAME and send sb:NAME reach the named peer; an unknown name is PEER_NOT_FOUND', async () => {
  const called = await withTimeout(
    cli('call', 'sb:billing', 'invoice.create', '{"amount":7}').exited,
    15_000,
    'call',
  )
  assert.equal(called.code, 0, called.stderr)
  assert.equal(called.stdout.trim(), '{"id":"inv_7"}')

  const got: unknown[] = []
  billing.handle('audit', (data) => {
    got.push(data)
  })
  const sent = await withTimeout(cli('send', 'sb:billing', 'audit', '{"user":"ann"}').exited, 15_000, 'send')
  assert.equal(sent.code, 0, sent.stderr)
  await waitFor(() => got.length === 1, { what: 'the one-way message' })
  assert.deepEqual(got, [{ user: 'ann' }])

  const missing = await withTimeout(cli('call', 'sb:nobody', 'x').exited, 15_000, 'call sb:nobody')
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /^error PEER_NOT_FOUND: /m)
})

test('sub prints the events pub sends; pub prints the report; no receivers is delivered 0', async () => {
  const nobody = await withTimeout(cli('pub', 'quiet', '1').exited, 15_000, 'pub with no subscriber')
  assert.equal(nobody.code, 0, nobody.stderr)
  assert.deepEqual(JSON.parse(nobody.stdout), { delivered: 0, dropped: 0, failed: [] })

  const sub = cli('sub', 'prices', '--json', '--name', 'price-watch')
  await sub.errorLine(/^subscribed prices$/, 15_000)
  const pub = await withTimeout(cli('pub', 'prices', '{"sku":"A1","eur":9.5}').exited, 15_000, 'pub')
  assert.equal(pub.code, 0, pub.stderr)
  assert.deepEqual(JSON.parse(pub.stdout), { delivered: 1, dropped: 0, failed: [] })
  const line = await sub.line('{"topic"', 15_000)
  assert.deepEqual(JSON.parse(line), { topic: 'prices', data: { sku: 'A1', eur: 9.5 } })
  sub.proc.kill('SIGTERM')
  const exit = await withTimeout(sub.exited, 15_000, 'sub to stop')
  assert.equal(exit.code, 0, exit.stderr)
})

test('ls --watch prints a join and, after kill -9, the leave', async () => {
  const watch = cli('ls', '--watch')
  await watch.line('NAME', 15_000)
  const peer = await PeerProcess.start('short-lived', dir.path)
  await watch.line(`join short-lived ${peer.instance}`, 15_000)
  await peer.kill()
  await watch.line(`leave short-lived ${peer.instance}`, 15_000)
  const after = await withTimeout(cli('ls', '--json').exited, 15_000, 'ls after the kill')
  assert.ok(!after.stdout.includes(peer.instance), 'the killed peer is gone from ls')
  watch.proc.kill('SIGTERM')
  assert.equal((await withTimeout(watch.exited, 15_000, 'ls --watch to stop')).code, 0)
})

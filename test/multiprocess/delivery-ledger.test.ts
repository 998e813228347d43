/**
 * The ledger test (issue #4): a server process appends every message id it executes to a file;
 * the client sends requests through a fault-injection proxy while connections are cut at random
 * points, the server is killed with SIGKILL and restarted, and restarted gracefully (GOAWAY).
 * Then, from the ledger: every resolved call ran exactly once (at most once per server life for
 * idempotent ones), every call that failed before it was sent never ran, every OUTCOME_UNKNOWN
 * ran at most once, nothing is lost and nothing non-idempotent ran twice.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { connect, type Link, type SwitchboardError } from '../../src/index.ts'
import { type FaultProxy, killHardWhen, startFaultProxy } from '../../src/testing/index.ts'
import { type Child, startProgram } from '../helpers/child.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

const program = 'test/fixtures/programs/delivery-server.ts'
/** Codes that mean the call was never sent (so it must never have run). */
const NEVER_SENT = new Set(['NOT_CONNECTED', 'QUEUE_FULL', 'ORDER_BROKEN'])

interface Outcome {
  id: string
  idempotent: boolean
  phase: string
  result: 'resolved' | string
}

let dir: RuntimeDir
let server: Child
let proxy: FaultProxy
let link: Link
let socket: string
let ledger: string
const outcomes: Outcome[] = []

async function startServer(): Promise<Child> {
  server = await startProgram(program, [socket, ledger])
  return server
}

before(async () => {
  dir = await makeRuntimeDir()
  socket = `unix:${join(dir.path, 'ledger.sock')}`
  ledger = join(dir.path, 'ledger.txt')
  await startServer()
  proxy = await startFaultProxy({ listen: 'tcp://127.0.0.1:0', target: socket, seed: 20261122 })
  link = await connect(proxy.address, {
    insecure: true,
    backoffInitialMs: 10,
    backoffMaxMs: 100,
    waitForReady: true,
  })
})

after(async () => {
  await link?.close()
  await proxy?.close()
  await server?.kill()
  await dir?.cleanup()
})

/** Fires `n` work requests (every third idempotent) and records how each settled. */
function fire(phase: string, n: number, ms: number, extra: { oneShot?: boolean } = {}): Promise<void>[] {
  return Array.from({ length: n }, (_, i) => {
    const id = `${phase}-${i}`
    const idempotent = i % 3 === 0
    return link.request('work', { id, ms }, { idempotent, timeout: 20_000, ...extra }).then(
      () => {
        outcomes.push({ id, idempotent, phase, result: 'resolved' })
      },
      (e: SwitchboardError) => {
        outcomes.push({ id, idempotent, phase, result: e.code ?? String(e) })
      },
    )
  })
}

async function settle(calls: Promise<void>[], what: string): Promise<void> {
  await withTimeout(Promise.all(calls), 30_000, what)
}

test('ledger: cuts at random points, kill -9 + restart, graceful restart, one-shot while down', async () => {
  // 1. Every connection through the proxy is cut after a seeded random number of bytes.
  proxy.plan({ randomCutUp: { min: 300, max: 3000 } })
  proxy.cutAll()
  for (let wave = 0; wave < 5; wave++) await settle(fire(`cut${wave}`, 30, 1), 'calls under random cuts')
  assert.ok(proxy.accepted > 3, `connections were cut and rebuilt (${proxy.accepted} accepted)`)
  proxy.plan({})
  proxy.cutAll()

  // 2. The server is killed with SIGKILL while calls run, then restarted.
  await withTimeout(link.ready(), 10_000, 'the link to be ready')
  const killed = fire('kill', 90, 20)
  await withTimeout(killHardWhen(server.proc, /started kill-30/), 10_000, 'kill -9 mid-stream')
  await startServer()
  await settle(killed, 'calls across kill -9')

  // 3. One-shot calls while no connection is up fail at once and never run.
  await withTimeout(link.ready(), 10_000, 'the link to come back')
  const dying = killHardWhen(server.proc, /started oneshot-gate/)
  void link.request('work', { id: 'oneshot-gate', ms: 0 }).catch(() => {})
  await dying
  await waitFor(() => link.state === 'reconnecting', { what: 'the link to see the kill' })
  await settle(fire('oneshot', 20, 0, { oneShot: true }), 'one-shot calls while down')
  await startServer()

  // 4. Graceful restart: SIGTERM → GOAWAY with the last processed id; the rest are resent.
  await withTimeout(link.ready(), 10_000, 'the link to reconnect')
  const graceful = fire('goaway', 90, 30)
  const stopping = server.proc
  const exited = new Promise<void>((resolve) => stopping.once('exit', () => resolve()))
  await withTimeout(
    new Promise<void>((resolve) => {
      const onLine = (d: Buffer): void => {
        if (!d.toString().includes('started goaway-20')) return
        stopping.stdout?.off('data', onLine)
        stopping.kill('SIGTERM')
        resolve()
      }
      stopping.stdout?.on('data', onLine)
    }),
    10_000,
    'the graceful restart to begin',
  )
  await withTimeout(exited, 15_000, 'the server to drain and exit')
  await startServer()
  await settle(graceful, 'calls across a graceful restart')

  // The ledger: id → the pids that ran it.
  await link.request('pid', undefined, { timeout: 10_000 })
  const runs = new Map<string, string[]>()
  for (const line of (await readFile(ledger, 'utf8')).split('\n')) {
    if (line === '') continue
    const [id, pid] = line.split(' ') as [string, string]
    runs.set(id, [...(runs.get(id) ?? []), pid])
  }
  const failedByCode: Record<string, number> = {}
  let delivered = 0
  let duplicated = 0
  let lost = 0
  let repeatsAcrossRestarts = 0
  for (const o of outcomes) {
    const ran = runs.get(o.id) ?? []
    const perLife = new Set(ran).size === ran.length
    if (o.result === 'resolved') {
      delivered++
      if (ran.length === 0) lost++
    } else {
      failedByCode[o.result] = (failedByCode[o.result] ?? 0) + 1
      if (NEVER_SENT.has(o.result)) assert.equal(ran.length, 0, `${o.id} failed ${o.result} yet ran`)
      if (o.result === 'OUTCOME_UNKNOWN')
        assert.ok(ran.length <= 1, `${o.id} outcome unknown ran ${ran.length}×`)
    }
    if (!o.idempotent && ran.length > 1) duplicated++
    if (o.idempotent) {
      assert.ok(perLife, `${o.id} ran twice in one server life: ${ran.join(',')}`)
      if (ran.length > 1) repeatsAcrossRestarts++
    }
  }
  const sent = 150 + 90 + 20 + 90
  const summary = {
    sent,
    settled: outcomes.length,
    delivered,
    failedByCode,
    duplicated,
    lost,
    idempotentRerunAfterRestart: repeatsAcrossRestarts,
    proxyConnections: proxy.accepted,
    linkStats: { reconnects: link.getStats().reconnects, resent: link.getStats().resent },
  }
  console.log(`ledger: ${JSON.stringify(summary)}`)
  assert.equal(outcomes.length, sent, 'every call settled')
  assert.equal(lost, 0)
  assert.equal(duplicated, 0)
  for (const o of outcomes) if (o.result === 'resolved') assert.ok((runs.get(o.id) ?? []).length >= 1)
  // A graceful restart loses nothing and leaves nothing unknown: every call ran exactly once.
  for (const o of outcomes.filter((x) => x.phase === 'goaway')) {
    assert.equal(o.result, 'resolved', `${o.id} across a graceful restart`)
    assert.equal((runs.get(o.id) ?? []).length, 1, `${o.id} ran once`)
  }
  for (const o of outcomes.filter((x) => x.phase === 'oneshot')) assert.equal(o.result, 'NOT_CONNECTED')
  // Idempotent calls are resent until answered: none is left unknown.
  for (const o of outcomes.filter((x) => x.idempotent && x.phase !== 'oneshot'))
    assert.equal(o.result, 'resolved')
})

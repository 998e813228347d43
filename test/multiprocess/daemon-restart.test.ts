/**
 * The daemon killed with kill -9 and started again on the same socket and key file while peers
 * call each other (idempotent requests) and publish: each peer logs in and registers again by
 * itself, the registrations converge, every request settles once with a result, the subscriber
 * gets every event once, and a peer that joins after the restart is seen and reachable.
 */
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { join as joinPath } from 'node:path'
import { after, test } from 'node:test'
import { run } from '../../src/cli/run.ts'
import { captureIo } from '../cli/captured-io.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'
import { waitFor } from '../helpers/wait.ts'
import { type DaemonProcess, startAuthDaemon } from './daemon-process.ts'
import { type PeerLine, PeerProcess } from './peer-process.ts'

const LEASE_MS = 1000
const EVENTS = 600

test('daemon kill -9 and restart: peers re-register, requests settle once, events arrive once', async () => {
  const tmp = await makeRuntimeDir('sbdr-')
  const runtimeDir = joinPath(tmp.path, 'rt')
  await mkdir(runtimeDir, { mode: 0o700 })
  const socket = joinPath(tmp.path, 'run', 'daemon.sock')
  const peers: PeerProcess[] = []
  let daemon: DaemonProcess | undefined
  after(async () => {
    for (const p of peers) await p.kill()
    await daemon?.kill()
    await tmp.cleanup()
  })
  daemon = await startAuthDaemon(socket, 100)
  const firstKey = daemon.publicKey
  const env = { SWITCHBOARD_TEST_DIRECTORY: daemon.address, SWITCHBOARD_TEST_LEASE_MS: String(LEASE_MS) }
  const start = async (name: string): Promise<PeerProcess> => {
    const p = await PeerProcess.start(name, runtimeDir, 15_000, { env })
    peers.push(p)
    return p
  }
  const alpha = await start('alpha')
  const beta = await start('beta')
  // Each pending call waits on beta's exit too: 150 of them at once.
  beta.proc.setMaxListeners(0)
  const gamma = await start('gamma')
  await gamma.ask({ cmd: 'subscribe', topic: 't' }, (l) => l['subscribed'] === 't', 'gamma to subscribe')

  const listed = async (): Promise<string[]> => {
    const io = captureIo({ env: { SWITCHBOARD_RUNTIME_DIR: runtimeDir } })
    const code = await run(['ls', '--json', '--directory', daemon!.address], io)
    if (code !== 0) return []
    return (JSON.parse(io.out()) as { instance: string }[]).map((e) => e.instance).sort()
  }
  const everyone = [alpha, beta, gamma].map((p) => p.instance).sort()
  assert.deepEqual(await listed(), everyone)

  // Idempotent calls from beta to alpha, by name, before, during and after the outage.
  const answers = new Map<string, PeerLine>()
  const pending: Promise<PeerLine>[] = []
  let sent = 0
  const callBatch = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const id = `k${sent++}`
      const answer = beta.next((l) => l['called'] === id, `call ${id} to settle`, 30_000)
      beta.command({
        cmd: 'call',
        id,
        name: 'alpha',
        method: 'count',
        data: id,
        idempotent: true,
        timeout: 20_000,
      })
      pending.push(
        answer.then((l) => {
          assert.ok(!answers.has(id), `call ${id} settled twice`)
          answers.set(id, l)
          return l
        }),
      )
    }
  }
  callBatch(50)
  const published = alpha.next((l) => l['published'] === 't', 'alpha to publish every event', 60_000)
  alpha.command({ cmd: 'publish', topic: 't', from: 0, to: EVENTS })
  await alpha.next((l) => l['progress'] === 't' && Number(l['at']) >= 100, 'the publishing to be under way')

  await daemon.kill()
  callBatch(50)
  daemon = await startAuthDaemon(socket, 100)
  assert.equal(daemon.publicKey, firstKey, 'the restarted daemon kept its key file')
  callBatch(50)

  // Registrations converge: every peer registered again on the new daemon by itself.
  await waitFor(async () => (await listed()).join() === everyone.join(), {
    what: 'every peer to register again',
    timeoutMs: 15_000,
    intervalMs: 100,
  })
  // The restarted daemon heard a cookie login from each of the three peers (and from ls).
  const logins = daemon.lines.filter((l) => l.startsWith('auth os-user:'))
  assert.ok(logins.length >= 3, `each peer logged in again after the restart: ${logins.join(', ')}`)

  // Nobody saw anybody leave: the restart did not churn the membership.
  for (const p of [alpha, beta, gamma]) {
    const leaves = p.lines.filter((l) => l['change'] === 'leave')
    assert.deepEqual(leaves, [], `${p.name} saw peers leave during the restart`)
  }

  const all = await Promise.all(pending)
  assert.equal(all.length, 150)
  for (const l of all) {
    assert.equal(l['code'], undefined, `call ${String(l['called'])} failed with ${String(l['code'])}`)
    const result = l['result'] as { key: string; n: number; instance: string }
    assert.equal(result.key, l['called'])
    assert.equal(result.n, 1, `call ${result.key} ran ${result.n} times`)
    assert.equal(result.instance, alpha.instance)
  }

  const report = await published
  assert.equal(report['failed'], 0)
  const got = await gamma.ask({ cmd: 'received', topic: 't' }, (l) => l['received'] === 't', 'gamma events')
  assert.deepEqual(
    got['values'],
    Array.from({ length: EVENTS }, (_, i) => i),
  )

  // Watching works on the new daemon: a peer that joins now is seen, and reachable by name.
  const seen = alpha.next((l) => l['change'] === 'join' && l['name'] === 'delta', 'alpha to see delta')
  const delta = await start('delta')
  await seen
  const reply = await alpha.ask(
    { cmd: 'call', id: 'd', name: 'delta', method: 'who' },
    (l) => l['called'] === 'd',
    'alpha to call delta',
  )
  assert.equal((reply['result'] as { instance: string }).instance, delta.instance)
})

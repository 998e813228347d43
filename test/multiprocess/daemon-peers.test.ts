/**
 * Peers in separate processes find each other through a `switchboard daemon` process: they call
 * each other by name, `switchboard ls --directory` lists them, watches see joins, and a peer
 * killed with kill -9 leaves when its lease ends (not before: its lost connection keeps it).
 */
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { join as joinPath } from 'node:path'
import { after, test } from 'node:test'
import { run } from '../../src/cli/run.ts'
import { captureIo } from '../cli/captured-io.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'
import { type DaemonProcess, startCliDaemon } from './daemon-process.ts'
import { PeerProcess } from './peer-process.ts'

const LEASE_MS = 1500

test('two peer processes through the daemon: call by name, ls --directory, watch, lease after kill -9', async () => {
  const tmp = await makeRuntimeDir('sbdp-')
  const runtimeDir = joinPath(tmp.path, 'rt')
  const socket = joinPath(tmp.path, 'run', 'daemon.sock')
  const peers: PeerProcess[] = []
  let daemon: DaemonProcess | undefined
  after(async () => {
    for (const p of peers) await p.kill()
    await daemon?.stop()
    await tmp.cleanup()
  })
  daemon = await startCliDaemon(socket, ['--min-lease-ms', '50'])
  const env = { SWITCHBOARD_TEST_DIRECTORY: daemon.address, SWITCHBOARD_TEST_LEASE_MS: String(LEASE_MS) }
  await mkdir(runtimeDir, { mode: 0o700 })
  const alpha = await PeerProcess.start('alpha', runtimeDir, 15_000, { env })
  peers.push(alpha)
  const alphaSeesBeta = alpha.next(
    (l) => l['change'] === 'join' && l['name'] === 'beta',
    'alpha to see beta join',
  )
  const beta = await PeerProcess.start('beta', runtimeDir, 15_000, { env })
  peers.push(beta)
  await alphaSeesBeta

  const ab = await alpha.ask(
    { cmd: 'call', id: 'ab', name: 'beta', method: 'who' },
    (l) => l['called'] === 'ab',
    'alpha to call beta',
  )
  assert.deepEqual((ab['result'] as { instance: string }).instance, beta.instance)
  const ba = await beta.ask(
    { cmd: 'call', id: 'ba', name: 'alpha', method: 'who' },
    (l) => l['called'] === 'ba',
    'beta to call alpha',
  )
  assert.deepEqual((ba['result'] as { instance: string }).instance, alpha.instance)

  const ls = async (): Promise<{ name: string; instance: string }[]> => {
    const io = captureIo({ env: { SWITCHBOARD_RUNTIME_DIR: runtimeDir } })
    const code = await run(['ls', '--json', '--directory', daemon!.address], io)
    assert.equal(code, 0, io.err())
    return JSON.parse(io.out()) as { name: string; instance: string }[]
  }
  assert.deepEqual((await ls()).map((e) => e.name).sort(), ['alpha', 'beta'])

  // kill -9: the connection is lost, not closed, so the lease holds until it runs out.
  const left = alpha.next((l) => l['change'] === 'leave' && l['name'] === 'beta', 'beta to leave', 10_000)
  const killedAt = performance.now()
  await beta.kill()
  assert.ok(
    (await ls()).some((e) => e.name === 'beta'),
    'a peer killed a moment ago is still listed (its lease has not run out)',
  )
  await left
  const leftAfter = performance.now() - killedAt
  console.log(`beta left ${Math.round(leftAfter)} ms after kill -9 (lease ${LEASE_MS} ms)`)
  assert.deepEqual(
    (await ls()).map((e) => e.name),
    ['alpha'],
  )
  const gone = await alpha.ask(
    { cmd: 'call', id: 'gone', name: 'beta', method: 'who' },
    (l) => l['called'] === 'gone',
    'alpha to call the departed beta',
  )
  assert.equal(gone['code'], 'PEER_NOT_FOUND')
})

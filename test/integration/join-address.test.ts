/**
 * join()'s address and entry: a unix socket by default, or TCP on a chosen IP within allowed
 * ports (NO_PORT_AVAILABLE when all are taken); resolve() for a process that has not joined;
 * argument errors; the entry going on leave().
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Server as NetServer } from 'node:net'
import { after, before, test } from 'node:test'
import { join, resolve } from '../../src/index.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'

let dir: RuntimeDir
const blockers: NetServer[] = []

before(async () => {
  dir = await makeRuntimeDir()
})
after(async () => {
  for (const b of blockers) b.close()
  await dir?.cleanup()
})

/** A port some other program holds. */
async function takenPort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  blockers.push(server)
  return (server.address() as { port: number }).port
}

/** A port free right now. */
async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  await new Promise<void>((r) => server.close(() => r()))
  return port
}

test('by default a peer listens on a unix socket in the runtime directory, and resolve() finds it', async () => {
  const peer = await join({ name: 'plain', runtimeDir: dir.path })
  assert.match(peer.address, new RegExp(`^unix:${dir.path}/peer-${peer.instance}\\.sock$`))
  assert.deepEqual(await resolve('plain', { runtimeDir: dir.path }), [peer.address])
  await peer.leave()
  await assert.rejects(resolve('plain', { runtimeDir: dir.path }), { code: 'PEER_NOT_FOUND' })
})

test('host + allowedPorts: the first free port is taken; all taken is NO_PORT_AVAILABLE', async () => {
  const busy = await takenPort()
  const free = await freePort()
  const peer = await join({
    name: 'pinned',
    runtimeDir: dir.path,
    host: '127.0.0.1',
    allowedPorts: [busy, free],
    insecure: true,
  })
  assert.equal(peer.address, `tcp://127.0.0.1:${free}`)
  const other = await join({ name: 'caller', runtimeDir: dir.path, insecure: true })
  peer.handle('ping', () => 'pong')
  assert.equal(await other.request('pinned', 'ping'), 'pong')
  await other.leave()
  await peer.leave()

  const busy2 = await takenPort()
  await assert.rejects(
    join({
      name: 'crowded',
      runtimeDir: dir.path,
      host: '127.0.0.1',
      allowedPorts: [busy, busy2],
      insecure: true,
    }),
    { code: 'NO_PORT_AVAILABLE' },
  )
  await assert.rejects(resolve('crowded', { runtimeDir: dir.path }), { code: 'PEER_NOT_FOUND' })
})

test('bad arguments are INVALID_ARGUMENT before anything listens', async () => {
  await assert.rejects(join({ name: '', runtimeDir: dir.path }), { code: 'INVALID_ARGUMENT' })
  await assert.rejects(join({ name: 'a b', runtimeDir: dir.path }), { code: 'INVALID_ARGUMENT' })
  await assert.rejects(join({ name: 'x', runtimeDir: dir.path, allowedPorts: [4000] }), {
    code: 'INVALID_ARGUMENT',
  })
  await assert.rejects(
    join({ name: 'x', runtimeDir: dir.path, host: '127.0.0.1', allowedPorts: { from: 10, to: 5 } }),
    { code: 'INVALID_ARGUMENT' },
  )
  await assert.rejects(join({ name: 'x', runtimeDir: dir.path, host: '127.0.0.1', allowedPorts: [70000] }), {
    code: 'INVALID_ARGUMENT',
  })
})

test('TCP without security is refused (INSECURE_TRANSPORT), as for listen()', async () => {
  await assert.rejects(join({ name: 'open', runtimeDir: dir.path, host: '127.0.0.1' }), {
    code: 'INSECURE_TRANSPORT',
  })
})

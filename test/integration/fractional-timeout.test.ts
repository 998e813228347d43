/**
 * Deadlines on the wire are whole milliseconds. A timeout that is not a whole number of ms (a
 * user's `timeout: 1.5`, or the remaining time of a call that waited while connecting, computed
 * from performance.now()) used to reach the frame encoder as a fraction, which threw inside the
 * session's flush and crashed the process. The caller rounds a fraction UP (src/rpc/outgoing-call.ts:
 * the peer must never stop before the caller's deadline), and a link sends the remaining time,
 * rounded up, never below 1 ms.
 *
 * The exact values are read off the wire by a scripted peer; the last test goes through a real
 * server over a unix socket and checks what its handler sees.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { connect, listen } from '../../src/index.ts'
import { RpcConnection } from '../../src/rpc/connection.ts'
import { DEFAULT_CALL_TIMEOUT_MS } from '../../src/rpc/defaults.ts'
import { memoryPair } from '../../src/testing/memory-pair.ts'
import { ScriptedPeer } from '../../src/testing/scripted-peer.ts'
import type { Transport } from '../../src/transport/types.ts'
import type { Frame } from '../../src/wire/frame.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'
import { waitFor } from '../helpers/wait.ts'

type MsgFrame = Frame & { type: 'msg' }

/** The deadline field of the MSG frame that carries message `messageId`, once it arrived. */
async function wireDeadline(peer: ScriptedPeer, messageId: number): Promise<number | undefined> {
  let frame: MsgFrame | undefined
  await waitFor(
    () => {
      frame = peer.framesOf('msg').find((f) => f.messageId === messageId)
      return frame !== undefined
    },
    { what: `the MSG frame of message ${messageId}` },
  )
  return frame!.deadlineMs
}

test('a connection puts the timeout on the wire rounded up to whole ms', async () => {
  const [mine, theirs] = memoryPair()
  const peer = new ScriptedPeer(theirs, { role: 'listener' })
  const conn = await RpcConnection.open(mine, 'dialer')
  after(() => conn.abort())
  const cases: [timeout: number, onWire: number][] = [
    [1.5, 2],
    [2500.7, 2501],
    [2500.25, 2501],
    [0.01, 1],
    [999.999, 1000],
    [3000, 3000],
  ]
  for (const [i, [timeout]] of cases.entries()) {
    conn.request('m', undefined, { timeout }, 100 + i).catch(() => {})
  }
  const seen: [number, number | undefined][] = []
  for (const [i, [timeout]] of cases.entries()) seen.push([timeout, await wireDeadline(peer, 100 + i)])
  assert.deepEqual(seen, cases)
})

test('a link sends the remaining time rounded up: exact when sent at once, whole and within bounds after a wait', async () => {
  const [mine, theirs] = memoryPair()
  let release!: (t: Transport) => void
  const dialed = new Promise<Transport>((resolve) => {
    release = resolve
  })
  // The dial completes only when the test says so: the first calls wait for it.
  const link = await connect('scripted', { dial: () => dialed })
  after(() => link.abort())
  const waited = link.request('m', undefined, { timeout: 2500.7 })
  waited.catch(() => {})
  const peer = new ScriptedPeer(theirs, { role: 'listener' })
  // The link waits for the peer to acknowledge its first SETTINGS (proof it read our hello).
  peer.once('frame', (f: Frame) => {
    if (f.type === 'settings' && !f.ack) peer.sendFrames([{ type: 'settings', ack: true, values: [] }])
  })
  release(mine)
  await link.ready()
  const atOnce = link.request('m', undefined, { timeout: 1.5 })
  const atOnceLater = link.request('m', undefined, { timeout: 2500.7 })
  atOnce.catch(() => {})
  atOnceLater.catch(() => {})
  // Message ids of a link count from 1 in submit order.
  const queued = await wireDeadline(peer, 1)
  assert.ok(Number.isInteger(queued), `whole ms: ${queued}`)
  assert.ok(queued! >= 1 && queued! <= 2501, `the time spent waiting is not given back: ${queued}`)
  assert.equal(await wireDeadline(peer, 2), 2)
  assert.equal(await wireDeadline(peer, 3), 2501)
})

test('through a real server: the handler sees a whole-ms deadline no later than the caller’s', async () => {
  const dir = await makeRuntimeDir()
  after(() => dir.cleanup())
  const server = await listen('fractional', { runtimeDir: dir.path })
  after(() => server.close())
  server.handle('deadline', (_data, ctx) => ({ deadline: ctx.deadline, now: Date.now() }))
  // No waitForReady: the first call waits for the connection, so its remaining time is a fraction.
  const link = await connect('fractional', { runtimeDir: dir.path })
  after(() => link.close())
  for (const timeout of [2500.25, 1.5e3 + 0.5, undefined]) {
    const sentAt = Date.now()
    const seen = await link.request<{ deadline: number; now: number }>(
      'deadline',
      undefined,
      timeout === undefined ? {} : { timeout },
    )
    const asked = timeout ?? DEFAULT_CALL_TIMEOUT_MS
    assert.ok(Number.isInteger(seen.deadline), `whole ms: ${seen.deadline}`)
    // ctx.deadline is the handler's Date.now() plus the whole ms from the wire, read before `now`.
    const onWire = seen.deadline - seen.now
    assert.ok(onWire > 0 && onWire <= Math.ceil(asked), `${onWire} ms left of ${asked}`)
    assert.ok(seen.deadline >= sentAt + Math.ceil(asked) - 1000, `${seen.deadline - sentAt} ms after sending`)
  }
})

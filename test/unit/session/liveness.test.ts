/**
 * Liveness over a memory pair with real timers and a 200 ms keepalive (budget.keepaliveMs):
 * an idle session stays up on pings alone; a silent peer is closed with INACTIVITY_TIMEOUT; a
 * ping flood with KEEPALIVE_FLOOD. Waits are for observed events (records counted, pings seen,
 * onClose), never fixed sleeps.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type SwitchboardError, wireCodeOf } from '../../../src/errors.ts'
import type { SessionOptions } from '../../../src/session/options.ts'
import { Session } from '../../../src/session/session.ts'
import { memoryPair } from '../../../src/testing/memory-pair.ts'
import { ScriptedPeer, type ScriptedPeerOptions } from '../../../src/testing/scripted-peer.ts'
import { budget } from '../../budget.ts'
import { waitFor, withTimeout } from '../../helpers/wait.ts'

const keepaliveMs = budget.keepaliveMs
const options: SessionOptions = { limits: { keepaliveMs } }
/** Timers on a loaded 2-core machine fire late; allow this much beyond the protocol's own bound. */
const schedulingSlackMs = 200

interface Closing {
  /** Resolves with onClose's argument. */
  closed: Promise<SwitchboardError | undefined>
  calls: () => number
}

function closeWatcher(): Closing & { onClose(err: SwitchboardError | undefined): void } {
  let calls = 0
  let resolve!: (err: SwitchboardError | undefined) => void
  const closed = new Promise<SwitchboardError | undefined>((r) => {
    resolve = r
  })
  return {
    closed,
    calls: () => calls,
    onClose(err) {
      calls++
      resolve(err)
    },
  }
}

/** A Session (dialer) facing a scripted listener. */
async function againstScript(
  peerOptions: ScriptedPeerOptions = {},
  sessionOptions: SessionOptions = options,
): Promise<{ session: Session; peer: ScriptedPeer; watch: Closing }> {
  const [mine, theirs] = memoryPair()
  const peer = new ScriptedPeer(theirs, { role: 'listener', limits: { keepaliveMs }, ...peerOptions })
  const watch = closeWatcher()
  const session = await Session.establish(mine, 'dialer', sessionOptions, {
    onChannel: () => {},
    onClose: watch.onClose,
  })
  return { session, peer, watch }
}

test('an idle session stays open for 5 keepalive periods on pings alone, then closes cleanly', async () => {
  const [a, b] = memoryPair()
  const clientClose = closeWatcher()
  const serverClose = closeWatcher()
  const [client, server] = await Promise.all([
    Session.establish(a, 'dialer', options, { onChannel: () => {}, onClose: clientClose.onClose }),
    Session.establish(b, 'listener', options, { onChannel: () => {}, onClose: serverClose.onClose }),
  ])
  const start = performance.now()
  const periods = 5
  // Each side writes at least once per half keepalive (its ping or its pong), so 2 records per
  // period and side show the pings flowing; the elapsed time shows the periods passed.
  await waitFor(
    () =>
      client.state !== 'open' ||
      server.state !== 'open' ||
      (performance.now() - start >= periods * keepaliveMs &&
        client.getStats().recordsOut >= 2 * periods &&
        server.getStats().recordsOut >= 2 * periods),
    {
      what: `${periods} keepalive periods of pings`,
      timeoutMs: periods * keepaliveMs * 4 + budget.waitTimeoutMs,
      describe: () =>
        `client ${JSON.stringify(client.getStats())}, server ${JSON.stringify(server.getStats())}`,
    },
  )
  assert.equal(client.state, 'open', `client closed early: ${client.error?.code}`)
  assert.equal(server.state, 'open', `server closed early: ${server.error?.code}`)
  assert.ok(client.getStats().recordsIn >= 2 * periods)
  assert.ok(server.getStats().recordsIn >= 2 * periods)
  assert.equal(clientClose.calls() + serverClose.calls(), 0)
  await withTimeout(client.close(), budget.waitTimeoutMs, 'the client to close')
  await withTimeout(server.closed, budget.waitTimeoutMs, 'the server to see the close')
  assert.equal(await clientClose.closed, undefined)
  assert.equal(await serverClose.closed, undefined)
  assert.equal(clientClose.calls(), 1)
  assert.equal(serverClose.calls(), 1)
})

test('a peer that only answers pings keeps the session alive; a graceful close then ends it', async () => {
  const { session, peer, watch } = await againstScript({ answerPings: true })
  const pings = 6
  await waitFor(() => peer.framesOf('ping').length >= pings || session.state !== 'open', {
    what: `${pings} pings from the session`,
    describe: () => `${peer.framesOf('ping').length} pings, session ${session.state}`,
  })
  assert.equal(session.state, 'open', `closed with ${session.error?.code}`)
  await withTimeout(session.close(), budget.waitTimeoutMs, 'the graceful close')
  assert.equal(await watch.closed, undefined)
  const goaway = peer.framesOf('goaway')
  assert.deepEqual(
    goaway.map((f) => f.code),
    [wireCodeOf('GOING_AWAY')],
  )
  await withTimeout(peer.done, budget.waitTimeoutMs, 'the peer to see the transport close')
})

test('a peer silent after its hello is closed with INACTIVITY_TIMEOUT within about 2× keepalive', async () => {
  const start = performance.now()
  const { session, peer, watch } = await againstScript()
  const err = await withTimeout(watch.closed, budget.waitTimeoutMs, 'the inactivity timeout')
  const elapsed = performance.now() - start
  assert.equal(err?.code, 'INACTIVITY_TIMEOUT')
  assert.equal(session.state, 'closed')
  assert.equal(session.error, err)
  assert.ok(elapsed >= keepaliveMs - 20, `closed after ${elapsed.toFixed(0)} ms, before the keepalive`)
  assert.ok(
    elapsed <= 2 * keepaliveMs + schedulingSlackMs,
    `closed after ${elapsed.toFixed(0)} ms (keepalive ${keepaliveMs} ms)`,
  )
  await withTimeout(peer.done, budget.waitTimeoutMs, 'the peer to see the transport close')
  assert.ok(peer.framesOf('ping').length >= 1, 'the session pinged the silent peer first')
  assert.deepEqual(
    peer.framesOf('goaway').map((f) => f.code),
    [wireCodeOf('INACTIVITY_TIMEOUT')],
    'the peer was told why',
  )
  assert.equal(watch.calls(), 1)
  assert.equal(session.getStats().openChannels, 0)
  assert.equal(session.getStats().queuedBytes, 0)
})

test('pings in a tight loop close the session with KEEPALIVE_FLOOD', async () => {
  const { session, peer, watch } = await againstScript()
  peer.floodPings(50)
  const err = await withTimeout(watch.closed, budget.waitTimeoutMs, 'the flood to be detected')
  assert.equal(err?.code, 'KEEPALIVE_FLOOD')
  assert.equal(session.state, 'closed')
  await withTimeout(peer.done, budget.waitTimeoutMs, 'the peer to see the transport close')
  assert.deepEqual(
    peer.framesOf('goaway').map((f) => f.code),
    [wireCodeOf('KEEPALIVE_FLOOD')],
  )
  assert.ok(peer.framesOf('pong').length <= 4, 'no more than the tolerated pings were answered')
})

test('pings spaced at the keepalive interval are answered and never count as a flood', async () => {
  const { session, peer, watch } = await againstScript({ answerPings: true })
  let pongs = 0
  const rounds = 4
  for (let i = 0; i < rounds; i++) {
    // Wait for the session's own ping (every half keepalive), answer it and add one of ours.
    const seen = peer.framesOf('ping').length
    await waitFor(() => peer.framesOf('ping').length > seen || session.state !== 'open', {
      what: `the session's ping ${i + 1}`,
    })
    peer.sendFrames([{ type: 'ping', data: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, i) }])
    await waitFor(() => peer.framesOf('pong').length > pongs || session.state !== 'open', {
      what: `the pong to our ping ${i + 1}`,
    })
    pongs = peer.framesOf('pong').length
  }
  assert.equal(session.state, 'open', `closed with ${session.error?.code}`)
  assert.equal(pongs, rounds)
  assert.deepEqual([...peer.framesOf('pong')[rounds - 1]!.data], [0, 0, 0, 0, 0, 0, 0, rounds - 1])
  session.abort()
  assert.equal((await watch.closed)?.code, 'SESSION_CLOSED')
})

/**
 * Peers by name across real processes (docs/discovery.md): discovery in seeded random start
 * orders, requests spread over instances and moved off a killed one, fan-out to subscriber
 * processes with one joining mid-stream, and a killed peer leaving the directory.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type JoinedPeer, join } from '../../src/index.ts'
import { seededRandom } from '../../src/testing/fault-proxy.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'
import { PeerProcess } from './peer-process.ts'

let dir: RuntimeDir
const running: PeerProcess[] = []
const joined: JoinedPeer[] = []

before(async () => {
  dir = await makeRuntimeDir()
})
after(async () => {
  await Promise.allSettled(running.map((p) => p.kill()))
  await Promise.allSettled(joined.map((p) => p.leave()))
  await dir?.cleanup()
})

async function startPeer(name: string): Promise<PeerProcess> {
  const p = await PeerProcess.start(name, dir.path)
  running.push(p)
  return p
}

async function joinHere(name: string): Promise<JoinedPeer> {
  const peer = await join({ name, runtimeDir: dir.path })
  joined.push(peer)
  return peer
}

async function peersOf(p: PeerProcess): Promise<{ name: string; instance: string }[]> {
  const line = await p.ask({ cmd: 'peers' }, (l) => Array.isArray(l['peers']), 'its peers')
  return line['peers'] as { name: string; instance: string }[]
}

for (const seed of [11, 29, 47]) {
  test(`discovery: 2–5 peer processes in a seeded random start order (seed ${seed}) all see each other`, async () => {
    const random = seededRandom(seed)
    const n = 2 + Math.floor(random() * 4)
    const names = Array.from({ length: n }, (_, i) => `d${seed}-${i}`)
    // Fisher–Yates with the seeded generator: the start order.
    for (let i = names.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[names[i], names[j]] = [names[j]!, names[i]!]
    }
    const peers: PeerProcess[] = []
    for (const name of names) peers.push(await startPeer(name))
    const started = performance.now()
    // Each waits for its 'peers' events (or already listed the others when it joined).
    await Promise.all(
      peers.map((p) =>
        waitFor(async () => (await peersOf(p)).filter((x) => names.includes(x.name)).length === n - 1, {
          what: `${p.name} to see the ${n - 1} others`,
          timeoutMs: 10_000,
          intervalMs: 20,
        }),
      ),
    )
    const ms = performance.now() - started
    console.log(
      `seed ${seed}: ${n} peers started in order ${names.join(', ')}; all saw each other ${ms.toFixed(0)} ms after the last joined`,
    )
    await Promise.all(peers.map((p) => p.stop()))
  })
}

test('spread: 3 instances of a name share 3,000 idempotent requests (25–42% each); a killed one is skipped and every request settles once with a result', async () => {
  const instances = await Promise.all([1, 2, 3].map(() => startPeer('billing')))
  const client = await joinHere('client-spread')
  await waitFor(() => client.peers().filter((p) => p.name === 'billing').length === 3, {
    what: 'the client to see 3 billing instances',
  })
  const who = (): Promise<{ instance: string }> =>
    client.request<{ instance: string }>('billing', 'who', undefined, { idempotent: true, timeout: 10_000 })

  const served = new Map<string, number>()
  const results = await Promise.all(Array.from({ length: 3000 }, () => who()))
  for (const r of results) served.set(r.instance, (served.get(r.instance) ?? 0) + 1)
  console.log(`spread of 3,000 over 3 instances: ${[...served.values()].join(' / ')}`)
  assert.equal(served.size, 3)
  for (const [instance, count] of served) {
    assert.ok(count >= 750 && count <= 1260, `${instance} served ${count} of 3,000 (25–42%)`)
  }

  // Kill one mid-stream: its leave event marks the moment after which it may serve nothing.
  const victim = instances[2]!
  let leftAt = -1
  const settled: { instance: string; at: number }[] = []
  client.on('peers', (c) => {
    if (c.type === 'leave' && c.peer.instance === victim.instance) leftAt = settled.length
  })
  let outstanding = 0
  const all: Promise<void>[] = []
  for (let i = 0; i < 3000; i++) {
    if (i === 1000) await victim.kill()
    outstanding++
    all.push(
      who().then((r) => {
        outstanding--
        settled.push({ instance: r.instance, at: settled.length })
      }),
    )
    if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  await withTimeout(Promise.all(all), 30_000, 'every request to settle')
  assert.equal(outstanding, 0)
  assert.equal(settled.length, 3000, 'each of the 3,000 settled once, with a result')
  await waitFor(() => leftAt >= 0, { what: 'the leave event of the killed instance', timeoutMs: 10_000 })
  const afterLeave = settled.slice(leftAt).filter((s) => s.instance === victim.instance)
  assert.equal(afterLeave.length, 0, 'the killed instance served nothing after its leave event')
  console.log(
    `kill -9 mid-stream: the killed instance served ${settled.filter((x) => x.instance === victim.instance).length} of 3,000, none of the ${3000 - leftAt} after its leave event`,
  )
  assert.ok(!client.peers().some((p) => p.instance === victim.instance))
  await Promise.all(instances.slice(0, 2).map((p) => p.stop()))
})

test('fan-out: 4 subscriber processes and a 5th that subscribes mid-stream; each gets every event once, the 5th exactly those after its subscription took effect', async () => {
  const publisher = await startPeer('ticker')
  const subscribers = await Promise.all([1, 2, 3, 4].map((i) => startPeer(`watcher-${i}`)))
  await Promise.all(
    subscribers.map((s) =>
      s.ask({ cmd: 'subscribe', topic: 'ticks' }, (l) => l['subscribed'] === 'ticks', 'subscribe'),
    ),
  )
  const first = await publisher.ask(
    { cmd: 'publish', topic: 'ticks', from: 0, to: 1500 },
    (l) => l['published'] === 'ticks',
    'the first 1,500',
    30_000,
  )
  assert.ok(
    (first['delivered'] as number[]).every((d) => d === 4),
    'every event reached the 4 subscribers',
  )
  // The 5th: it subscribes while events flow; the harness orders: publisher running → the 5th
  // subscribes → its ready → the publisher's own count of receivers says where it took effect.
  const AT_LEAST = 12_000
  const late = await startPeer('watcher-late')
  const midway = publisher.next(
    (l) => l['progress'] === 'ticks' && (l['at'] as number) >= 3000,
    'events to flow',
  )
  const flowing = publisher.ask(
    // At least to 12,000, and on until 2,000 in a row reached the 5th too (however slow its start).
    {
      cmd: 'publish',
      topic: 'ticks',
      from: 1500,
      to: AT_LEAST,
      until: { receivers: 5, events: 2000, max: 200_000 },
    },
    (l) => l['published'] === 'ticks',
    'events from 1,500',
    60_000,
  )
  await midway
  await late.ask(
    { cmd: 'subscribe', topic: 'ticks' },
    (l) => l['subscribed'] === 'ticks',
    'the late subscription',
  )
  const second = await flowing
  const delivered = second['delivered'] as number[]
  const TOTAL = 1500 + delivered.length
  const at = delivered.indexOf(5)
  assert.ok(at > 1500, `the 5th took effect while events flowed (at ${1500 + at})`)
  const firstFor5 = 1500 + at
  assert.ok(
    delivered.slice(at).every((d) => d === 5),
    'from then on every event had 5 receivers',
  )
  assert.ok(
    delivered.slice(0, at).every((d) => d === 4),
    'and before, 4',
  )

  const receivedBy = async (p: PeerProcess): Promise<number[]> => {
    return waitForCount(p, p === late ? TOTAL - firstFor5 : TOTAL)
  }
  for (const s of subscribers) {
    const got = await receivedBy(s)
    assert.deepEqual(
      got,
      Array.from({ length: TOTAL }, (_, i) => i),
      `${s.name}: every event once, in order`,
    )
  }
  const got5 = await receivedBy(late)
  assert.deepEqual(
    got5,
    Array.from({ length: TOTAL - firstFor5 }, (_, i) => firstFor5 + i),
    'the 5th: every event from the one its subscription took effect on, none before, none twice',
  )
  console.log(`fan-out: the late subscriber's subscription took effect at event ${firstFor5}`)
  await Promise.all([publisher, ...subscribers, late].map((p) => p.stop()))
})

/** The values a subscriber process received on 'ticks', once it has `count` of them. */
async function waitForCount(p: PeerProcess, count: number): Promise<number[]> {
  let values: number[] = []
  await waitFor(
    async () => {
      const line = await p.ask(
        { cmd: 'received', topic: 'ticks' },
        (l) => l['received'] === 'ticks',
        'its events',
      )
      values = line['values'] as number[]
      return values.length >= count
    },
    {
      what: `${p.name} to receive ${count} events`,
      timeoutMs: 20_000,
      intervalMs: 50,
      describe: () => `${values.length}`,
    },
  )
  return values
}

test('a peer killed with kill -9 leaves the others’ peers(); a new peer with the same name is reachable at once', async () => {
  const watcher = await joinHere('watcher-kill')
  const doomed = await startPeer('phoenix')
  await waitFor(() => watcher.peers().some((p) => p.instance === doomed.instance), {
    what: 'the peer to appear',
  })
  await doomed.ask({ cmd: 'subscribe', topic: 'news' }, (l) => l['subscribed'] === 'news', 'its subscription')
  assert.equal((await watcher.publish('news', 'before')).delivered, 1)
  const killedAt = performance.now()
  const left = new Promise<void>((resolve) =>
    watcher.on('peers', (c) => {
      if (c.type === 'leave' && c.peer.instance === doomed.instance) resolve()
    }),
  )
  await doomed.kill()
  await withTimeout(left, 10_000, 'the leave event')
  console.log(`kill -9: the leave event came ${(performance.now() - killedAt).toFixed(0)} ms after the kill`)
  assert.ok(!watcher.peers().some((p) => p.name === 'phoenix'))
  // Its subscription is dropped at its leave: publishing does not wait for a subscriber that is gone.
  assert.deepEqual(await watcher.publish('news', 'after'), { delivered: 0, dropped: 0, failed: [] })
  const reborn = await startPeer('phoenix')
  const answer = await watcher.request<{ instance: string }>('phoenix', 'who', undefined, { timeout: 5000 })
  assert.equal(answer.instance, reborn.instance, 'the new instance answers')
  await reborn.stop()
})

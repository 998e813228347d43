/**
 * Fan-out delivery (docs/discovery.md §Fan-out): numbered events, a subscriber's stream that
 * outlives its connection, the four policies observed with a subscriber that stops reading, and
 * the publisher's report. A fault proxy between subscriber and publisher cuts the connection.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { connect, type Link, listen, type Server, type Subscription } from '../../src/index.ts'
import { type FaultProxy, startFaultProxy } from '../../src/testing/fault-proxy.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

let dir: RuntimeDir
const cleanups: (() => Promise<unknown> | undefined)[] = []

before(async () => {
  dir = await makeRuntimeDir()
})
after(async () => {
  for (const c of cleanups.reverse()) await c()
  await dir?.cleanup()
})

let serial = 0
async function publisher(options: Parameters<typeof listen>[1] = {}): Promise<Server> {
  const server = await listen(`unix:${join(dir.path, `pub-${++serial}.sock`)}`, options)
  cleanups.push(() => server.close())
  return server
}

async function proxied(server: Server): Promise<FaultProxy> {
  const proxy = await startFaultProxy({
    listen: `unix:${join(dir.path, `proxy-${++serial}.sock`)}`,
    target: server.address,
  })
  cleanups.push(() => proxy.close())
  return proxy
}

async function subscriberLink(address: string): Promise<Link> {
  const link = await connect(address, { waitForReady: true, backoffInitialMs: 20, backoffMaxMs: 50 })
  cleanups.push(() => link.close())
  return link
}

/** Cuts every connection through the proxy, and each new one at once, until the plan changes. */
function cutOff(proxy: FaultProxy): void {
  proxy.plan({ cutAfterBytes: { up: 0, down: 0 } })
  proxy.cutAll()
}

/** An outage of `ms`: cut off, then connections pass again. The duration is the scenario's. */
function outage(proxy: FaultProxy, ms: number): Promise<void> {
  cutOff(proxy)
  return new Promise((resolve) =>
    setTimeout(() => {
      proxy.plan({})
      resolve()
    }, ms),
  )
}

/** Reads `n` events from the subscription's one iterator, or fewer if it ends; and how it ended. */
async function drain<T>(sub: Subscription<T>, n: number): Promise<{ got: T[]; error: unknown }> {
  const it = iterators.get(sub) ?? sub[Symbol.asyncIterator]()
  iterators.set(sub, it)
  const got: T[] = []
  try {
    while (got.length < n) {
      const r = await it.next()
      if (r.done) break
      got.push(r.value as T)
    }
  } catch (err) {
    return { got, error: err }
  }
  return { got, error: undefined }
}
const iterators = new WeakMap<object, AsyncIterator<unknown>>()

test('no receivers is a result: { delivered: 0, dropped: 0, failed: [] }', async () => {
  const server = await publisher()
  assert.deepEqual(await server.publish('nobody', 1), { delivered: 0, dropped: 0, failed: [] })
})

test('block: a 200 ms cut loses nothing and doubles nothing (2,000 events, numbered, resumed)', async () => {
  const server = await publisher()
  const proxy = await proxied(server)
  const link = await subscriberLink(proxy.address)
  const got: number[] = []
  const sub = link.subscribe<number>('ticks', { onEvent: (n) => got.push(n) })
  await withTimeout(sub.ready, 5000, 'the subscription')
  let cutDone: Promise<void> | undefined
  for (let i = 0; i < 2000; i++) {
    if (i === 700) {
      cutDone = outage(proxy, 200)
    }
    const report = await server.publish('ticks', i)
    assert.equal(report.delivered, 1, `event ${i} delivered (written or queued for the subscriber)`)
    // Let the sockets move now and then, so the cut finds events in flight.
    if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  await cutDone
  await waitFor(() => got.length >= 2000, {
    what: 'all 2,000 events',
    timeoutMs: 10_000,
    describe: () => `${got.length}`,
  })
  assert.ok(proxy.accepted >= 2, 'the subscriber reconnected through the proxy after the cut')
  assert.deepEqual(
    got,
    Array.from({ length: 2000 }, (_, i) => i),
    'every event once, in order',
  )
  assert.equal(sub.dropped, 0)
})

test('block, a slow reader and two cuts: events queued and read across both resumes arrive once, in order', async () => {
  const server = await publisher()
  const proxy = await proxied(server)
  const link = await subscriberLink(proxy.address)
  const sub = link.subscribe<number>('slow', { maxQueued: 16 })
  await withTimeout(sub.ready, 5000, 'the subscription')
  const got: number[] = []
  const reading = (async () => {
    for await (const n of sub) {
      got.push(n)
      if (got.length % 7 === 0) await new Promise((resolve) => setImmediate(resolve)) // a slow reader
      if (got.length === 3000) break
    }
  })()
  const outages: Promise<void>[] = []
  for (let i = 0; i < 3000; i++) {
    if (i === 1000 || i === 2000) outages.push(outage(proxy, 100))
    const report = await server.publish('slow', i)
    assert.equal(report.failed.length, 0, `event ${i}: ${JSON.stringify(report.failed)}`)
    if (i % 25 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  await Promise.all(outages)
  await withTimeout(reading, 20_000, 'the reader to get 3,000 events')
  assert.deepEqual(
    got,
    Array.from({ length: 3000 }, (_, i) => i),
    'every event once, in order, across two resumes',
  )
  assert.equal(sub.dropped, 0)
  assert.ok(proxy.accepted >= 3, `reconnected after each cut (${proxy.accepted} connections)`)
})

test('a cut longer than publishTimeout: the waiting publish reports the subscriber failed; the subscriber hears PUBLISH_TIMEOUT', async () => {
  const server = await publisher({ publishTimeout: 300, maxQueuedBytesPerSubscriber: 8 })
  const proxy = await proxied(server)
  const link = await connect(proxy.address, {
    waitForReady: true,
    backoffInitialMs: 20,
    backoffMaxMs: 50,
    subscriberLabel: 'slow-one',
  })
  cleanups.push(() => link.close())
  const sub = link.subscribe<number>('ticks', { maxQueued: 4 })
  await withTimeout(sub.ready, 5000, 'the subscription')
  cutOff(proxy)
  const reports = []
  for (let i = 0; i < 40; i++) reports.push(server.publish('ticks', i))
  const all = await withTimeout(Promise.all(reports), 5000, 'the publishes to settle')
  const failed = all.flatMap((r) => r.failed)
  assert.ok(failed.length > 0, 'some publish waited for the subscriber and gave up')
  for (const f of failed) assert.deepEqual(f, { peer: 'slow-one', code: 'PUBLISH_TIMEOUT' })
  assert.equal(server.getStats().subscriptionsFailed, 1)
  // Later publishes skip it.
  assert.deepEqual(await server.publish('ticks', 'later'), { delivered: 0, dropped: 0, failed: [] })
  proxy.plan({})
  const { error } = await drain(sub, 1000)
  assert.equal(
    (error as { code?: string })?.code,
    'PUBLISH_TIMEOUT',
    'the subscriber’s iterator ends with the code',
  )
})

test('block with a subscriber that stops reading: publish waits, then PUBLISH_TIMEOUT ends that subscription', async () => {
  const server = await publisher({ publishTimeout: 200, maxQueuedBytesPerSubscriber: 32 })
  const link = await subscriberLink(server.address)
  const sub = link.subscribe<number>('t', { maxQueued: 4 })
  await withTimeout(sub.ready, 5000, 'the subscription')
  const reports = await withTimeout(
    Promise.all(Array.from({ length: 60 }, (_, i) => server.publish('t', i))),
    5000,
    'the publishes to settle',
  )
  const delivered = reports.filter((r) => r.delivered === 1).length
  const failed = reports.filter((r) => r.failed.length === 1)
  assert.ok(delivered >= 4 && failed.length > 0, `delivered ${delivered}, failed ${failed.length}`)
  assert.equal(failed[0]!.failed[0]!.code, 'PUBLISH_TIMEOUT')
  const { got, error } = await drain(sub, 100)
  assert.ok(got.length >= 4, 'what arrived before the failure is read first')
  assert.deepEqual(
    got,
    Array.from({ length: got.length }, (_, i) => i),
    'in order, no gap',
  )
  assert.equal((error as { code?: string })?.code, 'PUBLISH_TIMEOUT')
})

test('drop-newest: the publisher drops what does not fit; the subscriber counts the gap', async () => {
  const server = await publisher({ maxQueuedBytesPerSubscriber: 16 })
  const link = await subscriberLink(server.address)
  const sub = link.subscribe<number>('t', { maxQueued: 4, policy: 'drop-newest' })
  await withTimeout(sub.ready, 5000, 'the subscription')
  const reports = await Promise.all(Array.from({ length: 100 }, (_, i) => server.publish('t', i)))
  const dropped = reports.filter((r) => r.dropped === 1).length
  assert.ok(dropped > 0, 'some copies dropped')
  assert.equal(server.getStats().eventsDropped, dropped)
  const kept = 100 - dropped
  const { got } = await drain(sub, kept)
  assert.equal(got.length, kept)
  assert.deepEqual(
    got,
    [...got].sort((a, b) => a - b),
    'in publish order',
  )
  assert.equal(got[0], 0, 'the oldest ones were kept')
  // Reading made room: nothing is dropped any more; the next event shows the gap.
  assert.equal((await server.publish('t', 100)).delivered, 1)
  const { got: next } = await drain(sub, 1)
  assert.deepEqual(next, [100])
  assert.equal(sub.dropped, dropped, 'the subscriber counted every dropped event from the numbering')
})

test('drop-oldest: the newest are kept; the subscriber counts what was dropped', async () => {
  const server = await publisher({ maxQueuedBytesPerSubscriber: 16 })
  const link = await subscriberLink(server.address)
  const sub = link.subscribe<number>('t', { maxQueued: 4, policy: 'drop-oldest' })
  await withTimeout(sub.ready, 5000, 'the subscription')
  const reports = await Promise.all(Array.from({ length: 100 }, (_, i) => server.publish('t', i)))
  assert.ok(reports.every((r) => r.delivered === 1 && r.dropped === 0 && r.failed.length === 0))
  const dropped = server.getStats().eventsDropped
  assert.ok(dropped > 0, 'older events were dropped from the queue')
  const { got } = await drain(sub, 100 - dropped)
  assert.equal(got.at(-1), 99, 'the newest event arrived')
  assert.deepEqual(
    got,
    [...got].sort((a, b) => a - b),
    'in publish order',
  )
  assert.equal(sub.dropped, dropped)
})

test('disconnect: a subscriber that falls behind is cut off with SLOW_CONSUMER', async () => {
  const server = await publisher({ maxQueuedBytesPerSubscriber: 16 })
  const link = await subscriberLink(server.address)
  const sub = link.subscribe<number>('t', { maxQueued: 4, policy: 'disconnect' })
  await withTimeout(sub.ready, 5000, 'the subscription')
  const reports = await Promise.all(Array.from({ length: 100 }, (_, i) => server.publish('t', i)))
  const failed = reports.flatMap((r) => r.failed)
  assert.equal(failed.length, 1, 'the copy that overflowed failed it')
  assert.equal(failed[0]!.code, 'SLOW_CONSUMER')
  const { got, error } = await drain(sub, 100)
  assert.deepEqual(
    got,
    Array.from({ length: got.length }, (_, i) => i),
  )
  assert.equal((error as { code?: string })?.code, 'SLOW_CONSUMER')
})

test('an event larger than the subscriber’s maxMessageBytes is reported failed, and the subscription goes on', async () => {
  const server = await publisher()
  const link = await connect(server.address, { waitForReady: true, limits: { maxMessageBytes: 1024 } })
  cleanups.push(() => link.close())
  const got: unknown[] = []
  const sub = link.subscribe('t', (v) => got.push(v))
  await withTimeout(sub.ready, 5000, 'the subscription')
  const report = await server.publish('t', new Uint8Array(4096))
  assert.deepEqual(
    report.failed.map((f) => f.code),
    ['MESSAGE_TOO_LARGE'],
  )
  assert.equal((await server.publish('t', 'small')).delivered, 1)
  await waitFor(() => got.length === 1, { what: 'the small event' })
  assert.deepEqual(got, ['small'])
})

/**
 * The publisher's stream to one subscriber, with a fake connection and channel: numbering,
 * credit as acknowledgement, resume after a reconnect, the queue bound and the policies.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ErrorCode } from '../../../src/errors.ts'
import type { Channel } from '../../../src/mux/channel.ts'
import { msgpackCodec } from '../../../src/rpc/codec.ts'
import type { SubscribeRequest, SubscriptionPolicy } from '../../../src/rpc/subscribe-request.ts'
import { SubscriberRegistry } from '../../../src/rpc/subscriber-registry.ts'
import type { CopyOutcome, EventWriter, SubscriberStream } from '../../../src/rpc/subscriber-stream.ts'
import { waitFor } from '../../helpers/wait.ts'

class FakeWriter implements EventWriter {
  readonly codec = msgpackCodec
  remoteMaxMessageBytes = 1 << 20
  readonly sent: number[] = []
  transmit(
    _k: number,
    _t: string,
    _v: unknown,
    _b: Uint8Array,
    _s: AbortSignal | undefined,
    seq: number,
  ): void {
    this.sent.push(seq)
  }
}

function fakeChannel(): Channel & { resetCode: number | undefined } {
  const ch = {
    state: 'open',
    resetCode: undefined as number | undefined,
    reset(code: number) {
      ch.resetCode = code
      ch.state = 'closed'
    },
  }
  return ch as unknown as Channel & { resetCode: number | undefined }
}

class Outcomes implements CopyOutcome {
  readonly log: string[] = []
  delivered(): void {
    this.log.push('delivered')
  }
  dropped(): void {
    this.log.push('dropped')
  }
  failed(label: string, code: ErrorCode): void {
    this.log.push(`failed ${label} ${code}`)
  }
}

const body = (n: number): Uint8Array => new Uint8Array(n)

function setup(policy: SubscriptionPolicy, window: number, limits = {}) {
  const registry = new SubscriberRegistry({ publishTimeout: 40, maxQueuedBytesPerSubscriber: 10, ...limits })
  const request: SubscribeRequest = { window, policy, resume: false, resumeAfter: 0, label: 'sub-1' }
  const got = registry.subscribe('key', 'topic', request)
  assert.ok('stream' in got)
  const stream: SubscriberStream = got.stream
  const writer = new FakeWriter()
  const ch = fakeChannel()
  stream.attach(writer, ch, request, false)
  return { registry, stream, writer, ch, outcomes: new Outcomes() }
}

test('events are numbered from 1; the window bounds what is in flight; credit releases more', () => {
  const { stream, writer, ch, outcomes } = setup('block', 2, { maxQueuedBytesPerSubscriber: 1000 })
  for (let i = 0; i < 5; i++) stream.offer(2, body(1), outcomes)
  assert.deepEqual(writer.sent, [1, 2])
  assert.equal(stream.waiting, 3)
  stream.credited(ch, 2)
  assert.deepEqual(writer.sent, [1, 2, 3, 4])
  assert.deepEqual(outcomes.log, Array(5).fill('delivered'))
})

test('a resume sends again what was in flight above the subscriber’s last number, then the queue', () => {
  const { registry, stream, writer, ch, outcomes } = setup('block', 3, { maxQueuedBytesPerSubscriber: 1000 })
  for (let i = 0; i < 5; i++) stream.offer(2, body(1), outcomes) // 1,2,3 sent; 4,5 queued
  stream.detach(ch)
  stream.offer(2, body(1), outcomes) // 6 queued while away
  const again: SubscribeRequest = {
    window: 10,
    policy: 'block',
    resume: true,
    resumeAfter: 2,
    label: 'sub-1',
  }
  const resumed = registry.subscribe('key', 'topic', again)
  assert.ok('stream' in resumed && resumed.resumed && resumed.stream === stream)
  const writer2 = new FakeWriter()
  stream.attach(writer2, fakeChannel(), again, true)
  assert.deepEqual(writer2.sent, [3, 4, 5, 6], '1 and 2 arrived before the cut; 3 is sent again')
  assert.deepEqual(writer.sent, [1, 2, 3])
  // 1 and 2 are still held until the subscriber credits them on the new channel (it may not
  // have read them yet): a second cut before that must not lose them.
  assert.equal(registry.queuedBytes, 6, 'six one-byte events held')
  const ch2 = (stream as unknown as { ch: Channel }).ch
  stream.credited(ch2, 6)
  assert.equal(registry.queuedBytes, 0, 'all acknowledged')
})

test('a publisher that does not know a resuming subscriber numbers on from its last number', () => {
  const registry = new SubscriberRegistry()
  const req: SubscribeRequest = { window: 4, policy: 'block', resume: true, resumeAfter: 41, label: '' }
  const got = registry.subscribe('key', 'topic', req)
  assert.ok('stream' in got && !got.resumed)
  const writer = new FakeWriter()
  got.stream.attach(writer, fakeChannel(), req, false)
  got.stream.offer(2, body(1), new Outcomes())
  assert.deepEqual(writer.sent, [42])
})

test('block: a full queue holds the publish; credit admits it; no progress for publishTimeout fails the subscription', async () => {
  const { registry, stream, ch, outcomes } = setup('block', 1)
  stream.offer(2, body(1), outcomes) // sent
  stream.offer(2, body(6), outcomes) // queued
  stream.offer(2, body(6), outcomes) // over 10 bytes: blocked
  assert.deepEqual(outcomes.log, ['delivered', 'delivered'])
  stream.credited(ch, 1) // 2 goes out, 3 fits
  assert.deepEqual(outcomes.log, ['delivered', 'delivered', 'delivered'])
  stream.offer(2, body(6), outcomes) // blocked again, and nothing more is credited
  await waitFor(() => outcomes.log.length === 4, { what: 'the publish to give up' })
  assert.equal(outcomes.log[3], 'failed sub-1 PUBLISH_TIMEOUT')
  assert.equal(ch.resetCode, 54, 'the subscriber hears PUBLISH_TIMEOUT')
  assert.equal(registry.size, 0)
  assert.equal(registry.queuedBytes, 0, 'its held bytes were released')
  // It comes back asking to resume: the failure is remembered and told.
  const back = registry.subscribe('key', 'topic', {
    window: 1,
    policy: 'block',
    resume: true,
    resumeAfter: 2,
    label: '',
  })
  assert.deepEqual(back, { refused: 'PUBLISH_TIMEOUT' })
})

test('drop-newest skips a number (the gap the subscriber counts); drop-oldest drops the oldest queued', () => {
  const newest = setup('drop-newest', 1)
  newest.stream.offer(2, body(1), newest.outcomes) // 1 sent
  newest.stream.offer(2, body(8), newest.outcomes) // 2 queued
  newest.stream.offer(2, body(8), newest.outcomes) // dropped: 3
  newest.stream.credited(newest.ch, 1)
  newest.stream.offer(2, body(1), newest.outcomes) // 4
  newest.stream.credited(newest.ch, 1)
  assert.deepEqual(newest.writer.sent, [1, 2, 4])
  assert.deepEqual(newest.outcomes.log, ['delivered', 'delivered', 'dropped', 'delivered'])
  assert.equal(newest.registry.eventsDropped, 1)

  const oldest = setup('drop-oldest', 1)
  oldest.stream.offer(2, body(1), oldest.outcomes) // 1 sent
  oldest.stream.offer(2, body(8), oldest.outcomes) // 2 queued
  oldest.stream.offer(2, body(8), oldest.outcomes) // 3 queued, 2 dropped
  oldest.stream.credited(oldest.ch, 1)
  assert.deepEqual(oldest.writer.sent, [1, 3])
  assert.equal(oldest.registry.eventsDropped, 1)
})

test('disconnect: the overflowing copy fails the subscription with SLOW_CONSUMER', () => {
  const { stream, ch, outcomes, registry } = setup('disconnect', 1)
  stream.offer(2, body(1), outcomes)
  stream.offer(2, body(8), outcomes)
  stream.offer(2, body(8), outcomes)
  assert.deepEqual(outcomes.log, ['delivered', 'delivered', 'failed sub-1 SLOW_CONSUMER'])
  assert.equal(ch.resetCode, 47)
  assert.equal(registry.subscriptionsFailed, 1)
  stream.offer(2, body(1), outcomes)
  assert.equal(outcomes.log[3], 'failed sub-1 CANCELLED', 'an ended stream takes nothing')
})

test('a subscriber that does not come back within publishTimeout is given up', async () => {
  const { stream, ch, registry } = setup('block', 4)
  stream.detach(ch)
  await waitFor(() => registry.size === 0, { what: 'the grace period to end' })
  assert.equal(registry.subscriptionsFailed, 1)
})

test('an event over the subscriber’s maxMessageBytes fails that copy only', () => {
  const { stream, writer, outcomes } = setup('block', 4)
  writer.remoteMaxMessageBytes = 4
  stream.attach(
    writer,
    fakeChannel(),
    { window: 4, policy: 'block', resume: false, resumeAfter: 0, label: 'sub-1' },
    false,
  )
  stream.offer(2, body(5), outcomes)
  stream.offer(2, body(4), outcomes)
  assert.deepEqual(outcomes.log, ['failed sub-1 MESSAGE_TOO_LARGE', 'delivered'])
  assert.deepEqual(writer.sent, [1])
})

/**
 * Bounded memory under a receiver that stops reading (DESIGN.md §3 invariant 1), over a memory
 * pair: a sender that respects write()'s answer and onWritable never holds more than the
 * windows plus one record, stalls once the credit is used, and finishes intact once the
 * receiver consumes again. getStats() shows the load while in flight and zero after close.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { test } from 'node:test'
import type { Channel } from '../../../src/mux/channel.ts'
import { defaultMuxLimits } from '../../../src/mux/limits.ts'
import { Session } from '../../../src/session/session.ts'
import { memoryPair } from '../../../src/testing/memory-pair.ts'
import { MAX_RECORD_BODY } from '../../../src/wire/constants.ts'
import { budget } from '../../budget.ts'
import { waitFor, withTimeout } from '../../helpers/wait.ts'

const { channelWindow, connectionWindow } = defaultMuxLimits
const bound = channelWindow + connectionWindow + MAX_RECORD_BODY
const pieceBytes = 64 * 1024

/** The receiving side of one channel: holds bytes until released, then consumes as they come. */
class Receiver {
  readonly hash = createHash('sha256')
  bytes = 0
  held = 0
  fin = false
  reset: number | undefined
  private holding = true

  constructor(readonly ch: Channel) {
    ch.bind({
      onData: (data, fin) => {
        this.hash.update(data)
        this.bytes += data.length
        if (this.holding) this.held += data.length
        else ch.consume(data.length)
        if (fin) {
          this.fin = true
          ch.end()
        }
      },
      onEnd: () => {},
      onReset: (code) => {
        this.reset = code
      },
      onWritable: () => {},
    })
  }

  release(): void {
    this.holding = false
    const n = this.held
    this.held = 0
    this.ch.consume(n)
  }
}

/** Writes `body` in pieces, honouring write()'s answer; samples `sample` after each write and drain. */
class Sender {
  offset = 0
  blocked = false
  writableEvents = 0
  done = false

  constructor(
    readonly ch: Channel,
    readonly body: Uint8Array,
    private readonly sample: () => void,
  ) {
    ch.bind({
      onData: () => {},
      onEnd: () => {},
      onReset: () => {},
      onWritable: () => {
        this.writableEvents++
        this.sample()
        this.pump()
      },
    })
  }

  pump(): void {
    this.blocked = false
    while (this.offset < this.body.length) {
      const end = Math.min(this.offset + pieceBytes, this.body.length)
      const more = this.ch.write(this.body.subarray(this.offset, end), end === this.body.length)
      this.offset = end
      this.sample()
      if (!more) {
        this.blocked = this.offset < this.body.length
        return
      }
    }
    this.done = true
  }
}

async function setup(): Promise<{ client: Session; server: Session; receivers: Receiver[] }> {
  const receivers: Receiver[] = []
  const [a, b] = memoryPair()
  const [client, server] = await Promise.all([
    Session.establish(a, 'dialer', {}, { onChannel: () => {} }),
    Session.establish(b, 'listener', {}, { onChannel: (ch) => receivers.push(new Receiver(ch)) }),
  ])
  return { client, server, receivers }
}

/** Lets every event-loop turn's worth of in-flight work (deliveries, flushes) run out. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex')
}

test('a receiver that stops reading stalls the sender at the channel window; memory stays bounded', async () => {
  const { client, server, receivers } = await setup()
  let maxQueued = 0
  const sample = (): void => {
    maxQueued = Math.max(maxQueued, client.getStats().queuedBytes)
  }
  const body = new Uint8Array(randomBytes(budget.bigMessageBytes))
  const sender = new Sender(client.open({ kind: 0, method: 1, messageId: 1 }), body, sample)
  sender.pump()
  await waitFor(() => receivers[0]?.bytes === channelWindow && sender.blocked, {
    what: 'the receiver to hold one channel window and the sender to block',
    describe: () => `received ${receivers[0]?.bytes}, sender at ${sender.offset}, blocked ${sender.blocked}`,
  })
  const progress = sender.offset
  await turns(50)
  const receiver = receivers[0]!
  assert.equal(receiver.bytes, channelWindow, 'nothing beyond the window arrived')
  assert.equal(sender.offset, progress, 'the sender made no progress while stalled')
  assert.ok(sender.blocked)
  const stalled = client.getStats()
  assert.equal(stalled.openChannels, 1)
  assert.ok(stalled.queuedBytes > 0, 'bytes wait in the sender')
  assert.ok(stalled.bytesOut > channelWindow)
  assert.equal(stalled.sendCredit, connectionWindow - channelWindow)
  assert.equal(server.getStats().recvCredit, connectionWindow - channelWindow)
  assert.ok(maxQueued <= bound, `sender queued ${maxQueued} > ${bound}`)

  receiver.release()
  await waitFor(() => receiver.fin || receiver.reset !== undefined, {
    what: 'the transfer to finish after the receiver resumed',
    describe: () => `received ${receiver.bytes} of ${body.length}`,
  })
  assert.equal(receiver.reset, undefined)
  assert.equal(receiver.bytes, body.length)
  assert.equal(receiver.hash.digest('hex'), sha256(body), 'the body arrived intact')
  assert.ok(sender.writableEvents > 0)
  assert.ok(maxQueued <= bound, `sender queued ${maxQueued} > ${bound}`)
  assert.ok(maxQueued > 0)

  await withTimeout(client.close(), budget.waitTimeoutMs, 'the client to close')
  await withTimeout(server.closed, budget.waitTimeoutMs, 'the server to close')
  for (const s of [client, server]) {
    assert.equal(s.error, undefined, 'closed cleanly')
    const stats = s.getStats()
    assert.equal(stats.openChannels, 0)
    assert.equal(stats.queuedBytes, 0)
    assert.equal(stats.state, 'closed')
  }
})

test('several stalled channels stop at the connection window in total', async () => {
  const { client, server, receivers } = await setup()
  let maxQueued = 0
  const sample = (): void => {
    maxQueued = Math.max(maxQueued, client.getStats().queuedBytes)
  }
  const count = 6
  const bodies = Array.from({ length: count }, () => new Uint8Array(randomBytes(budget.bigMessageBytes / 4)))
  const senders = bodies.map(
    (body, i) => new Sender(client.open({ kind: 0, method: 1, messageId: i }), body, sample),
  )
  for (const s of senders) s.pump()
  const total = (): number => receivers.reduce((n, r) => n + r.bytes, 0)
  await waitFor(() => total() === connectionWindow && receivers.length === count, {
    what: 'the receivers to hold one connection window in total',
    describe: () => `received ${receivers.map((r) => r.bytes).join(', ')}`,
  })
  await turns(50)
  assert.equal(total(), connectionWindow, 'nothing beyond the connection window arrived')
  for (const r of receivers) assert.ok(r.bytes <= channelWindow, `channel ${r.ch.id} got ${r.bytes}`)
  assert.equal(client.getStats().sendCredit, 0)
  assert.ok(client.getStats().queuedBytes > 0)
  assert.equal(client.getStats().openChannels, count)
  assert.ok(maxQueued <= bound, `sender queued ${maxQueued} > ${bound}`)

  for (const r of receivers) r.release()
  await waitFor(() => receivers.every((r) => r.fin || r.reset !== undefined), {
    what: 'every transfer to finish',
    describe: () => `received ${receivers.map((r) => r.bytes).join(', ')}`,
  })
  for (const r of receivers) {
    const i = r.ch.header.messageId
    assert.equal(r.reset, undefined)
    assert.equal(r.hash.digest('hex'), sha256(bodies[i]!), `body ${i} intact`)
  }
  assert.ok(maxQueued <= bound, `sender queued ${maxQueued} > ${bound}`)
  await withTimeout(client.close(), budget.waitTimeoutMs, 'the client to close')
  await withTimeout(server.closed, budget.waitTimeoutMs, 'the server to close')
  assert.equal(client.getStats().openChannels, 0)
  assert.equal(client.getStats().queuedBytes, 0)
  assert.equal(server.getStats().openChannels, 0)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SwitchboardError } from '../../../src/errors.ts'
import { Session } from '../../../src/session/session.ts'
import { memoryPair } from '../../../src/testing/memory-pair.ts'
import { MessageKind } from '../../../src/wire/constants.ts'
import { withTimeout } from '../../helpers/wait.ts'
import { collect, echoHandler, sessionPair } from './session-fixtures.ts'

test('hello agrees on codec and both sides share the transcript', async () => {
  const [client, server] = await sessionPair(
    echoHandler(),
    { codecs: ['json', 'msgpack'] },
    { codecs: ['msgpack', 'json'] },
  )
  assert.equal(client.agreement?.codec, 'json', "the dialer's preference wins")
  assert.equal(server.agreement?.codec, 'json')
  assert.deepEqual(client.transcript, server.transcript)
  assert.equal(client.transcript?.length, 32)
  await client.close()
  await server.closed
})

test('no common codec is refused with NEGOTIATION_FAILED on both sides', async () => {
  const [a, b] = memoryPair()
  const results = await Promise.allSettled([
    Session.establish(a, 'dialer', { codecs: ['json'] }, { onChannel: () => {} }),
    Session.establish(b, 'listener', { codecs: ['msgpack'] }, { onChannel: () => {} }),
  ])
  for (const r of results) {
    assert.equal(r.status, 'rejected')
    assert.ok(r.reason instanceof SwitchboardError)
    assert.equal(r.reason.code, 'NEGOTIATION_FAILED')
  }
})

test('many channels at once echo their bodies intact', async () => {
  const [client, server] = await sessionPair(echoHandler())
  const replies: Promise<Buffer>[] = []
  const sent: Buffer[] = []
  for (let i = 0; i < 200; i++) {
    const body = Buffer.alloc(1 + ((i * 977) % 40_000), i & 0xff)
    sent.push(body)
    const ch = client.open({ kind: MessageKind.REQUEST, method: 1, messageId: i })
    replies.push(collect(ch))
    ch.write(body, true)
  }
  const got = await withTimeout(Promise.all(replies), 10_000, '200 echoes')
  for (const [i, g] of got.entries()) assert.ok(g.equals(sent[i]!), `echo ${i} intact`)
  assert.ok(client.getStats().recordsOut > 0)
  await client.close()
  await server.closed
  assert.equal(client.getStats().openChannels, 0)
  assert.equal(client.getStats().queuedBytes, 0)
})

test('a one-way channel closes on both sides after FIN without a reply', async () => {
  let received = 0
  const [client, server] = await sessionPair({
    onChannel(ch) {
      ch.bind({
        onData(data) {
          received += data.length
          ch.consume(data.length)
        },
        onEnd() {},
        onReset() {},
        onWritable() {},
      })
    },
  })
  for (let i = 0; i < 50; i++) {
    const ch = client.open({ kind: MessageKind.NOTIFY, method: 1, messageId: i, oneWay: true })
    ch.write(Buffer.alloc(100), true)
  }
  await client.close()
  await server.closed
  assert.equal(received, 5000)
  assert.equal(server.getStats().openChannels, 0)
})

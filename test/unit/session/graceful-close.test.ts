import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Session } from '../../../src/session/session.ts'
import { memoryPair } from '../../../src/testing/memory-pair.ts'
import { MessageKind } from '../../../src/wire/constants.ts'
import { withTimeout } from '../../helpers/wait.ts'

test('a graceful close ends as soon as the last channel is ended by the peer, not at closeTimeoutMs', async () => {
  const [a, b] = memoryPair()
  let reply: (() => void) | undefined
  const [dialer] = await Promise.all([
    Session.establish(a, 'dialer', { closeTimeoutMs: 30_000 }, { onChannel: () => {} }),
    Session.establish(
      b,
      'listener',
      {},
      {
        onChannel(ch) {
          ch.bind({
            onData: (data) => ch.consume(data.length),
            onEnd() {},
            onReset() {},
            onWritable() {},
          })
          reply = () => ch.write(Uint8Array.of(7), true)
        },
      },
    ),
  ])
  const ch = dialer.open({ kind: MessageKind.REQUEST, method: 1, messageId: 1 })
  let got = 0
  ch.bind({ onData: (d) => (got += d.length), onEnd() {}, onReset() {}, onWritable() {} })
  ch.write(Uint8Array.of(1), true)
  await withTimeout(
    new Promise<void>((resolve) => {
      const wait = (): void => (reply === undefined ? void setImmediate(wait) : resolve())
      wait()
    }),
    2_000,
    'the listener to see the channel',
  )
  const closing = dialer.close() // the channel is still open: its reply has not come
  assert.equal(dialer.state, 'closing')
  reply!() // the peer answers and ends the channel; we have nothing more to send
  await withTimeout(closing, 5_000, 'the graceful close to finish once the channel ended')
  assert.equal(got, 1)
  assert.equal(dialer.error, undefined, 'a clean close, not the close timeout cutting it')
})

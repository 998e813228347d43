/**
 * What the session tests share: a listener handler that echoes every channel, a pair of
 * sessions over memoryPair(), and a collector for one channel's reply.
 */
import type { Channel, ChannelHandler } from '../../../src/mux/channel.ts'
import type { SessionOptions } from '../../../src/session/options.ts'
import { Session, type SessionHandler } from '../../../src/session/session.ts'
import { memoryPair } from '../../../src/testing/memory-pair.ts'

/** A listener handler that echoes every channel's body back, then ends. */
export function echoHandler(): SessionHandler {
  return {
    onChannel(ch: Channel) {
      ch.bind({
        onData(data, fin) {
          if (data.length > 0) ch.write(data.slice())
          ch.consume(data.length)
          if (fin) ch.end()
        },
        onEnd() {},
        onReset() {},
        onWritable() {},
      })
    },
  }
}

/** A dialer and a listener session over an in-memory transport pair. */
export function sessionPair(
  serverHandler: SessionHandler,
  opts: SessionOptions = {},
  serverOpts: SessionOptions = opts,
): Promise<[Session, Session]> {
  const [a, b] = memoryPair()
  return Promise.all([
    Session.establish(a, 'dialer', opts, { onChannel: () => {} }),
    Session.establish(b, 'listener', serverOpts, serverHandler),
  ])
}

/** Collects a channel's reply; resolves with the bytes or rejects on END/RESET. */
export function collect(ch: Channel): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Uint8Array[] = []
    const handler: ChannelHandler = {
      onData(data, fin) {
        parts.push(data.slice())
        ch.consume(data.length)
        if (fin) resolve(Buffer.concat(parts))
      },
      onEnd: (status) => reject(new Error(`ended with status ${status}`)),
      onReset: (code) => reject(new Error(`reset with ${code}`)),
      onWritable() {},
    }
    ch.bind(handler)
  })
}

/**
 * The demo's server process. Listens on the unix socket given as argv[2] (its directory is the
 * owner-only runtime directory), prints `ready <address>`, runs a listener Session over the first
 * connection and exits when that connection closes.
 */
import { dirname } from 'node:path'
import type { Channel } from '../../src/mux/channel.ts'
import { Session, type SessionHandler } from '../../src/session/session.ts'
import { listen, parseAddress } from '../../src/transport/index.ts'
import { Method } from './protocol.ts'

const address = process.argv[2] ?? ''
const parsed = parseAddress(address)
if (parsed.kind !== 'unix') throw new Error(`expected a unix:/path address, got ${address}`)
const runtimeDir = dirname(parsed.path)

let ticks = 0

/** Echoes bytes back. While our send queue is full we hold the peer's credit, so it slows down. */
function echo(ch: Channel): void {
  let held = 0
  ch.bind({
    onData(data, fin) {
      if (data.length > 0) {
        // `data` is a view into a record: copy it, since write() keeps what it is given.
        if (ch.write(data.slice())) {
          ch.consume(held + data.length)
          held = 0
        } else {
          held += data.length
        }
      }
      if (fin) ch.end()
    },
    onWritable() {
      ch.consume(held)
      held = 0
    },
    onEnd() {},
    onReset() {},
  })
}

/** Counts one-way messages (one per channel, ended by FIN). */
function tick(ch: Channel): void {
  ch.bind({
    onData(data, fin) {
      ch.consume(data.length)
      if (fin) ticks++
    },
    onEnd() {},
    onReset() {},
    onWritable() {},
  })
}

/** Replies with the tick count once the request has ended. */
function count(ch: Channel): void {
  ch.bind({
    onData(data, fin) {
      ch.consume(data.length)
      if (fin) ch.write(Buffer.from(String(ticks)), true)
    },
    onEnd() {},
    onReset() {},
    onWritable() {},
  })
}

const handler: SessionHandler = {
  onChannel(ch) {
    if (ch.header.method === Method.ECHO) echo(ch)
    else if (ch.header.method === Method.TICK) tick(ch)
    else if (ch.header.method === Method.COUNT) count(ch)
    else ch.reset(1)
  },
  onClose(err) {
    if (err !== undefined) {
      console.error(`server: session closed with ${err.code}: ${err.message}`)
      process.exitCode = 1
    }
  },
}

function fail(err: unknown): never {
  console.error('server:', err instanceof Error ? err.message : err)
  process.exit(1)
}

// A safety net: never outlive the demo, even if the parent vanished without killing us.
setTimeout(() => fail('still running after 30 s'), 30_000).unref()

const listener = await listen(address, { runtimeDir }, (transport) => {
  void listener.close() // one client is enough: stop accepting (and remove the socket file)
  Session.establish(transport, 'listener', {}, handler).catch(fail)
}).catch(fail)
console.log(`ready ${listener.address}`)

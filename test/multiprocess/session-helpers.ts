/**
 * Helpers for the multi-process session tests: spawn test/fixtures/programs/session-server.ts,
 * wait for its "ready <address>" line, dial it and run a Session (dialer) in this process; open
 * channels and collect their replies.
 */
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import type { Channel } from '../../src/mux/channel.ts'
import { Session } from '../../src/session/session.ts'
import { dial } from '../../src/transport/dial.ts'
import type { DialOptions } from '../../src/transport/types.ts'
import { budget } from '../budget.ts'
import { startProgram } from '../helpers/child.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'
import { withTimeout } from '../helpers/wait.ts'

/** Method ids the fixture server understands (see its header). */
export const Method = { ECHO: 1, UPLOAD: 2, PROGRESS: 3 } as const

const serverProgram = fileURLToPath(new URL('../fixtures/programs/session-server.ts', import.meta.url))

export interface ServerProcess {
  address: string
  dialOptions: DialOptions
  /** Kills the child (if still running), waits for its exit and removes its runtime dir. */
  stop: () => Promise<void>
}

export type Flavour = 'unix' | 'tcp'

/** Starts the fixture server on a unix socket in a fresh runtime dir, or on tcp://127.0.0.1:0. */
export async function startServer(flavour: Flavour): Promise<ServerProcess> {
  if (flavour === 'tcp') {
    const child = await startProgram(serverProgram, ['tcp://127.0.0.1:0', '--insecure'], budget.waitTimeoutMs)
    return { address: child.ready, dialOptions: { insecure: true }, stop: () => child.kill() }
  }
  const dir = await makeRuntimeDir('sb-mp-')
  try {
    const child = await startProgram(
      serverProgram,
      ['session-test', '--runtime-dir', dir.path],
      budget.waitTimeoutMs,
    )
    return {
      address: child.ready,
      dialOptions: { runtimeDir: dir.path },
      stop: async () => {
        await child.kill()
        await dir.cleanup()
      },
    }
  } catch (err) {
    await dir.cleanup()
    throw err
  }
}

/** Dials the server and establishes a dialer Session. */
export async function connect(server: ServerProcess): Promise<Session> {
  const transport = await dial(server.address, server.dialOptions)
  return Session.establish(transport, 'dialer', {}, { onChannel: (ch) => ch.reset(37) })
}

/** Sends `body` on a new echo channel and resolves with the reply. */
export function echo(session: Session, body: Uint8Array, messageId: number): Promise<Buffer> {
  const ch = session.open({ kind: 0, method: Method.ECHO, messageId })
  const reply = collect(ch)
  ch.write(body, true)
  return reply
}

/** Collects a channel's reply until FIN; rejects on END with a status or RESET. */
export function collect(ch: Channel, onWritable: () => void = () => {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Uint8Array[] = []
    ch.bind({
      onData(data, fin) {
        parts.push(data.slice())
        ch.consume(data.length)
        if (fin) resolve(Buffer.concat(parts))
      },
      onEnd: (status) => reject(new Error(`channel ${ch.id} ended with status ${status}`)),
      onReset: (code) => reject(new Error(`channel ${ch.id} reset with ${code}`)),
      onWritable,
    })
  })
}

/** Closes the session gracefully and checks it closed cleanly. */
export async function closeClean(session: Session): Promise<void> {
  await withTimeout(session.close(), budget.waitTimeoutMs, 'the session to close')
  assert.equal(session.error, undefined, `closed with ${session.error?.code}: ${session.error?.message}`)
  assert.equal(session.getStats().openChannels, 0)
  assert.equal(session.getStats().queuedBytes, 0)
}

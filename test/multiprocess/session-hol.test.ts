/**
 * Head-of-line blocking across two OS processes over real sockets (unix and TCP): while a
 * 256 MiB upload (budget.bigTransferBytes) streams on one channel, 1,000 small echo channels
 * open and all finish before half of the upload has even been written; then the upload
 * completes with a matching SHA-256. The server is test/fixtures/programs/session-server.ts.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { test } from 'node:test'
import type { Channel } from '../../src/mux/channel.ts'
import type { Session } from '../../src/session/session.ts'
import { budget } from '../budget.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'
import { closeClean, collect, connect, echo, type Flavour, Method, startServer } from './session-helpers.ts'

const KiB = 1024
const MiB = 1024 * KiB
const total = budget.bigTransferBytes
/** The small requests start once this much of the upload reached the server. */
const startSmallAt = total / 16
/** Generous: a loaded 2-core machine moves well over 50 MiB/s through two processes. */
const transferTimeoutMs = Math.max(budget.waitTimeoutMs, (total / MiB) * 100)

/** Generated upload chunks: 64 KiB views of an 8 MiB random pool, in a scrambled order. */
const pieceBytes = 64 * KiB
const pool = new Uint8Array(randomBytes(8 * MiB))
function piece(i: number): Uint8Array {
  const slot = (i * 37) % (pool.length / pieceBytes)
  return pool.subarray(slot * pieceBytes, (slot + 1) * pieceBytes)
}

/** Writes `total` bytes on `ch`, honouring write()'s answer; hashes what it wrote. */
class Upload {
  readonly hash = createHash('sha256')
  written = 0
  private index = 0

  constructor(private readonly ch: Channel) {}

  pump(): void {
    while (this.written < total) {
      const chunk = piece(this.index++).subarray(0, Math.min(pieceBytes, total - this.written))
      this.written += chunk.length
      this.hash.update(chunk)
      if (!this.ch.write(chunk, this.written === total)) return
    }
  }
}

/** Opens the progress channel: the server writes its received byte count (u64 BE) on it. */
function watchProgress(session: Session): { received: () => number; ended: Promise<void>; end: () => void } {
  const ch = session.open({ kind: 0, method: Method.PROGRESS, messageId: 0 })
  let received = 0
  let pending = Buffer.alloc(0)
  let resolveEnded!: () => void
  const ended = new Promise<void>((resolve) => {
    resolveEnded = resolve
  })
  ch.bind({
    onData(data, fin) {
      if (fin) resolveEnded()
      ch.consume(data.length)
      pending = Buffer.concat([pending, data])
      while (pending.length >= 8) {
        received = Number(pending.readBigUInt64BE(0))
        pending = pending.subarray(8)
      }
    },
    onEnd() {},
    onReset() {},
    onWritable() {},
  })
  ch.write(new Uint8Array(0)) // sends the OPEN; our direction stays open
  return { received: () => received, ended, end: () => ch.end() }
}

for (const flavour of ['unix', 'tcp'] as const satisfies readonly Flavour[]) {
  test(`${flavour}: ${budget.smallMessages} small echoes finish while a ${total / MiB} MiB upload is under way`, async (t) => {
    const server = await startServer(flavour)
    t.after(() => server.stop())
    const session = await connect(server)
    const progress = watchProgress(session)

    const uploadCh = session.open({ kind: 0, method: Method.UPLOAD, messageId: 1 })
    const upload = new Upload(uploadCh)
    const result = collect(uploadCh, () => upload.pump())
    result.catch(() => {}) // awaited below; a failure before then must not be unhandled
    upload.pump()

    await waitFor(() => progress.received() >= startSmallAt || session.state !== 'open', {
      what: `the server to report ${startSmallAt / MiB} MiB of the upload`,
      timeoutMs: transferTimeoutMs,
      describe: () => `server has ${progress.received()}, client wrote ${upload.written}`,
    })
    assert.equal(session.state, 'open')

    const started = performance.now()
    const echoes: Promise<void>[] = []
    for (let i = 0; i < budget.smallMessages; i++) {
      const body = new Uint8Array(randomBytes(budget.smallMessageBytes))
      echoes.push(
        echo(session, body, 2 + i).then((reply) => {
          assert.ok(reply.equals(body), `echo ${i} intact`)
        }),
      )
    }
    await withTimeout(Promise.all(echoes), transferTimeoutMs, `${budget.smallMessages} echoes`)
    const echoMs = performance.now() - started
    const writtenAtEchoes = upload.written
    // The client cannot have written less than the server received, so this bounds the server too.
    assert.ok(
      writtenAtEchoes < total / 2,
      `the echoes took ${echoMs.toFixed(0)} ms and finished only after ${writtenAtEchoes} of ${total} bytes were written`,
    )
    assert.ok(progress.received() <= writtenAtEchoes)

    const reply = JSON.parse(
      (await withTimeout(result, transferTimeoutMs, 'the upload to finish')).toString(),
    )
    assert.equal(reply.bytes, total)
    assert.equal(reply.sha256, upload.hash.digest('hex'), 'the upload arrived intact')
    assert.ok(session.getStats().bytesOut > total)
    progress.end()
    await withTimeout(progress.ended, budget.waitTimeoutMs, 'the progress channel to end')
    await closeClean(session)
    t.diagnostic(
      `${flavour}: echoes done in ${echoMs.toFixed(0)} ms at ${(writtenAtEchoes / MiB).toFixed(1)} MiB written`,
    )
  })
}

/**
 * One conformance suite for every Transport adapter. `makePair` returns two connected transports,
 * not yet bound, and a cleanup function; every test makes its own pair.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isSwitchboardError } from '../../src/errors.ts'
import type { Transport, TransportEvents } from '../../src/transport/types.ts'

export interface TransportPair {
  /** The dialing side. */
  readonly a: Transport
  /** The accepting side. */
  readonly b: Transport
  /** Tears both ends down and frees the address. */
  close(): Promise<void>
}

const WAIT_MS = 15_000

/** Records a transport's events and lets a test wait for a condition on them. */
export class Probe implements TransportEvents {
  received = 0
  drains = 0
  readonly chunks: Uint8Array[] = []
  readonly closes: (Error | undefined)[] = []
  /** Called for each chunk before it is recorded. */
  onData: ((chunk: Uint8Array) => void) | undefined
  private readonly waiters = new Set<() => void>()

  private readonly keep: boolean

  /** `keep` false counts bytes without keeping the chunks. */
  constructor(keep = true) {
    this.keep = keep
  }

  data(chunk: Uint8Array): void {
    this.onData?.(chunk)
    this.received += chunk.length
    if (this.keep) this.chunks.push(chunk)
    this.notify()
  }

  drain(): void {
    this.drains++
    this.notify()
  }

  close(err: Error | undefined): void {
    this.closes.push(err)
    this.notify()
  }

  text(): string {
    return Buffer.concat(this.chunks).toString()
  }

  /**
   * Resolves when `cond()` holds, checked after every event and every 5 ms (some conditions,
   * such as writableLength reaching 0 on a TLS socket, change without an event); rejects after `ms`.
   */
  until(cond: () => boolean, label: string, ms = WAIT_MS): Promise<void> {
    if (cond()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!cond()) return
        this.waiters.delete(check)
        clearTimeout(timer)
        clearInterval(poll)
        resolve()
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        clearInterval(poll)
        reject(new Error(`timed out waiting for ${label}`))
      }, ms)
      const poll = setInterval(check, 5)
      this.waiters.add(check)
    })
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}

/** Lets `n` turns of the event loop (including I/O polling) pass. */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

function bind(t: Transport, keep = true): Probe {
  const probe = new Probe(keep)
  t.bind(probe)
  return probe
}

function pattern(offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = (offset + i) % 251
  return out
}

/** Verifies received bytes continue the pattern; returns the new offset. */
function checkPattern(chunk: Uint8Array, offset: number): number {
  for (let i = 0; i < chunk.length; i++) {
    if (chunk[i] !== (offset + i) % 251) throw new Error(`byte ${offset + i} is ${chunk[i]}`)
  }
  return offset + chunk.length
}

async function withPair(makePair: () => Promise<TransportPair>, body: (p: TransportPair) => Promise<void>) {
  const pair = await makePair()
  try {
    await body(pair)
  } finally {
    await pair.close()
  }
}

export function runTransportConformance(name: string, makePair: () => Promise<TransportPair>): void {
  describe(`transport conformance: ${name}`, () => {
    it('echoes bytes both ways, single chunks and batches', () =>
      withPair(makePair, async ({ a, b }) => {
        const pa = bind(a)
        const pb = bind(b)
        pb.onData = (chunk) => b.write([chunk])
        a.write([Buffer.from('hello ')])
        a.write([Buffer.from('wor'), Buffer.from('ld'), new Uint8Array(0), Buffer.from('!')])
        await pa.until(() => pa.received === 12, 'echo')
        assert.equal(pa.text(), 'hello world!')
        assert.equal(pb.text(), 'hello world!')
        assert.equal(typeof a.remote, 'string')
        assert.ok(a.remote.length > 0 && b.remote.length > 0)
      }))

    it('moves 8 MiB with backpressure (write false -> wait drain) and pause/resume', () =>
      withPair(makePair, async ({ a, b }) => {
        const total = 8 * 1024 * 1024
        const piece = 16 * 1024
        const pa = bind(a)
        const pb = bind(b, false)
        let checked = 0
        pb.onData = (chunk) => {
          checked = checkPattern(chunk, checked)
        }
        b.pause()
        let paused = true
        let sent = 0
        let falses = 0
        let sawBuffered = false
        while (sent < total) {
          const batch: Uint8Array[] = []
          for (let k = 0; k < 4 && sent < total; k++, sent += piece) batch.push(pattern(sent, piece))
          const drains = pa.drains
          if (!a.write(batch)) {
            falses++
            if (a.writableLength > 0) sawBuffered = true
            // Resume the reader only once the sender is really blocked (the OS buffers are full).
            if (paused && sawBuffered) {
              await turns(5)
              assert.equal(pb.received, 0, 'a paused transport delivers no data')
              b.resume()
              paused = false
            }
            await pa.until(() => pa.drains > drains, 'drain')
          }
        }
        if (paused) b.resume()
        await pb.until(() => pb.received === total, '8 MiB received')
        assert.equal(checked, total)
        assert.ok(falses > 0, 'write() returned false at least once')
        assert.ok(sawBuffered, 'writableLength was above zero while blocked')
      }))

    it('reports writableLength until flushed', () =>
      withPair(makePair, async ({ a, b }) => {
        const size = 16 * 1024 * 1024
        const pa = bind(a)
        const pb = bind(b, false)
        b.pause()
        assert.equal(a.writableLength, 0)
        const drains = pa.drains
        assert.equal(a.write([new Uint8Array(size)]), false)
        assert.ok(a.writableLength > 0, `writableLength ${a.writableLength}`)
        b.resume()
        await pa.until(() => pa.drains > drains, 'drain')
        assert.equal(a.writableLength, 0)
        await pb.until(() => pb.received === size, 'all bytes')
      }))

    it('close() flushes pending writes, then both sides see one clean close', () =>
      withPair(makePair, async ({ a, b }) => {
        const size = 1024 * 1024
        const pa = bind(a)
        const pb = bind(b, false)
        a.write([pattern(0, size)])
        a.close()
        a.close()
        assert.equal(a.write([Buffer.from('late')]), false)
        await pb.until(() => pb.closes.length > 0, 'b close')
        assert.equal(pb.received, size, 'every byte written before close() arrived')
        await pa.until(() => pa.closes.length > 0, 'a close')
        a.abort()
        a.close()
        await turns(10)
        assert.deepEqual(pa.closes, [undefined])
        assert.deepEqual(pb.closes, [undefined])
      }))

    it('sees the remote close', () =>
      withPair(makePair, async ({ a, b }) => {
        const pa = bind(a)
        bind(b)
        b.write([Buffer.from('bye')])
        b.close()
        await pa.until(() => pa.closes.length === 1, 'a sees the remote close')
        assert.equal(pa.text(), 'bye')
        assert.equal(pa.closes[0], undefined)
        assert.equal(a.write([Buffer.from('x')]), false, 'writes after the peer ended are dropped')
      }))

    it('abort(err) closes at once with the error; the peer sees one close', () =>
      withPair(makePair, async ({ a, b }) => {
        const pa = bind(a)
        const pb = bind(b)
        const boom = new Error('boom')
        a.abort(boom)
        a.abort(new Error('second'))
        a.close()
        assert.equal(a.write([Buffer.from('x')]), false)
        await pa.until(() => pa.closes.length === 1, 'a close')
        const err = pa.closes[0]
        assert.ok(isSwitchboardError(err, 'TRANSPORT_ERROR'), String(err))
        assert.equal(err.cause, boom)
        await pb.until(() => pb.closes.length === 1, 'b close')
        await turns(10)
        assert.equal(pa.closes.length, 1)
        assert.equal(pb.closes.length, 1)
      }))

    it('abort() passes a SwitchboardError through, and abort() without error closes with undefined', () =>
      withPair(makePair, async ({ a, b }) => {
        const pa = bind(a)
        const pb = bind(b)
        const { sbError } = await import('../../src/errors.ts')
        const reason = sbError('PROTOCOL_ERROR', 'bad frame')
        a.abort(reason)
        b.abort()
        await pa.until(() => pa.closes.length === 1, 'a close')
        await pb.until(() => pb.closes.length === 1, 'b close')
        assert.equal(pa.closes[0], reason)
        assert.equal(pb.closes[0], undefined)
      }))

    it('holds data that arrives before bind()', () =>
      withPair(makePair, async ({ a, b }) => {
        const pa = bind(a)
        a.write([Buffer.from('early '), Buffer.from('bytes')])
        await pa.until(() => a.writableLength === 0, 'flushed')
        await turns(20)
        const pb = bind(b)
        await pb.until(() => pb.received === 11, 'early bytes')
        assert.equal(pb.text(), 'early bytes')
      }))

    it('holds bytes and a graceful close() that arrive before bind(), in order', () =>
      withPair(makePair, async ({ a, b }) => {
        const pa = bind(a)
        a.write([Buffer.from('last '), Buffer.from('words')])
        a.close()
        await turns(20)
        assert.deepEqual(pa.closes, [], 'the closing side waits for the other end to read its end')
        const pb = bind(b)
        await pb.until(() => pb.closes.length === 1, 'b close')
        assert.equal(pb.text(), 'last words', 'every byte written before close() arrived first')
        assert.deepEqual(pb.closes, [undefined])
        await pa.until(() => pa.closes.length === 1, 'a close')
        assert.deepEqual(pa.closes, [undefined])
      }))

    it('reports a close that happened before bind() once bound', () =>
      withPair(makePair, async ({ a, b }) => {
        const pa = bind(a)
        a.abort()
        await pa.until(() => pa.closes.length === 1, 'a close')
        await turns(20)
        const pb = bind(b)
        await pb.until(() => pb.closes.length === 1, 'b close')
        await turns(10)
        assert.equal(pb.closes.length, 1)
        assert.throws(
          () => b.bind(new Probe()),
          (err: unknown) => isSwitchboardError(err, 'INVALID_ARGUMENT'),
        )
      }))
  })
}

/**
 * The CLI's output pieces on their own: the progress bar (with a fake clock, so redraw
 * throttling is checked without waiting), result JSON for values JSON lacks, and the event log
 * in both forms.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, describe, test } from 'node:test'
import { toJsonLine } from '../../src/cli/json-output.ts'
import { humanLog, jsonLinesLog } from '../../src/cli/log.ts'
import { formatBytes, ProgressBar } from '../../src/cli/progress.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'

function sink(): { out: Writable; writes: string[] } {
  const writes: string[] = []
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      writes.push(chunk.toString())
      done()
    },
  })
  return { out, writes }
}

describe('progress bar', () => {
  test('formatBytes picks binary units', () => {
    assert.equal(formatBytes(0), '0 B')
    assert.equal(formatBytes(1023), '1023 B')
    assert.equal(formatBytes(1536), '1.5 KiB')
    assert.equal(formatBytes(5 * 1024 * 1024), '5.0 MiB')
    assert.equal(formatBytes(3 * 1024 ** 3), '3.0 GiB')
    assert.equal(formatBytes(2 * 1024 ** 5), '2048.0 TiB')
  })

  test('redraws at most once per interval, then once more with a newline at the end', async () => {
    let now = 0
    const { out, writes } = sink()
    const bar = new ProgressBar(out, { total: 4096, intervalMs: 100, now: () => now })
    async function* chunks() {
      for (let i = 0; i < 8; i++) {
        now += 30 // 8 chunks of 512 bytes, one every 30 ms: draws at 30 ms and 150 ms, then the final one at 240 ms
        yield new Uint8Array(512)
      }
    }
    let received = 0
    for await (const c of bar.track(chunks())) received += c.length
    assert.equal(received, 4096, 'the chunks pass through unchanged')
    assert.equal(writes.length, 3, JSON.stringify(writes))
    assert.equal(writes[0], '\r[##..................]  12%  512 B / 4.0 KiB  16.7 KiB/s\u001b[K')
    assert.equal(writes[1], '\r[############........]  62%  2.5 KiB / 4.0 KiB  16.7 KiB/s\u001b[K')
    assert.equal(writes[2], '\r[####################] 100%  4.0 KiB / 4.0 KiB  16.7 KiB/s\u001b[K\n')
  })

  test('without a total: bytes and rate only; a failing source still ends the line', async () => {
    let now = 0
    const { out, writes } = sink()
    const bar = new ProgressBar(out, { now: () => now })
    async function* failing() {
      now += 500
      yield new Uint8Array(2048)
      throw new Error('source broke')
    }
    await assert.rejects(async () => {
      for await (const _ of bar.track(failing()));
    }, /source broke/)
    assert.deepEqual(writes, ['\r2.0 KiB  4.0 KiB/s\u001b[K', '\r2.0 KiB  4.0 KiB/s\u001b[K\n'])
  })
})

describe('result JSON', () => {
  test('plain values print as JSON.stringify would', () => {
    assert.equal(toJsonLine({ a: [1, 'x', null, true] }), '{"a":[1,"x",null,true]}')
    assert.equal(toJsonLine('text'), '"text"')
  })

  test('values JSON lacks are mapped, not dropped', () => {
    assert.equal(toJsonLine(undefined), 'null')
    assert.equal(toJsonLine(2n ** 70n), '"1180591620717411303424"')
    assert.equal(toJsonLine(new Map<string, unknown>([['k', new Set([1, 2])]])), '{"k":[1,2]}')
    assert.equal(toJsonLine(new Date(0)), '"1970-01-01T00:00:00.000Z"')
    const bytes = Buffer.from('hello')
    assert.equal(toJsonLine(bytes), '{"base64":"aGVsbG8="}')
    // A view into a larger buffer prints only its own bytes.
    const view = new Uint8Array(Buffer.from('xxhelloxx').buffer, Buffer.from('xxhelloxx').byteOffset + 2, 5)
    assert.equal(toJsonLine({ view }), '{"view":{"base64":"aGVsbG8="}}')
  })
})

describe('event log', () => {
  test('human lines: time, event, then key=value (quoted when it has spaces)', async () => {
    const { out, writes } = sink()
    const log = humanLog(out, () => new Date(Date.UTC(2026, 10, 22, 1, 2, 3, 4)))
    log.write('connect', { id: 1, connections: 2, skipped: undefined })
    log.write('error', { code: 'X', message: 'two words' })
    await log.close()
    assert.deepEqual(writes, [
      '2026-11-22T01:02:03.004Z connect id=1 connections=2\n',
      '2026-11-22T01:02:03.004Z error code=X message="two words"\n',
    ])
  })

  test('JSON lines are appended to the file and flushed by close()', async () => {
    const dir = await makeRuntimeDir()
    after(() => dir.cleanup())
    const path = join(dir.path, 'events.jsonl')
    const clock = () => new Date(Date.UTC(2026, 0, 1))
    const first = await jsonLinesLog(path, clock)
    first.write('listening', { address: 'unix:/x' })
    await first.close()
    const second = await jsonLinesLog(path, clock)
    second.write('connect', { id: 1, reason: undefined })
    await second.close()
    assert.equal(
      await readFile(path, 'utf8'),
      '{"time":"2026-01-01T00:00:00.000Z","event":"listening","address":"unix:/x"}\n' +
        '{"time":"2026-01-01T00:00:00.000Z","event":"connect","id":1}\n',
    )
  })

  test('a file that cannot be opened fails at once with the system code', async () => {
    await assert.rejects(jsonLinesLog('/nonexistent-dir-for-switchboard/x.log'), { code: 'ENOENT' })
  })
})

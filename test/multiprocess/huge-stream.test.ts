/**
 * Invariant 1 (bounded memory): a 4 GiB request body (seeded pseudo-random bytes, compression
 * off) streams from this process to a `sink` handler in another; SHA-256 matches on both sides
 * and each process's RSS, sampled every 100 ms, stays under 256 MiB. Prints MB/s and max RSS.
 */
import assert from 'node:assert/strict'
import { createCipheriv, createHash } from 'node:crypto'
import { after, test } from 'node:test'
import { connect, type Link } from '../../src/index.ts'
import { budget } from '../budget.ts'
import { type Child, startProgram } from '../helpers/child.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'

const MiB = 1024 * 1024
const RSS_LIMIT = 256 * MiB
const CHUNK = 256 * 1024
const POOL = 16 * MiB

let server: Child | undefined
let dir: RuntimeDir | undefined
let link: Link | undefined
after(async () => {
  await link?.close()
  await server?.kill()
  await dir?.cleanup()
})

/**
 * `total` seeded pseudo-random bytes in CHUNK-sized pieces. Generating 4 GiB costs as much CPU as
 * hashing it, so the bytes come from a POOL of AES-128-CTR keystream made once from the seed,
 * and each chunk is the pool window at an offset drawn from a seeded xorshift32: the stream is
 * a deterministic function of the seed, never repeats a fixed period, and costs no copy (the
 * pool is never written again, so the library may hold any chunk as long as it likes).
 */
function* seededBytes(seed: string, total: number): Generator<Uint8Array> {
  const key = createHash('sha256').update(seed).digest()
  const pool = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16)).update(Buffer.alloc(POOL))
  let x = key.readUInt32LE(0) || 1
  for (let sent = 0; sent < total; sent += CHUNK) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    const offset = x % (POOL - CHUNK)
    yield pool.subarray(offset, offset + Math.min(CHUNK, total - sent))
  }
}

/** Passes every chunk to `see` on its way to the library. */
async function* hashing(source: Iterable<Uint8Array>, see: (c: Uint8Array) => void) {
  for (const chunk of source) {
    see(chunk)
    yield chunk
  }
}

test(`a ${budget.hugeStreamBytes / MiB} MiB stream: SHA-256 matches, both RSS stay under 256 MiB`, async () => {
  dir = await makeRuntimeDir()
  server = await startProgram('test/fixtures/programs/stream-sink.ts', ['huge', dir.path])
  link = await connect('huge', { runtimeDir: dir.path, compression: [], waitForReady: true })

  let maxRss = process.memoryUsage.rss()
  const sampler = setInterval(() => {
    maxRss = Math.max(maxRss, process.memoryUsage.rss())
  }, 100)
  const hash = createHash('sha256')
  let produced = 0
  const started = performance.now()
  try {
    const result = await link.request<{
      bytes: number
      sha256: string
      maxRssBytes: number
      samples: number
    }>(
      'sink',
      hashing(seededBytes('switchboard huge stream', budget.hugeStreamBytes), (c) => {
        hash.update(c)
        produced += c.length
      }),
    )
    const seconds = (performance.now() - started) / 1000
    maxRss = Math.max(maxRss, process.memoryUsage.rss())
    const mbps = budget.hugeStreamBytes / 1e6 / seconds
    console.log(
      `# ${budget.hugeStreamBytes} bytes in ${seconds.toFixed(1)} s = ${mbps.toFixed(0)} MB/s; ` +
        `max RSS sender ${(maxRss / MiB).toFixed(0)} MiB, receiver ${(result.maxRssBytes / MiB).toFixed(0)} MiB ` +
        `(${result.samples} receiver samples)`,
    )
    assert.equal(produced, budget.hugeStreamBytes)
    assert.equal(result.bytes, budget.hugeStreamBytes)
    assert.equal(result.sha256, hash.digest('hex'))
    assert.ok(result.samples > 0, 'the receiver sampled its RSS')
    assert.ok(maxRss < RSS_LIMIT, `sender RSS ${maxRss} < ${RSS_LIMIT}`)
    assert.ok(result.maxRssBytes < RSS_LIMIT, `receiver RSS ${result.maxRssBytes} < ${RSS_LIMIT}`)
  } finally {
    clearInterval(sampler)
  }
})

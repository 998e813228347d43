/**
 * Record compression: a user's own Compressor is negotiated and used; incompressible records go
 * raw; a side without the algorithm falls back to 'none'; the built-ins round-trip a compressible
 * 1 MiB body; a record that decompresses past one record's worth is COMPRESSION_ERROR.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { deflateRawSync } from 'node:zlib'
import { SwitchboardError, sbError } from '../../../src/errors.ts'
import { builtinCompressors, type Compressor } from '../../../src/record/compression.ts'
import { RecordOpener } from '../../../src/record/opener.ts'
import { RecordPacker } from '../../../src/record/packer.ts'
import { Session } from '../../../src/session/session.ts'
import { memoryPair } from '../../../src/testing/memory-pair.ts'
import { ScriptedPeer } from '../../../src/testing/scripted-peer.ts'
import { identityCipher } from '../../../src/wire/cipher.ts'
import { RecordFlag } from '../../../src/wire/constants.ts'
import type { Frame } from '../../../src/wire/frame.ts'
import { encodeFrame } from '../../../src/wire/frame-encode.ts'
import { budget } from '../../budget.ts'
import { withTimeout } from '../../helpers/wait.ts'
import { echoHandler, sessionPair } from './session-fixtures.ts'

const KiB = 1024
const MiB = 1024 * KiB

/** A toy run-length coder: (count 1..255, byte) pairs. Counts its calls. */
class TestRle implements Compressor {
  readonly name = 'test-rle'
  compressCalls = 0
  decompressCalls = 0

  compress(data: Uint8Array): Uint8Array {
    this.compressCalls++
    const out: number[] = []
    for (let i = 0; i < data.length; ) {
      const byte = data[i]!
      let run = 1
      while (run < 255 && i + run < data.length && data[i + run] === byte) run++
      out.push(run, byte)
      i += run
    }
    return Uint8Array.from(out)
  }

  decompress(data: Uint8Array, maxBytes: number): Uint8Array {
    this.decompressCalls++
    if (data.length % 2 !== 0) throw sbError('COMPRESSION_ERROR', 'odd run-length input')
    let size = 0
    for (let i = 0; i < data.length; i += 2) size += data[i]!
    if (size > maxBytes) throw sbError('COMPRESSION_ERROR', `run-length output of ${size} > ${maxBytes}`)
    const out = new Uint8Array(size)
    let pos = 0
    for (let i = 0; i < data.length; i += 2) {
      out.fill(data[i + 1]!, pos, pos + data[i]!)
      pos += data[i]!
    }
    return out
  }
}

/** Runs of 200 equal bytes: what a run-length coder is for. */
function runs(n: number): Buffer {
  const out = Buffer.alloc(n)
  for (let i = 0; i < n; i += 200) out.fill((i / 200) & 0xff, i, Math.min(n, i + 200))
  return out
}

/** Text-like bytes that compress well with every algorithm (and with run lengths). */
function compressible(n: number): Buffer {
  const out = Buffer.alloc(n)
  let pos = 0
  for (let line = 0; pos < n; line++) {
    pos += out.write(`line ${line} ${'='.repeat(40 + (line % 23))}\n`, pos)
  }
  return out
}

/** Sends `body` on a new channel (respecting write()'s answer) and resolves with the echo. */
function echo(session: Session, body: Uint8Array): Promise<Buffer> {
  const ch = session.open({ kind: 0, method: 1, messageId: 1 })
  const step = 64 * KiB
  let offset = 0
  const pump = (): void => {
    while (offset < body.length) {
      const end = Math.min(offset + step, body.length)
      const more = ch.write(body.subarray(offset, end), end === body.length)
      offset = end
      if (!more) return
    }
    if (body.length === 0) ch.end()
  }
  const reply = new Promise<Buffer>((resolve, reject) => {
    const parts: Uint8Array[] = []
    ch.bind({
      onData(data, fin) {
        parts.push(data.slice())
        ch.consume(data.length)
        if (fin) resolve(Buffer.concat(parts))
      },
      onEnd: (status) => reject(new Error(`ended with ${status}`)),
      onReset: (code) => reject(new Error(`reset with ${code}`)),
      onWritable: pump,
    })
  })
  pump()
  return withTimeout(reply, budget.waitTimeoutMs, 'the echo')
}

async function closeBoth(client: Session, server: Session): Promise<void> {
  await withTimeout(client.close(), budget.waitTimeoutMs, 'the client to close')
  await withTimeout(server.closed, budget.waitTimeoutMs, 'the server to close')
}

test('a custom Compressor on both sides is negotiated, used, and round-trips data', async () => {
  const clientRle = new TestRle()
  const serverRle = new TestRle()
  const [client, server] = await sessionPair(
    echoHandler(),
    { compression: [clientRle] },
    { compression: [serverRle] },
  )
  assert.equal(client.agreement?.compression, 'test-rle')
  assert.equal(server.agreement?.compression, 'test-rle')
  const body = runs(300 * KiB)
  const got = await echo(client, body)
  assert.ok(got.equals(body), 'echo intact')
  assert.ok(clientRle.compressCalls > 0 && serverRle.compressCalls > 0, 'both sides compressed')
  assert.ok(clientRle.decompressCalls > 0 && serverRle.decompressCalls > 0, 'both sides decompressed')
  assert.ok(
    client.getStats().bytesOut < body.length / 4,
    `${client.getStats().bytesOut} bytes on the wire for a ${body.length}-byte body`,
  )
  await closeBoth(client, server)
})

test('an incompressible record is sent raw: compressedRecords does not move for it', () => {
  const rle = new TestRle()
  const packer = new RecordPacker({ cipher: identityCipher, compressor: rle, compressThreshold: 1024 })
  const opener = new RecordOpener({ cipher: identityCipher, compressor: rle })
  const packOpen = (frames: Frame[]): Frame[] => {
    const wire = Buffer.concat(packer.pack(frames))
    const out: Frame[] = []
    for (let pos = 0; pos < wire.length; ) {
      const len = wire.readUInt16BE(pos)
      out.push(...opener.open(wire.subarray(pos + 2, pos + 2 + len)))
      pos += 2 + len
    }
    return out
  }

  const random = new Uint8Array(randomBytes(30 * KiB))
  const raw = packOpen([{ type: 'data', channel: 1, fin: false, data: random }])
  assert.equal(rle.compressCalls, 1, 'compression was tried')
  assert.equal(packer.stats.records, 1)
  assert.equal(packer.stats.compressedRecords, 0, 'random bytes went raw')
  assert.ok(packer.stats.bytesOut > random.length)
  assert.equal(rle.decompressCalls, 0)
  assert.ok(raw[0]?.type === 'data' && Buffer.from(raw[0].data).equals(random))

  const text = compressible(30 * KiB)
  const packed = packOpen([{ type: 'data', channel: 1, fin: true, data: text }])
  assert.equal(packer.stats.compressedRecords, 1, 'the compressible record was compressed')
  assert.equal(rle.decompressCalls, 1)
  assert.ok(packed[0]?.type === 'data' && Buffer.from(packed[0].data).equals(text))

  const before = rle.compressCalls
  packOpen([{ type: 'data', channel: 1, fin: false, data: new Uint8Array(100) }])
  assert.equal(rle.compressCalls, before, 'records under compressThreshold are not even tried')
  assert.equal(packer.stats.compressedRecords, 1)
})

test('random bytes over a compressing session round-trip and are not inflated', async () => {
  const [client, server] = await sessionPair(
    echoHandler(),
    { compression: [new TestRle()] },
    { compression: [new TestRle()] },
  )
  const body = new Uint8Array(randomBytes(200 * KiB))
  const got = await echo(client, body)
  assert.ok(got.equals(body))
  const out = client.getStats().bytesOut
  assert.ok(out >= body.length && out < body.length * 1.05, `${out} bytes on the wire`)
  await closeBoth(client, server)
})

test('a side that lacks the algorithm falls back to none; the first common one wins', async () => {
  const rle = new TestRle()
  const [client, server] = await sessionPair(echoHandler(), { compression: [rle] }, {})
  assert.equal(client.agreement?.compression, 'none')
  assert.equal(server.agreement?.compression, 'none')
  const body = compressible(100 * KiB)
  assert.ok((await echo(client, body)).equals(body))
  assert.equal(rle.compressCalls, 0)
  assert.ok(client.getStats().bytesOut > body.length)
  await closeBoth(client, server)

  const [c2, s2] = await sessionPair(
    echoHandler(),
    { compression: [new TestRle(), 'deflate'] },
    { compression: ['gzip', 'deflate'] },
  )
  assert.equal(c2.agreement?.compression, 'deflate', "the dialer's first choice the listener also has")
  assert.equal(s2.agreement?.compression, 'deflate')
  await closeBoth(c2, s2)
})

for (const name of ['deflate', 'gzip', 'brotli']) {
  test(`built-in ${name} round-trips a compressible 1 MiB body`, async () => {
    const [client, server] = await sessionPair(
      echoHandler(),
      { compression: [name] },
      { compression: [name] },
    )
    assert.equal(client.agreement?.compression, name)
    const body = compressible(MiB)
    const got = await echo(client, body)
    assert.ok(got.equals(body), 'echo intact')
    const out = client.getStats().bytesOut
    assert.ok(out < body.length / 4, `${out} bytes on the wire for ${body.length}`)
    assert.ok(server.getStats().bytesOut < body.length / 4)
    await closeBoth(client, server)
  })
}

test('a compressed record that expands past one record is COMPRESSION_ERROR', () => {
  const bomb = deflateRawSync(new Uint8Array(MiB))
  assert.ok(bomb.length < 2 * KiB)
  const plain = Buffer.concat([Uint8Array.of(RecordFlag.COMPRESSED), bomb])
  const opener = new RecordOpener({ cipher: identityCipher, compressor: builtinCompressors.get('deflate') })
  assert.throws(() => opener.open(plain), { code: 'COMPRESSION_ERROR' })

  const rle = new TestRle()
  const runs = new Uint8Array(2 * 300).fill(255) // 300 runs of 255 bytes: 76,500 > one record
  const rleOpener = new RecordOpener({ cipher: identityCipher, compressor: rle })
  assert.throws(() => rleOpener.open(Buffer.concat([Uint8Array.of(RecordFlag.COMPRESSED), runs])), {
    code: 'COMPRESSION_ERROR',
  })
  assert.throws(() => rleOpener.open(Uint8Array.of(RecordFlag.COMPRESSED, 1, 2, 3)), {
    code: 'COMPRESSION_ERROR',
  })
  assert.throws(
    () => new RecordOpener({ cipher: identityCipher }).open(Uint8Array.of(RecordFlag.COMPRESSED, 0)),
    {
      code: 'COMPRESSION_ERROR',
    },
  )
})

test('a Compressor that ignores maxBytes still cannot expand a record past the limit', () => {
  const careless: Compressor = {
    name: 'careless',
    compress: (d) => d,
    // Well-formed frames, just far more of them than one record may carry.
    decompress: () => encodeFrame({ type: 'data', channel: 1, fin: false, data: new Uint8Array(100 * KiB) }),
  }
  const opener = new RecordOpener({ cipher: identityCipher, compressor: careless })
  assert.throws(() => opener.open(Uint8Array.of(RecordFlag.COMPRESSED, 0)), { code: 'COMPRESSION_ERROR' })
})

test('a peer sending a decompression bomb closes the session with COMPRESSION_ERROR', async () => {
  const [mine, theirs] = memoryPair()
  const peer = new ScriptedPeer(theirs, { role: 'listener', hello: { compression: ['deflate'] } })
  let closed!: (err: SwitchboardError | undefined) => void
  const closedP = new Promise<SwitchboardError | undefined>((r) => {
    closed = r
  })
  const session = await Session.establish(
    mine,
    'dialer',
    { compression: ['deflate'] },
    {
      onChannel: () => {},
      onClose: closed,
    },
  )
  assert.equal(session.agreement?.compression, 'deflate')
  peer.sendRecord(Buffer.concat([Uint8Array.of(RecordFlag.COMPRESSED), deflateRawSync(new Uint8Array(MiB))]))
  const err = await withTimeout(closedP, budget.waitTimeoutMs, 'the session to fail')
  assert.ok(err instanceof SwitchboardError)
  assert.equal(err.code, 'COMPRESSION_ERROR')
  await withTimeout(peer.done, budget.waitTimeoutMs, 'the transport to close')
})

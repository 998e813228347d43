/**
 * records-aead: RecordOpener.open behind a real record cipher (a Noise CipherState with
 * ChaCha20-Poly1305 from node:crypto, inside the RekeyingCipher the session uses, rekeying
 * every 3 records or 2 KiB so rekeys happen), with deflate negotiated. The input's first byte
 * picks a mode; the rest is cut into u16-prefixed pieces:
 *
 *   0 forged    each piece is opened as received: the AEAD must reject it, unless it is the
 *               genuine record the sender would have sent next (a seed can be one)
 *   1 sealed    each piece is a plaintext the sender seals; opening it must not fail
 *               authentication, and its frames must re-encode to the plaintext
 *   2 tampered  a sealed piece with one bit flipped must fail with INTEGRITY
 *   3 replayed  a sealed piece opened twice: the second time must fail with INTEGRITY
 */
import { deflateRawSync } from 'node:zlib'
import { CipherState } from '../../../src/handshake/noise/cipher-state.ts'
import { RekeyingCipher } from '../../../src/handshake/record-protection.ts'
import { builtinCompressors } from '../../../src/record/compression.ts'
import { RecordOpener } from '../../../src/record/opener.ts'
import { nodeCryptoProvider } from '../../../src/session/node-crypto.ts'
import type { RecordCipher } from '../../../src/wire/cipher.ts'
import { attempt, check, fail } from '../harness/oracle.ts'
import type { FuzzTarget } from '../harness/target.ts'
import {
  bytesEqual,
  checkFrames,
  concat,
  goldenFrames,
  hex,
  splitUnits,
  transcriptRecordBodies,
  u16Unit,
} from './common.ts'
import { target as frames } from './frames.ts'

const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff)
const REKEY = { records: 3, bytes: 2048 }
const deflate = builtinCompressors.get('deflate')!

function cipher(): RekeyingCipher {
  return new RekeyingCipher(new CipherState(nodeCryptoProvider, KEY), REKEY)
}

/** The receiving cipher, remembering the last plaintext it let through. */
function capturing(inner: RecordCipher): RecordCipher & { last: Uint8Array | undefined } {
  const c = {
    overhead: inner.overhead,
    last: undefined as Uint8Array | undefined,
    seal: (p: Uint8Array) => inner.seal(p),
    open(body: Uint8Array): Uint8Array {
      c.last = undefined
      const plain = inner.open(body)
      c.last = plain
      return plain
    },
  }
  return c
}

/** The frames a plaintext record holds, when it is a plain one (flags 0). */
function checkPlain(plain: Uint8Array, opened: ReturnType<RecordOpener['open']>): void {
  if (plain[0] === 0) checkFrames(plain.subarray(1), opened)
}

function sealedSeeds(): Uint8Array[] {
  const plains = [
    ...transcriptRecordBodies(),
    ...goldenFrames().map((f) => concat(Uint8Array.of(0), f)),
    concat(Uint8Array.of(1), deflateRawSync(concat(...goldenFrames()))),
  ]
  const out: Uint8Array[] = []
  // Mode 0: genuine records in order (the AEAD must accept exactly these).
  const sender = cipher()
  out.push(concat(Uint8Array.of(0), ...plains.slice(0, 6).map((p) => u16Unit(sender.seal(p)))))
  // Modes 1-3: plaintexts.
  for (const mode of [1, 2, 3]) out.push(concat(Uint8Array.of(mode), ...plains.slice(0, 5).map(u16Unit)))
  return out
}

export const target: FuzzTarget = {
  name: 'records-aead',
  about:
    'RecordOpener.open behind ChaCha20-Poly1305 (RekeyingCipher, rekey every 3 records): forgeries, tampering and replays rejected, genuine records open',
  maxLength: 8192,
  seeds: sealedSeeds,
  dictionary: [Uint8Array.of(0, 0), Uint8Array.of(0, 16), Uint8Array.of(0, 17), Uint8Array.of(0xff, 0xff)],
  generate(rng) {
    const mode = 1 + rng.below(3)
    const pieces = Array.from({ length: 1 + rng.below(4) }, () =>
      concat(Uint8Array.of(0), frames.generate!(rng)),
    )
    return concat(Uint8Array.of(mode), ...pieces.map(u16Unit))
  },
  run(input) {
    if (input.length === 0) return false
    const mode = input[0]! & 3
    const pieces = splitUnits(input.subarray(1), 16)
    const sender = cipher()
    const receiver = capturing(cipher())
    const opener = new RecordOpener({ cipher: receiver, compressor: deflate })
    for (const [k, piece] of pieces.entries()) {
      if (mode === 0) {
        const r = attempt(() => opener.open(piece))
        if (receiver.last === undefined) {
          check(!r.ok && r.error.code === 'INTEGRITY', 'aead-unexpected-rejection', () =>
            String(!r.ok && r.error),
          )
          return true
        }
        // The AEAD let it through: it must be exactly what the sender seals next.
        const genuine = sender.seal(receiver.last)
        if (!bytesEqual(genuine, piece)) fail('aead-accepted-forgery', `piece ${k}: ${hex(piece)}`)
        if (r.ok) checkPlain(receiver.last, r.value)
        continue
      }
      const sealed = sender.seal(piece)
      if (mode === 1) {
        const r = attempt(() => opener.open(sealed))
        if (!r.ok && r.error.code === 'INTEGRITY')
          fail('aead-rejected-genuine', `piece ${k}: ${r.error.message}`)
        if (r.ok) checkPlain(piece, r.value)
        continue
      }
      if (mode === 2) {
        const tampered = new Uint8Array(sealed)
        const bit = (piece.length * 8 + k) % (tampered.length * 8)
        tampered[bit >>> 3]! ^= 1 << (bit & 7)
        const r = attempt(() => opener.open(tampered))
        check(!r.ok && r.error.code === 'INTEGRITY', 'aead-accepted-tampered', () => `piece ${k}, bit ${bit}`)
        return true
      }
      const first = attempt(() => opener.open(sealed))
      if (!first.ok && first.error.code === 'INTEGRITY') fail('aead-rejected-genuine', `piece ${k}`)
      const replay = attempt(() => opener.open(sealed))
      check(!replay.ok && replay.error.code === 'INTEGRITY', 'aead-accepted-replay', () => `piece ${k}`)
      return true
    }
    return true
  },
}

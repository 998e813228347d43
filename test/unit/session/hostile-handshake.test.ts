/**
 * A hostile peer during the security handshake (scripted, over a memory pair): a low-order
 * X25519 key, an oversized or malformed Noise message, garbage instead of a confirmation, a
 * refusal. Each fails establish() with a coded error, never a crash, and tells the peer why.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { SwitchboardError } from '../../../src/errors.ts'
import { HandshakeGate } from '../../../src/session/handshake-limits.ts'
import { nodeCryptoProvider } from '../../../src/session/node-crypto.ts'
import type { SessionOptions } from '../../../src/session/options.ts'
import { Session } from '../../../src/session/session.ts'
import { memoryPair } from '../../../src/testing/memory-pair.ts'
import { ScriptedPeer } from '../../../src/testing/scripted-peer.ts'
import { frameHandshakeUnit } from '../../../src/wire/handshake-unit.ts'
import { withTimeout } from '../../helpers/wait.ts'

const secret = randomBytes(32)
const keys = nodeCryptoProvider.generateKeyPair()

async function against(
  options: SessionOptions,
  security: string,
  script: (peer: ScriptedPeer) => void,
): Promise<{ err: SwitchboardError; sent: Buffer }> {
  const [mine, theirs] = memoryPair()
  const peer = new ScriptedPeer(theirs, { role: 'dialer', hello: { security: [security] } })
  // Record every byte the listener sends, undecoded (a refusal is not a record).
  const chunks: Buffer[] = []
  peer.on('data', (c: Uint8Array) => chunks.push(Buffer.from(c)))
  const closed = peer.done
  script(peer)
  const err = await withTimeout(
    Session.establish(
      mine,
      'listener',
      { handshakeTimeoutMs: 2000, ...options },
      { onChannel: () => {} },
    ).then(
      () => assert.fail('establish() resolved'),
      (e: unknown) => e,
    ),
    5000,
    'establish() to reject',
  )
  assert.ok(err instanceof SwitchboardError, String(err))
  await withTimeout(closed, 5000, 'the listener to close the transport')
  return { err, sent: Buffer.concat(chunks) }
}

/** The last 4 bytes the listener sent: a refusal `00 00 | u16 code`. */
function refusalCode(sent: Buffer): number {
  assert.equal(sent.readUInt16BE(sent.length - 4), 0, 'ends with a refusal')
  return sent.readUInt16BE(sent.length - 2)
}

test('a low-order ephemeral key (all zeros) in XX: HANDSHAKE_FAILED, refusal sent', async () => {
  const { err, sent } = await against({ keys, allow: () => true }, 'noise-xx', (p) => {
    p.sendRaw(frameHandshakeUnit(new Uint8Array(32)))
  })
  assert.equal(err.code, 'HANDSHAKE_FAILED', err.message)
  assert.equal(refusalCode(sent), 44)
})

test('a Noise message over 4 KiB is FRAME_TOO_LARGE when its length is read', async () => {
  const { err } = await against({ secret }, 'noise-nnpsk0', (p) => {
    p.sendRaw(Uint8Array.of(0x10, 0x01)) // 4097, and no body ever follows
  })
  assert.equal(err.code, 'FRAME_TOO_LARGE', err.message)
})

test('a short or random first message in secret mode: AUTH_FAILED or HANDSHAKE_FAILED, refusal sent', async () => {
  for (const body of [randomBytes(10), randomBytes(48), randomBytes(300)]) {
    const { err, sent } = await against({ secret }, 'noise-nnpsk0', (p) =>
      p.sendRaw(frameHandshakeUnit(body)),
    )
    assert.ok(['AUTH_FAILED', 'HANDSHAKE_FAILED'].includes(err.code), err.message)
    assert.equal(refusalCode(sent), err.wireCode)
  }
})

test('a refusal from the peer in the handshake slot fails with its code and is not answered', async () => {
  const { err, sent } = await against({ secret }, 'noise-nnpsk0', (p) =>
    p.sendRaw(Uint8Array.of(0, 0, 0, 51)),
  )
  assert.equal(err.code, 'PEER_NOT_ALLOWED', err.message)
  assert.notEqual(sent.readUInt16BE(sent.length - 4), 0, 'no refusal sent back')
})

test('HandshakeGate: counts per source and overall; leaving twice frees once', () => {
  const gate = new HandshakeGate({ maxHandshaking: 3, maxHandshakingPerSource: 2 })
  const a1 = gate.enter('10.0.0.1') as () => void
  const a2 = gate.enter('10.0.0.1') as () => void
  assert.equal((gate.enter('10.0.0.1') as SwitchboardError).code, 'HANDSHAKE_BUSY')
  const local = gate.enter(undefined) as () => void
  assert.equal((gate.enter('10.0.0.2') as SwitchboardError).code, 'HANDSHAKE_BUSY', 'global limit')
  a1()
  a1()
  assert.equal(gate.count, 2)
  assert.equal(typeof gate.enter('10.0.0.1'), 'function')
  a2()
  local()
  assert.throws(() => new HandshakeGate({ maxHandshaking: 0 }), { code: 'INVALID_ARGUMENT' })
})

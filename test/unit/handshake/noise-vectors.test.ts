/**
 * Known-answer tests: the cacophony Noise vectors for the patterns switchboard uses
 * (test/fixtures/noise/cacophony-subset.json, copied from shared/vectors/cacophony.txt). Each
 * vector runs an initiator and a responder with fixed ephemerals and checks every handshake
 * ciphertext, the handshake hash, and the transport messages after Split.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { HandshakeState } from '../../../src/handshake/noise/handshake-state.ts'
import { resolvePattern } from '../../../src/handshake/noise/patterns.ts'
import { SECURITY_MODES } from '../../../src/handshake/security-modes.ts'
import { nodeCryptoProvider as crypto } from '../../../src/session/node-crypto.ts'
import { fromHex, keyPairFromPrivate, toHex } from './helpers.ts'

interface Vector {
  protocol_name: string
  init_prologue: string
  init_psks?: string[]
  init_static?: string
  init_ephemeral: string
  init_remote_static?: string
  resp_prologue: string
  resp_psks?: string[]
  resp_static?: string
  resp_ephemeral?: string
  resp_remote_static?: string
  handshake_hash: string
  messages: { payload: string; ciphertext: string }[]
}

const fixture = new URL('../../fixtures/noise/cacophony-subset.json', import.meta.url)
const { vectors } = JSON.parse(readFileSync(fixture, 'utf8')) as { vectors: Vector[] }

// NN (the base of NNpsk0) and the pattern of every security mode the hello may offer, read from
// the modes table so that a new mode without a known-answer vector fails here.
const EXPECTED = [
  'Noise_NN_25519_ChaChaPoly_SHA256',
  ...Object.values(SECURITY_MODES).map((m) => `Noise_${m.pattern}_25519_ChaChaPoly_SHA256`),
]

function side(v: Vector, initiator: boolean): HandshakeState {
  const p = initiator ? 'init' : 'resp'
  const s = v[`${p}_static`]
  const rs = v[`${p}_remote_static`]
  const e = v[`${p}_ephemeral`]
  return new HandshakeState(crypto, {
    pattern: v.protocol_name.split('_')[1]!,
    initiator,
    prologue: fromHex(v[`${p}_prologue`]),
    psks: (v[`${p}_psks`] ?? []).map(fromHex),
    ...(s === undefined ? {} : { staticKeyPair: keyPairFromPrivate(crypto, s) }),
    ...(rs === undefined ? {} : { remoteStaticKey: fromHex(rs) }),
    ...(e === undefined ? {} : { ephemeralPrivateKey: fromHex(e) }),
  })
}

const counts = new Map<string, number>()

for (const [index, v] of vectors.entries()) {
  test(`${v.protocol_name} #${index}`, () => {
    const handshakeLength = resolvePattern(v.protocol_name.split('_')[1]!).messages.length
    const init = side(v, true)
    const resp = side(v, false)
    assert.equal(init.protocolName, v.protocol_name)
    for (const [i, m] of v.messages.slice(0, handshakeLength).entries()) {
      const [writer, reader] = i % 2 === 0 ? [init, resp] : [resp, init]
      const ciphertext = writer.writeMessage(fromHex(m.payload))
      assert.equal(toHex(ciphertext), m.ciphertext, `handshake message ${i}`)
      assert.equal(toHex(reader.readMessage(ciphertext)), m.payload, `handshake payload ${i}`)
    }
    assert.equal(init.status, 'done')
    assert.equal(resp.status, 'done')
    assert.equal(toHex(init.result.handshakeHash), v.handshake_hash)
    assert.equal(toHex(resp.result.handshakeHash), v.handshake_hash)
    const oneWay = handshakeLength === 1
    for (const [i, m] of v.messages.slice(handshakeLength).entries()) {
      const index = handshakeLength + i
      const fromInitiator = oneWay || index % 2 === 0
      const [writer, reader] = fromInitiator ? [init.result, resp.result] : [resp.result, init.result]
      const ciphertext = writer.send.encryptWithAd(new Uint8Array(0), fromHex(m.payload))
      assert.equal(toHex(ciphertext), m.ciphertext, `transport message ${index}`)
      assert.equal(toHex(reader.receive.decryptWithAd(new Uint8Array(0), ciphertext)), m.payload)
    }
    counts.set(v.protocol_name, (counts.get(v.protocol_name) ?? 0) + 1)
  })
}

test('every protocol switchboard uses has at least one vector', (t) => {
  for (const name of EXPECTED) {
    const n = counts.get(name) ?? 0
    t.diagnostic(`${name}: ${n} vector(s)`)
    assert.ok(n >= 1, `no passing vector for ${name}`)
  }
})

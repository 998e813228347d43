/**
 * Secure sessions over an in-memory pair: each security mode agrees, echoes and binds the same
 * handshake hash; wrong secret, keys not allowed and mismatched modes fail with their code on
 * BOTH sides; a keyless (NK) dialer is served only by a listener that opted in; records rekey
 * on schedule.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { SwitchboardError } from '../../../src/errors.ts'
import { nodeCryptoProvider } from '../../../src/session/node-crypto.ts'
import type { SessionOptions } from '../../../src/session/options.ts'
import { Session } from '../../../src/session/session.ts'
import { memoryPair } from '../../../src/testing/memory-pair.ts'
import { MessageKind } from '../../../src/wire/constants.ts'
import { withTimeout } from '../../helpers/wait.ts'
import { collect, echoHandler } from './session-fixtures.ts'

function establish(client: SessionOptions, server: SessionOptions) {
  const [a, b] = memoryPair()
  return Promise.allSettled([
    Session.establish(a, 'dialer', client, { onChannel: () => {} }),
    Session.establish(b, 'listener', server, echoHandler()),
  ])
}

async function echo(client: Session, bytes: number): Promise<void> {
  const body = randomBytes(bytes)
  const ch = client.open({ kind: MessageKind.REQUEST, method: 1, messageId: 1 })
  const reply = collect(ch)
  ch.write(body, true)
  assert.ok((await withTimeout(reply, 5000, 'echo')).equals(body), 'echo intact')
}

const secret = randomBytes(32)
const keysA = nodeCryptoProvider.generateKeyPair()
const keysB = nodeCryptoProvider.generateKeyPair()

const modes: [string, SessionOptions, SessionOptions][] = [
  ['noise-nnpsk0', { secret }, { secret: secret.toString('base64url') }],
  ['noise-xx', { keys: keysA, allow: [keysB.publicKey] }, { keys: keysB, allow: [keysA.publicKey] }],
  ['noise-ik', { keys: keysA, serverKey: keysB.publicKey }, { keys: keysB, allow: [keysA.publicKey] }],
  ['noise-nk', { serverKey: keysB.publicKey }, { keys: keysB, acceptAnonymousDialers: true }],
  [
    'noise-xxpsk3',
    { keys: keysA, allow: [keysB.publicKey], secret },
    { keys: keysB, allow: () => true, secret },
  ],
]

for (const [mode, clientOpts, serverOpts] of modes) {
  test(`${mode}: agrees, echoes 300 KiB encrypted, both ends share the handshake hash`, async () => {
    const [c, s] = await establish(clientOpts, serverOpts)
    assert.equal(c.status, 'fulfilled', String((c as PromiseRejectedResult).reason))
    assert.equal(s.status, 'fulfilled', String((s as PromiseRejectedResult).reason))
    const client = c.value
    const server = s.value
    assert.equal(client.agreement?.security, mode)
    assert.equal(client.handshakeHash?.length, 32)
    assert.deepEqual(client.handshakeHash, server.handshakeHash)
    if (mode === 'noise-nk') {
      // The dialer knows (pinned) the listener's key; the listener learns none: the dialer has none.
      assert.deepEqual(client.remotePublicKey, new Uint8Array(keysB.publicKey))
      assert.equal(server.remotePublicKey, undefined)
    } else if (mode !== 'noise-nnpsk0') {
      // In every key mode each end learns the other's key (IK: the dialer knew it already).
      assert.deepEqual(client.remotePublicKey, new Uint8Array(keysB.publicKey))
      assert.deepEqual(server.remotePublicKey, new Uint8Array(keysA.publicKey))
    }
    await echo(client, 300 * 1024)
    await client.close()
    await server.closed
  })
}

function assertBothRejected(results: PromiseSettledResult<Session>[], code: string): void {
  for (const [i, r] of results.entries()) {
    assert.equal(r.status, 'rejected', `${i === 0 ? 'dialer' : 'listener'} must fail`)
    const reason = (r as PromiseRejectedResult).reason
    assert.ok(reason instanceof SwitchboardError, String(reason))
    assert.equal(reason.code, code, `${i === 0 ? 'dialer' : 'listener'}: ${reason.message}`)
  }
}

test('wrong secret: AUTH_FAILED on both sides', async () => {
  assertBothRejected(await establish({ secret: randomBytes(32) }, { secret }), 'AUTH_FAILED')
})

test('wrong passphrase: AUTH_FAILED on both sides; same passphrase connects', async () => {
  assertBothRejected(
    await establish({ passphrase: 'correct horse' }, { passphrase: 'battery staple' }),
    'AUTH_FAILED',
  )
  const [c, s] = await establish({ passphrase: 'correct horse' }, { passphrase: 'correct horse' })
  assert.equal(c.status, 'fulfilled')
  assert.equal(s.status, 'fulfilled')
  await (c as PromiseFulfilledResult<Session>).value.close()
})

test('listener does not allow the dialer key: PEER_NOT_ALLOWED on both sides', async () => {
  const other = nodeCryptoProvider.generateKeyPair()
  assertBothRejected(
    await establish({ keys: keysA, allow: [keysB.publicKey] }, { keys: keysB, allow: [other.publicKey] }),
    'PEER_NOT_ALLOWED',
  )
})

test('dialer pinned another listener key (wrong key): PEER_NOT_ALLOWED on both sides', async () => {
  const other = nodeCryptoProvider.generateKeyPair()
  assertBothRejected(
    await establish({ keys: keysA, allow: [other.publicKey] }, { keys: keysB, allow: [keysA.publicKey] }),
    'PEER_NOT_ALLOWED',
  )
})

test('IK: a dialer that pinned another listener key fails; the listener cannot decrypt (HANDSHAKE_FAILED both sides)', async () => {
  const other = nodeCryptoProvider.generateKeyPair()
  assertBothRejected(
    await establish({ keys: keysA, serverKey: other.publicKey }, { keys: keysB, allow: [keysA.publicKey] }),
    'HANDSHAKE_FAILED',
  )
})

test('IK: the listener does not allow the dialer key: PEER_NOT_ALLOWED on both sides', async () => {
  assertBothRejected(
    await establish({ keys: keysA, serverKey: keysB.publicKey }, { keys: keysB, allow: [] }),
    'PEER_NOT_ALLOWED',
  )
})

test('a pinned serverKey is enforced in XXpsk3 too, whatever allow says', async () => {
  const other = nodeCryptoProvider.generateKeyPair()
  assertBothRejected(
    await establish(
      { keys: keysA, serverKey: other.publicKey, allow: () => true, secret },
      { keys: keysB, allow: [keysA.publicKey], secret },
    ),
    'PEER_NOT_ALLOWED',
  )
})

test('NK: a keyed listener that did not opt in refuses a keyless dialer: NEGOTIATION_FAILED on both sides', async () => {
  const results = await establish({ serverKey: keysB.publicKey }, { keys: keysB, allow: () => true })
  assertBothRejected(results, 'NEGOTIATION_FAILED')
  assert.match((results[0] as PromiseRejectedResult).reason.message, /acceptAnonymousDialers/)
})

test('NK: a dialer that pinned another listener key fails; HANDSHAKE_FAILED on both sides', async () => {
  const other = nodeCryptoProvider.generateKeyPair()
  assertBothRejected(
    await establish({ serverKey: other.publicKey }, { keys: keysB, acceptAnonymousDialers: true }),
    'HANDSHAKE_FAILED',
  )
})

test('NK: an opted-in listener still serves keyed dialers (XX, IK) through allow', async () => {
  const server = { keys: keysB, allow: [keysA.publicKey], acceptAnonymousDialers: true }
  for (const [mode, client] of [
    ['noise-xx', { keys: keysA, allow: [keysB.publicKey] }],
    ['noise-ik', { keys: keysA, serverKey: keysB.publicKey }],
  ] as const) {
    const [c, s] = await establish(client, server)
    assert.equal(c.status, 'fulfilled', String((c as PromiseRejectedResult).reason))
    const session = (c as PromiseFulfilledResult<Session>).value
    assert.equal(session.agreement?.security, mode)
    await session.close()
    await (s as PromiseFulfilledResult<Session>).value.closed
  }
  const other = nodeCryptoProvider.generateKeyPair()
  assertBothRejected(await establish({ keys: other, serverKey: keysB.publicKey }, server), 'PEER_NOT_ALLOWED')
})

test('acceptAnonymousDialers needs keys and refuses a secret beside it; serverKey with a secret needs keys', async () => {
  for (const bad of [
    { acceptAnonymousDialers: true },
    { keys: keysB, secret, acceptAnonymousDialers: true },
    { keys: keysB, acceptAnonymousDialers: 'yes' as unknown as boolean },
    { serverKey: keysB.publicKey, secret },
  ]) {
    const [a] = memoryPair()
    await assert.rejects(Session.establish(a, 'listener', bad, echoHandler()), { code: 'INVALID_ARGUMENT' })
  }
})

test('keys without allow refuse by default', async () => {
  assertBothRejected(
    await establish({ keys: keysA }, { keys: keysB, allow: [keysA.publicKey] }),
    'PEER_NOT_ALLOWED',
  )
})

test('XXpsk3 with right keys but a wrong secret: AUTH_FAILED on both sides', async () => {
  assertBothRejected(
    await establish(
      { keys: keysA, allow: [keysB.publicKey], secret: randomBytes(32) },
      { keys: keysB, allow: [keysA.publicKey], secret },
    ),
    'AUTH_FAILED',
  )
})

test('secret on one side only: NEGOTIATION_FAILED on both sides (never a silent downgrade)', async () => {
  assertBothRejected(await establish({ secret }, {}), 'NEGOTIATION_FAILED')
  assertBothRejected(await establish({}, { secret }), 'NEGOTIATION_FAILED')
})

test('records rekey on schedule (low thresholds) and still echo intact', async () => {
  const opts = { secret, rekeyAfterRecords: 7, rekeyAfterBytes: 50_000 }
  const [c, s] = await establish(opts, opts)
  assert.equal(c.status, 'fulfilled')
  const client = (c as PromiseFulfilledResult<Session>).value
  const server = (s as PromiseFulfilledResult<Session>).value
  await echo(client, 1024 * 1024)
  assert.ok(client.getStats().recordsOut > 14, 'enough records to rekey more than once')
  await client.close()
  await server.closed
})

test('bad secret options are INVALID_ARGUMENT at construction', async () => {
  for (const bad of [{ secret: randomBytes(16) }, { secret: 'short' }, { secret, passphrase: 'x' }]) {
    const [a] = memoryPair()
    await assert.rejects(Session.establish(a, 'dialer', bad, { onChannel: () => {} }), {
      code: 'INVALID_ARGUMENT',
    })
  }
})

test('RekeyingCipher: both directions rekey at the same record; a replayed or reordered record is INTEGRITY', async () => {
  const { CipherState } = await import('../../../src/handshake/noise/cipher-state.ts')
  const { RekeyingCipher } = await import('../../../src/handshake/record-protection.ts')
  const key = randomBytes(32)
  const thresholds = { records: 3, bytes: 1 << 30 }
  const send = new RekeyingCipher(new CipherState(nodeCryptoProvider, key), thresholds)
  const recv = new RekeyingCipher(new CipherState(nodeCryptoProvider, key), thresholds)
  const sealed = Array.from({ length: 10 }, (_, i) => send.seal(Uint8Array.of(i)))
  assert.equal(send.rekeys, 3)
  for (let i = 0; i < 4; i++) assert.equal(recv.open(sealed[i]!)[0], i)
  assert.throws(() => recv.open(sealed[3]!), { code: 'INTEGRITY' }, 'replayed')
  assert.throws(() => recv.open(sealed[5]!), { code: 'INTEGRITY' }, 'reordered (skips record 4)')
  const flipped = new Uint8Array(sealed[4]!)
  flipped[0]! ^= 1
  assert.throws(() => recv.open(flipped), { code: 'INTEGRITY' }, 'modified')
  assert.throws(() => recv.open(sealed[4]!.subarray(0, 10)), { code: 'INTEGRITY' }, 'truncated')
  for (let i = 4; i < 10; i++) assert.equal(recv.open(sealed[i]!)[0], i)
  assert.equal(recv.rekeys, 3)
  // Without the rekey, record 3 would open under the first key; with it, it must not.
  const stale = new RekeyingCipher(new CipherState(nodeCryptoProvider, key), { records: 100, bytes: 1 << 30 })
  for (let i = 0; i < 3; i++) stale.open(sealed[i]!)
  assert.throws(() => stale.open(sealed[3]!), { code: 'INTEGRITY' }, 'record 3 is under the new key')
})

/**
 * Accounts: password login with three accounts, a wrong password and an unknown user refused
 * alike with AUTH_FAILED, failures from one source slowed (injected sleep) and, in one test with
 * real timers, the second failure measurably slower than the first; public keys map to accounts;
 * a bad accounts file fails at load, naming the entry.
 */
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { test } from 'node:test'
import { Accounts } from '../../../src/daemon/auth/accounts.ts'
import { hashPassword } from '../../../src/daemon/auth/password-hash.ts'
import { nodeCryptoProvider } from '../../../src/session/node-crypto.ts'

const ciKey = Buffer.from(nodeCryptoProvider.generateKeyPair().publicKey).toString('base64url')
const users = {
  alice: { password: await hashPassword('alice-secret') },
  bob: { password: await hashPassword('bob-secret') },
  carol: { password: await hashPassword('carol-secret'), publicKeys: [ciKey] },
}

function accounts() {
  const slept: number[] = []
  const a = new Accounts(users, { sleep: async (ms) => void slept.push(ms) })
  return { a, slept }
}

test('three accounts log in with their own passwords, and only with them', async () => {
  const { a } = accounts()
  for (const name of ['alice', 'bob', 'carol']) {
    assert.deepEqual(await a.password(name, `${name}-secret`, 'src'), { kind: 'account', name })
  }
  await assert.rejects(a.password('alice', 'bob-secret', 'src'), { code: 'AUTH_FAILED' })
  await assert.rejects(a.password('bob', 'Bob-secret', 'src'), { code: 'AUTH_FAILED' })
})

test('an unknown user and a wrong password get the same AUTH_FAILED and both count', async () => {
  const { a, slept } = accounts()
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => assert.fail('logged in'),
      (e: Error & { code?: string }) => e,
    )
  const unknown = await failure(a.password('mallory', 'x', '10.1.1.1'))
  const wrong = await failure(a.password('alice', 'x', '10.1.1.1'))
  assert.equal(unknown.code, 'AUTH_FAILED')
  assert.equal(wrong.code, 'AUTH_FAILED')
  assert.equal(unknown.message, wrong.message)
  assert.deepEqual(slept, [0, 250])
  await assert.rejects(a.password(undefined as unknown as string, 'x', '10.1.1.1'), { code: 'AUTH_FAILED' })
})

test('repeated failures from one source are slowed; the right password resets it', async () => {
  const { a, slept } = accounts()
  for (let i = 0; i < 4; i++)
    await assert.rejects(a.password('bob', 'guess', 'attacker'), { code: 'AUTH_FAILED' })
  assert.deepEqual(slept, [0, 250, 500, 1000])
  await a.password('bob', 'bob-secret', 'attacker')
  assert.equal(a.backoff.failures('attacker'), 0)
})

test('with real timers the second failure takes longer than the first (by the 250 ms back-off)', async (t) => {
  const a = new Accounts(users)
  await a.password('alice', 'alice-secret', '192.0.2.7') // warm scrypt up; a success resets the source
  const time = async () => {
    const start = performance.now()
    await assert.rejects(a.password('alice', 'wrong', '192.0.2.7'), { code: 'AUTH_FAILED' })
    return performance.now() - start
  }
  const first = await time()
  const second = await time()
  t.diagnostic(`first failure ${first.toFixed(1)} ms, second ${second.toFixed(1)} ms`)
  assert.ok(
    second >= 249,
    `second failure took ${second.toFixed(1)} ms, expected at least the 250 ms back-off`,
  )
  assert.ok(second > first, `second failure ${second.toFixed(1)} ms, first ${first.toFixed(1)} ms`)
})

test('byPublicKey finds the account of a key in any base64url spelling; unknown or malformed keys find none', () => {
  const { a } = accounts()
  assert.deepEqual(a.byPublicKey(ciKey), { kind: 'account', name: 'carol' })
  assert.deepEqual(a.byPublicKey(` ${ciKey}\n`), { kind: 'account', name: 'carol' })
  const other = Buffer.from(nodeCryptoProvider.generateKeyPair().publicKey).toString('base64url')
  assert.equal(a.byPublicKey(other), undefined)
  assert.equal(a.byPublicKey('not a key'), undefined)
})

test('a bad accounts config is INVALID_ARGUMENT naming the entry', () => {
  for (const [bad, where] of [
    [{ 'no spaces': { password: users.alice.password } }, /users\.no spaces/],
    [{ dave: {} }, /users\.dave: needs a password or publicKeys/],
    [{ dave: { password: 'hunter2' } }, /users\.dave/],
    [{ dave: { publicKeys: ['short'] } }, /users\.dave\.publicKeys/],
    [{ dave: { publicKeys: [ciKey] }, erin: { publicKeys: [ciKey] } }, /users\.erin: a public key of dave/],
  ] as const) {
    assert.throws(
      () => new Accounts(bad as never),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'INVALID_ARGUMENT')
        assert.match(err.message, where)
        return true
      },
    )
  }
})

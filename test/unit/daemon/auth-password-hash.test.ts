/**
 * Account password hashes: the `scrypt$N$r$p$salt$hash` format, verification in both directions,
 * and parameters bounded on read so a hostile file cannot make a check cost gigabytes.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  hashPassword,
  PASSWORD_SCRYPT,
  parsePasswordHash,
  verifyPassword,
} from '../../../src/daemon/auth/password-hash.ts'

test('hashPassword writes scrypt$N$r$p$salt$hash with a fresh salt; verify accepts only the password', async () => {
  const a = await hashPassword('correct horse')
  const b = await hashPassword('correct horse')
  assert.match(a, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
  assert.notEqual(a, b, 'each hash has its own salt')
  const parsed = parsePasswordHash(a)
  assert.deepEqual([parsed.N, parsed.r, parsed.p], [PASSWORD_SCRYPT.N, PASSWORD_SCRYPT.r, PASSWORD_SCRYPT.p])
  assert.equal(await verifyPassword('correct horse', parsed), true)
  assert.equal(await verifyPassword('correct horse ', parsed), false)
  assert.equal(await verifyPassword('', parsed), false)
  assert.equal(await verifyPassword('battery staple', parsePasswordHash(b)), false)
})

test('the same password in another Unicode normalisation verifies (NFC on both sides)', async () => {
  const stored = parsePasswordHash(await hashPassword('caf\u00e9'))
  assert.equal(await verifyPassword('cafe\u0301', stored), true)
})

test('an empty or non-string password cannot be hashed', async () => {
  await assert.rejects(hashPassword(''), { code: 'INVALID_ARGUMENT' })
  await assert.rejects(hashPassword(42 as unknown as string), { code: 'INVALID_ARGUMENT' })
})

test('malformed or oversized hashes are INVALID_ARGUMENT naming where they came from', () => {
  const salt = Buffer.alloc(16, 1).toString('base64url')
  const hash = Buffer.alloc(32, 2).toString('base64url')
  for (const bad of [
    'plain-text-password',
    `bcrypt$32768$8$1$${salt}$${hash}`,
    `scrypt$30000$8$1$${salt}$${hash}`, // N not a power of two
    `scrypt$${2 ** 21}$8$1$${salt}$${hash}`, // N too large
    `scrypt$${2 ** 20}$16$1$${salt}$${hash}`, // 2 GiB of memory
    `scrypt$32768$0$1$${salt}$${hash}`,
    `scrypt$32768$8$99$${salt}$${hash}`,
    `scrypt$32768$8$1$$${hash}`,
    `scrypt$32768$8$1$${salt}$`,
    `scrypt$32768$8$1$${salt}$${hash}$extra`,
  ]) {
    assert.throws(
      () => parsePasswordHash(bad, 'users.x'),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'INVALID_ARGUMENT', bad)
        assert.match(err.message, /^users\.x: /)
        return true
      },
    )
  }
  assert.equal(parsePasswordHash(`scrypt$1024$8$1$${salt}$${hash}`).N, 1024)
})

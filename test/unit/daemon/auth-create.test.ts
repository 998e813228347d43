/**
 * createDaemonAuth composes the pieces behind the DaemonAuth seam; readAuthConfig reads and
 * checks the JSON file; the OS user lookup finds real users (uid 0) and no others.
 */
import assert from 'node:assert/strict'
import { lstat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { createDaemonAuth, parseAuthConfig, readAuthConfig } from '../../../src/daemon/auth/create.ts'
import { lookupOsUser, parsePasswdLine } from '../../../src/daemon/auth/os-users.ts'
import { hashPassword } from '../../../src/daemon/auth/password-hash.ts'
import { proveLocalUser } from '../../../src/discovery/daemon-cookie.ts'
import { nodeCryptoProvider } from '../../../src/session/node-crypto.ts'
import { makeRuntimeDir, type RuntimeDir } from '../../helpers/tmp.ts'

const uid = process.getuid!()
let tmp: RuntimeDir
before(async () => {
  tmp = await makeRuntimeDir('sb-auth-')
})
after(() => tmp.cleanup())

test('createDaemonAuth: local cookie login, password login, key lookup and policy through one object', async () => {
  const key = Buffer.from(nodeCryptoProvider.generateKeyPair().publicKey).toString('base64url')
  const usersDir = join(tmp.path, 'users')
  const auth = await createDaemonAuth({
    usersDir,
    lookupUser: async (u) => (u === uid ? { name: 'local-me', uid, gid: 0 } : undefined),
    users: { ops: { password: await hashPassword('ops-pass') }, ci: { publicKeys: [key] } },
    policy: { 'account:ops': { register: ['ops.*'], reach: ['billing.*'] } },
    backoff: { sleep: async () => {} },
  })
  assert.equal((await lstat(usersDir)).mode & 0o777, 0o755)
  const { cookieId, challenge } = await auth.beginLocal(uid)
  const { clientChallenge, proof } = await proveLocalUser(usersDir, uid, cookieId, challenge)
  const me = await auth.finishLocal(uid, cookieId, challenge, clientChallenge, proof)
  assert.deepEqual(me, { kind: 'os-user', name: 'local-me', uid })

  const ops = await auth.password('ops', 'ops-pass', 'tcp:192.0.2.1')
  assert.deepEqual(ops, { kind: 'account', name: 'ops' })
  await assert.rejects(auth.password('ops', 'nope', 'tcp:192.0.2.1'), { code: 'AUTH_FAILED' })
  assert.deepEqual(auth.byPublicKey(key), { kind: 'account', name: 'ci' })

  assert.ok(auth.mayRegister(ops, 'ops.queue') && !auth.mayRegister(ops, 'billing.api'))
  assert.ok(auth.mayRegister(me, 'billing.api'), 'no entry limits local-me')
  assert.ok(auth.mayReach(ops, me, 'billing.api') && !auth.mayReach(ops, me, 'audit'))
  assert.ok(!auth.mayReach(me, ops, 'ops.queue'), 'no entry lets local-me reach another principal')
})

test('createDaemonAuth refuses a users directory others may write', async () => {
  await assert.rejects(createDaemonAuth({ usersDir: '/tmp' }), { code: 'INVALID_ARGUMENT' })
})

test('readAuthConfig: a good file loads; bad JSON, a bad hash or a bad policy key fail naming the file or entry', async () => {
  const good = join(tmp.path, 'auth.json')
  const hash = await hashPassword('x')
  await writeFile(
    good,
    JSON.stringify({ users: { a: { password: hash } }, policy: { '*': { reach: ['p.*'] } } }),
  )
  assert.deepEqual(await readAuthConfig(good), {
    users: { a: { password: hash } },
    policy: { '*': { reach: ['p.*'] } },
  })
  const broken = join(tmp.path, 'broken.json')
  await writeFile(broken, '{ "users": ')
  await assert.rejects(readAuthConfig(broken), { code: 'INVALID_ARGUMENT' })
  await assert.rejects(readAuthConfig(join(tmp.path, 'missing.json')), { code: 'INVALID_ARGUMENT' })
  assert.throws(() => parseAuthConfig({ users: { a: { password: 'plain' } } }), /users\.a/)
  assert.throws(() => parseAuthConfig({ policy: { staff: {} } }), /policy\.staff/)
  assert.throws(() => parseAuthConfig([]), { code: 'INVALID_ARGUMENT' })
  assert.deepEqual(parseAuthConfig({ other: 1 }), {})
})

test('lookupOsUser finds uid 0 (root) and no user for an unused uid; passwd lines parse strictly', async () => {
  assert.deepEqual(await lookupOsUser(0), { name: 'root', uid: 0, gid: 0 })
  assert.equal(await lookupOsUser(3_999_999_999), undefined)
  assert.equal(await lookupOsUser(-1), undefined)
  assert.deepEqual(parsePasswdLine('alice:x:1001:100:Alice:/home/alice:/bin/sh', 1001), {
    name: 'alice',
    uid: 1001,
    gid: 100,
  })
  assert.equal(parsePasswdLine('alice:x:1001:100::/:/bin/sh', 1002), undefined)
  assert.equal(parsePasswdLine('alice:x:1e3:100::/:/bin/sh', 1000), undefined)
  assert.equal(parsePasswdLine('# comment', 0), undefined)
})

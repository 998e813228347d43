/**
 * Key and secret files: keygen writes them with the documented format and modes, pubkey reads
 * them back, and files that group or others may read are refused like ssh refuses them.
 */
import assert from 'node:assert/strict'
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import {
  decodeKey,
  keygenKeyPair,
  keygenSecret,
  pubkeyCommand,
  readKeyPairFile,
  readPublicKey,
  readSecretFile,
} from '../../../src/session/key-files.ts'
import { nodeCryptoProvider } from '../../../src/session/node-crypto.ts'
import { makeRuntimeDir, type RuntimeDir } from '../../helpers/tmp.ts'

let dir: RuntimeDir
before(async () => {
  dir = await makeRuntimeDir()
})
after(() => dir.cleanup())

const mode = (path: string) => statSync(path).mode & 0o777

test('keygen --secret --out FILE writes 32 random bytes in base64url, mode 0600', () => {
  const file = join(dir.path, 'secret')
  const result = keygenSecret({ out: file })
  assert.equal(result.file, file)
  assert.equal(mode(file), 0o600)
  assert.match(readFileSync(file, 'utf8'), /^[A-Za-z0-9_-]{43}\n$/)
  assert.equal(readSecretFile(file).length, 32)
  assert.ok(
    !result.output.includes(readFileSync(file, 'utf8').trim()),
    'the secret is not printed when written',
  )
  assert.throws(() => keygenSecret({ out: file }), { code: 'KEY_FILE_INVALID' }, 'no silent overwrite')
  keygenSecret({ out: file, force: true })
})

test('keygen --secret without --out prints a fresh secret each time', () => {
  const a = keygenSecret().output.trim()
  const b = keygenSecret().output.trim()
  assert.match(a, /^[A-Za-z0-9_-]{43}$/)
  assert.notEqual(a, b)
})

test('keygen --out FILE writes FILE (0600) and FILE.pub (0644); pubkey prints the same line', () => {
  const file = join(dir.path, 'id')
  const result = keygenKeyPair({ out: file, comment: 'test@host' })
  assert.equal(mode(file), 0o600)
  assert.equal(mode(`${file}.pub`), 0o644)
  assert.match(readFileSync(file, 'utf8'), /^# .*\nswitchboard-x25519-private [A-Za-z0-9_-]{43}\n$/)
  const pubLine = readFileSync(`${file}.pub`, 'utf8')
  assert.match(pubLine, /^switchboard-x25519 [A-Za-z0-9_-]{43} test@host\n$/)
  assert.equal(result.output, pubLine)
  const pair = readKeyPairFile(file)
  assert.deepEqual(new Uint8Array(nodeCryptoProvider.publicKeyFromPrivate(pair.privateKey)), pair.publicKey)
  assert.deepEqual(readPublicKey(`${file}.pub`), pair.publicKey)
  assert.deepEqual(readPublicKey(file), pair.publicKey, 'pubkey of the private file')
  assert.equal(pubkeyCommand(file), pubkeyCommand(`${file}.pub`))
  assert.deepEqual(decodeKey(pubLine, 'allow[0]'), pair.publicKey, 'a .pub line works in allow lists')
})

test('keygen without --out prints both lines', () => {
  const out = keygenKeyPair().output
  assert.match(out, /switchboard-x25519-private [A-Za-z0-9_-]{43}\nswitchboard-x25519 [A-Za-z0-9_-]{43}\n$/)
})

test('private key and secret files readable or writable by group or others are refused', () => {
  const secret = join(dir.path, 'loose-secret')
  keygenSecret({ out: secret })
  const key = join(dir.path, 'loose-key')
  keygenKeyPair({ out: key })
  for (const m of [0o644, 0o640, 0o604, 0o620, 0o602]) {
    chmodSync(secret, m)
    chmodSync(key, m)
    assert.throws(() => readSecretFile(secret), { code: 'KEY_FILE_INSECURE' }, m.toString(8))
    assert.throws(() => readKeyPairFile(key), { code: 'KEY_FILE_INSECURE' }, m.toString(8))
  }
  chmodSync(secret, 0o400)
  assert.equal(readSecretFile(secret).length, 32, '0400 is fine')
})

test('malformed or missing files are KEY_FILE_INVALID and the message never quotes the content', () => {
  const bad = join(dir.path, 'bad')
  const content = 'not-a-secret-but-a-sentence-that-must-not-leak'
  writeFileSync(bad, `${content}\n`, { mode: 0o600 })
  for (const read of [readSecretFile, readKeyPairFile, readPublicKey]) {
    assert.throws(
      () => read(bad),
      (e: Error & { code: string }) => e.code === 'KEY_FILE_INVALID' && !e.message.includes(content),
    )
  }
  assert.throws(() => readSecretFile(join(dir.path, 'missing')), { code: 'KEY_FILE_INVALID' })
  assert.throws(() => decodeKey('zz', 'allow[0]'), { code: 'INVALID_ARGUMENT' })
})

test('the public API makes, writes and reads secrets and key pairs without the CLI', async () => {
  const api = await import('../../../src/index.ts')
  const secret = api.generateSecret()
  assert.equal(secret.length, 32)
  assert.notDeepEqual(api.generateSecret(), secret, 'each secret is fresh')
  const secretFile = join(dir.path, 'api-secret')
  api.writeSecretFile(secretFile, secret)
  assert.equal(mode(secretFile), 0o600)
  assert.deepEqual(api.readSecretFile(secretFile), secret)
  assert.throws(() => api.writeSecretFile(secretFile, secret), { code: 'KEY_FILE_INVALID' })
  assert.throws(() => api.writeSecretFile(join(dir.path, 'short'), secret.subarray(1)), {
    code: 'INVALID_ARGUMENT',
  })

  const pair = api.generateKeyPair()
  const keyFile = join(dir.path, 'api-key')
  const publicFile = api.writeKeyPairFile(keyFile, pair, { comment: 'api' })
  assert.equal(publicFile, `${keyFile}.pub`)
  assert.equal(mode(keyFile), 0o600)
  assert.equal(mode(publicFile), 0o644)
  assert.deepEqual(api.readKeyPairFile(keyFile), pair)
  assert.deepEqual(api.readPublicKey(publicFile), pair.publicKey)
  assert.match(readFileSync(publicFile, 'utf8'), / api\n$/)
})

/**
 * Secrets are never logged: a child process runs good and bad handshakes with a known secret, a
 * known passphrase and a known private key, printing every diagnostics channel message and every
 * error (stack, causes, hidden properties), with NODE_DEBUG on for switchboard, net and tls. None
 * of the secrets appears in the output in hex, base64, base64url or utf8.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { keygenKeyPair, readKeyPairFile } from '../../src/session/key-files.ts'
import { stretchPassphrase } from '../../src/session/security-options.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { withTimeout } from '../helpers/wait.ts'

let dir: RuntimeDir
before(async () => {
  dir = await makeRuntimeDir()
})
after(() => dir.cleanup())

function forms(label: string, bytes: Buffer): [string, string][] {
  const out: [string, string][] = [
    [`${label} hex`, bytes.toString('hex')],
    [`${label} HEX`, bytes.toString('hex').toUpperCase()],
    [`${label} base64`, bytes.toString('base64')],
    [`${label} base64url`, bytes.toString('base64url')],
    [`${label} byte list (as inspect prints a Uint8Array)`, [...bytes.subarray(0, 8)].join(', ')],
    [
      `${label} spaced hex (as inspect prints a Buffer)`,
      bytes
        .subarray(0, 8)
        .toString('hex')
        .replace(/(..)(?!$)/g, '$1 '),
    ],
  ]
  const text = bytes.toString('utf8')
  if (!text.includes('\ufffd')) out.push([`${label} utf8`, text])
  return out
}

test('no secret, passphrase or private key appears in diagnostics, NODE_DEBUG or error output', async () => {
  const secret = 'correct-horse-battery-staple-42!' // 32 printable bytes: the utf8 form is findable
  const passphrase = 'a long passphrase nobody will guess'
  const keyFile = join(dir.path, 'probe-key')
  keygenKeyPair({ out: keyFile })
  const privateKey = Buffer.from(readKeyPairFile(keyFile).privateKey)
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/programs/secret-leak-probe.ts'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NODE_DEBUG: 'switchboard,net,tls',
      PROBE_SECRET: secret,
      PROBE_PASSPHRASE: passphrase,
      PROBE_KEY_FILE: keyFile,
    },
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString()
  })
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString()
  })
  const [code] = await withTimeout(
    new Promise<[number | null]>((resolve) => child.once('exit', (c) => resolve([c]))),
    30_000,
    'the probe to finish',
  )
  assert.equal(code, 0, output.slice(-2000))
  assert.match(output, /probe done/)
  // It really saw the failures and the debug log: otherwise the check below proves nothing.
  assert.match(output, /AUTH_FAILED/)
  assert.match(output, /PEER_NOT_ALLOWED/)
  assert.match(output, /channel handshake/)
  assert.match(output, /SWITCHBOARD \d+:/)
  assert.match(output, /NET \d+:/)
  const secrets = [
    ...forms('secret', Buffer.from(secret, 'utf8')),
    ...forms('passphrase', Buffer.from(passphrase, 'utf8')),
    ...forms('stretched passphrase', Buffer.from(stretchPassphrase(passphrase))),
    ...forms('private key', privateKey),
  ]
  for (const [what, text] of secrets) assert.ok(!output.includes(text), `${what} appears in the output`)
  console.log(`checked ${output.length} bytes of output against ${secrets.length} forms`)
})

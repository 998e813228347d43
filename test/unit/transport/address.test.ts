import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type ErrorCode, isSwitchboardError } from '../../../src/errors.ts'
import { formatAddress, type ParsedAddress, parseAddress } from '../../../src/transport/address.ts'
import { namedSocketPath, windowsPipePath } from '../../../src/transport/socket-path.ts'

function refuses(input: string, code: ErrorCode): void {
  assert.throws(
    () => parseAddress(input),
    (err: unknown) => isSwitchboardError(err, code),
    `${JSON.stringify(input)} should fail with ${code}`,
  )
}

const valid: [string, ParsedAddress][] = [
  ['my-app', { kind: 'local', name: 'my-app' }],
  ['A.b_c-9', { kind: 'local', name: 'A.b_c-9' }],
  ['unix:my-app', { kind: 'local', name: 'my-app' }],
  ['unix:/run/x.sock', { kind: 'unix', path: '/run/x.sock' }],
  ['unix:///run/x.sock', { kind: 'unix', path: '/run/x.sock' }],
  ['unix:/run//a/../x.sock', { kind: 'unix', path: '/run/x.sock' }],
  ['unix:/home/me/My Files/x.sock', { kind: 'unix', path: '/home/me/My Files/x.sock' }],
  ['UNIX:/run/x.sock', { kind: 'unix', path: '/run/x.sock' }],
  ['pipe:svc', { kind: 'pipe', name: 'svc' }],
  ['tcp://127.0.0.1:4100', { kind: 'tcp', family: 0, host: '127.0.0.1', port: 4100 }],
  ['tcp://localhost:0', { kind: 'tcp', family: 0, host: 'localhost', port: 0 }],
  ['tcp://example.com.:65535', { kind: 'tcp', family: 0, host: 'example.com.', port: 65535 }],
  ['tcp://[::1]:80', { kind: 'tcp', family: 0, host: '::1', port: 80 }],
  ['tcp4://0.0.0.0:4455', { kind: 'tcp', family: 4, host: '0.0.0.0', port: 4455 }],
  ['tcp4://my-host:1', { kind: 'tcp', family: 4, host: 'my-host', port: 1 }],
  ['tcp6://[::]:4455', { kind: 'tcp', family: 6, host: '::', port: 4455 }],
  ['tcp6://[fe80::1]:9', { kind: 'tcp', family: 6, host: 'fe80::1', port: 9 }],
  ['tcp6://ip6-localhost:9', { kind: 'tcp', family: 6, host: 'ip6-localhost', port: 9 }],
  ['tls://example.com:443', { kind: 'tls', host: 'example.com', port: 443 }],
  ['tls://[2001:db8::1]:443', { kind: 'tls', host: '2001:db8::1', port: 443 }],
  ['sb:billing', { kind: 'peer', name: 'billing' }],
]

describe('parseAddress', () => {
  for (const [input, expected] of valid) {
    it(`parses ${input}`, () => {
      assert.deepEqual(parseAddress(input), expected)
    })
  }

  it('formatAddress round-trips every parsed form', () => {
    for (const [input, expected] of valid) {
      const text = formatAddress(expected)
      assert.deepEqual(parseAddress(text), expected, `${input} -> ${text}`)
    }
    assert.equal(formatAddress({ kind: 'tcp', family: 6, host: '::1', port: 5 }), 'tcp6://[::1]:5')
    assert.equal(formatAddress({ kind: 'local', name: 'my-app' }), 'unix:my-app')
  })

  it('a bare word is a socket name, never a peer name', () => {
    assert.equal(parseAddress('billing').kind, 'local')
  })

  const invalid = [
    '',
    ' ',
    'my app',
    'my/app',
    '.',
    '..',
    '/run/x.sock',
    'x\u0000y',
    'unix:',
    'unix:relative/path.sock',
    'unix:./x.sock',
    'unix://relative',
    'unix:/run/dir/',
    'unix:bad name',
    'pipe:',
    'pipe:a/b',
    'sb:',
    'sb:a b',
    'tcp://',
    'tcp:127.0.0.1:80',
    'tcp://127.0.0.1',
    'tcp://127.0.0.1:',
    'tcp://:80',
    'tcp://127.0.0.1:65536',
    'tcp://127.0.0.1:99999',
    'tcp://127.0.0.1:-1',
    'tcp://127.0.0.1:80x',
    'tcp://127.0.0.1:80/path',
    'tcp://user@host:80',
    'tcp://::1:80',
    'tcp://[::1:80',
    'tcp://[::1]80',
    'tcp://[127.0.0.1]:80',
    'tcp://999.1.1.1:80',
    'tcp://bad_host!:80',
    'tcp4://[::1]:80',
    'tcp6://127.0.0.1:80',
    'tls://host',
    '127.0.0.1:4000',
    'x'.repeat(256),
    `unix:/${'a'.repeat(5000)}`,
  ]
  for (const input of invalid) {
    it(`refuses ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)} with ADDRESS_INVALID`, () => {
      refuses(input, 'ADDRESS_INVALID')
    })
  }

  for (const input of [
    'udp://127.0.0.1:9',
    'udp:x',
    'socks5://proxy:1080',
    'shm:ring',
    'worker:pool',
    'http://example.com:80',
    'gopher:x',
    'localhost:4000',
  ]) {
    it(`refuses ${input} with SCHEME_UNSUPPORTED`, () => {
      refuses(input, 'SCHEME_UNSUPPORTED')
    })
  }

  it('a later scheme says it arrives later; host:port gets a hint', () => {
    assert.throws(() => parseAddress('shm:ring'), /later version/)
    assert.throws(() => parseAddress('localhost:4000'), /did you mean tcp:\/\/localhost:4000/)
    assert.throws(() => parseAddress('127.0.0.1:4000'), /did you mean tcp:\/\/127\.0\.0\.1:4000/)
  })

  it('accepts a name of 255 characters and refuses 256', () => {
    assert.deepEqual(parseAddress('n'.repeat(255)), { kind: 'local', name: 'n'.repeat(255) })
    refuses(`unix:${'n'.repeat(256)}`, 'ADDRESS_INVALID')
  })
})

describe('name to socket mapping (pure)', () => {
  it('maps a pipe name to \\\\.\\pipe\\NAME on Windows', () => {
    assert.equal(windowsPipePath('svc'), '\\\\.\\pipe\\svc')
    assert.equal(windowsPipePath('my-app.v2'), String.raw`\\.\pipe\my-app.v2`)
  })

  it('maps a name to <runtimeDir>/<name>.sock elsewhere', () => {
    assert.equal(namedSocketPath('/run/user/1000/switchboard', 'svc'), '/run/user/1000/switchboard/svc.sock')
  })
})

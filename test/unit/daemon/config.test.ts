/**
 * The daemon's config: every setting is checked, unknown ones are refused, coded.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { checkDaemonConfig, readDaemonConfig } from '../../../src/daemon/config.ts'
import { makeRuntimeDir } from '../../helpers/tmp.ts'

const tmp = await makeRuntimeDir('sbcfg-')
after(() => tmp.cleanup())

test('a full config is read as given', () => {
  const file = join(tmp.path, 'ok.json')
  const config = {
    socket: '/run/switchboard/daemon.sock',
    tcp: '0.0.0.0:4455',
    keyFile: '/var/lib/switchboard/daemon.key',
    publicKeyFile: '/run/switchboard/daemon.pub',
    log: '/var/log/switchboard/daemon.log',
    sweepMs: 250,
    maxConnections: 4096,
    limits: { maxEntriesPerConnection: 8, maxLeaseMs: 60_000 },
    auth: {
      users: { ci: { publicKeys: ['-0bL-QRquafhiS7hlvOYVlyTyL1rt0K4SiUzpaRXZlA'] } },
      policy: { 'account:ci': { register: ['build-?'] } },
      usersDir: '/run/switchboard/users',
    },
  }
  writeFileSync(file, JSON.stringify(config))
  assert.deepEqual(readDaemonConfig(file), config)
  assert.deepEqual(checkDaemonConfig({ socket: false, tcp: 'h' }, 'x'), { socket: false, tcp: 'h' })
})

test('bad settings are INVALID_ARGUMENT naming them', () => {
  const bad: [unknown, RegExp][] = [
    [[], /must be a JSON object/],
    [{ colour: 1 }, /unknown setting 'colour'/],
    [{ socket: 1 }, /socket must be a path or false/],
    [{ tcp: '' }, /tcp must be a non-empty string/],
    [{ sweepMs: -1 }, /sweepMs must be a positive integer/],
    [{ maxConnections: 1.5 }, /maxConnections must be a positive integer/],
    [{ limits: [] }, /limits must be an object/],
    [{ limits: { maxThings: 1 } }, /unknown limit 'maxThings'/],
    [{ limits: { maxEntries: 0 } }, /limits.maxEntries must be a positive integer/],
    [{ auth: { accounts: [] } }, /auth: unknown setting 'accounts'/],
    [{ auth: { usersDir: 'users' } }, /usersDir must be an absolute path/],
    [{ auth: { users: { ops: { password: 'plain' } } } }, /users.ops: not a scrypt hash/],
    [{ auth: { policy: { bob: {} } } }, /policy.bob: keys are/],
  ]
  for (const [value, message] of bad) {
    assert.throws(
      () => checkDaemonConfig(value, 'cfg'),
      { code: 'INVALID_ARGUMENT', message },
      JSON.stringify(value),
    )
  }
  const notJson = join(tmp.path, 'bad.json')
  writeFileSync(notJson, '{ nope')
  assert.throws(() => readDaemonConfig(notJson), { code: 'INVALID_ARGUMENT', message: /is not JSON/ })
  assert.throws(() => readDaemonConfig(join(tmp.path, 'missing.json')), {
    code: 'INVALID_ARGUMENT',
    message: /cannot read/,
  })
})

import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { isSwitchboardError } from '../../../src/errors.ts'
import { fallbackDirPath, runtimeDirPath } from '../../../src/transport/runtime-dir.ts'
import { fitSocketPath, pathHash, sunPathMax } from '../../../src/transport/socket-path.ts'

const ctx = { runtimeDir: '/run/user/1000/switchboard', shortDir: '/tmp/switchboard-1000', maxBytes: 107 }

describe('fitSocketPath', () => {
  it('keeps a path that fits', () => {
    assert.deepEqual(fitSocketPath('/run/user/1000/switchboard/a.sock', ctx), {
      path: '/run/user/1000/switchboard/a.sock',
      dir: undefined,
    })
  })

  it('maps a long path to h-<hash>.sock in the runtime dir, deterministically', () => {
    const long = `/run/user/1000/switchboard/${'x'.repeat(150)}.sock`
    const a = fitSocketPath(long, ctx)
    assert.equal(a.dir, 'runtime')
    assert.match(a.path, /^\/run\/user\/1000\/switchboard\/h-[a-z2-7]{26}\.sock$/)
    assert.deepEqual(fitSocketPath(long, ctx), a)
    assert.notEqual(fitSocketPath(`${long}x`, ctx).path, a.path)
    assert.ok(Buffer.byteLength(a.path) <= 107)
  })

  it('counts bytes, not characters', () => {
    const path = `/r/${'é'.repeat(60)}.sock` // 60 characters, 120 bytes
    assert.equal(fitSocketPath(path, ctx).dir, 'runtime')
  })

  it('falls back to the short dir when the runtime dir itself is too long', () => {
    const runtimeDir = `/${'d'.repeat(100)}`
    const a = fitSocketPath(`${runtimeDir}/svc.sock`, { ...ctx, runtimeDir })
    assert.equal(a.dir, 'short')
    assert.match(a.path, /^\/tmp\/switchboard-1000\/h-[a-z2-7]{26}\.sock$/)
  })

  it('refuses with ADDRESS_INVALID when nothing fits, never truncating', () => {
    const long = `/${'d'.repeat(100)}`
    assert.throws(
      () => fitSocketPath(`${long}/svc.sock`, { runtimeDir: long, shortDir: long, maxBytes: 107 }),
      (err: unknown) => isSwitchboardError(err, 'ADDRESS_INVALID'),
    )
  })

  it('sun_path limits per platform', () => {
    assert.equal(sunPathMax('linux'), 107)
    assert.equal(sunPathMax('darwin'), 103)
  })

  it('pathHash is 26 base32 characters', () => {
    assert.match(pathHash(''), /^[a-z2-7]{26}$/)
    // SHA-256("") starts e3b0c442 98fc1c14 9afbf4c8 996fb924
    assert.equal(pathHash('').slice(0, 8), '4oymiquy')
  })
})

describe('runtimeDirPath', () => {
  const tmp = '/tmp'
  it('prefers the option, then SWITCHBOARD_RUNTIME_DIR, then XDG_RUNTIME_DIR, then tmpdir', () => {
    const env = { SWITCHBOARD_RUNTIME_DIR: '/env/sb', XDG_RUNTIME_DIR: '/run/user/7' }
    assert.equal(runtimeDirPath({ runtimeDir: '/opt/rt' }, env, tmp), '/opt/rt')
    assert.equal(runtimeDirPath({}, env, tmp), '/env/sb')
    assert.equal(runtimeDirPath({}, { XDG_RUNTIME_DIR: '/run/user/7' }, tmp), '/run/user/7/switchboard')
    assert.equal(runtimeDirPath({}, {}, tmp), fallbackDirPath(tmp))
    assert.equal(fallbackDirPath(tmp), join(tmp, `switchboard-${process.getuid?.()}`))
  })

  it('ignores a relative XDG_RUNTIME_DIR', () => {
    assert.equal(runtimeDirPath({}, { XDG_RUNTIME_DIR: 'relative' }, tmp), fallbackDirPath(tmp))
  })
})

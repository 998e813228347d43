/**
 * The named diagnostics_channel channels: each lifecycle event is published exactly once per
 * session, with the role and the remote; an error session publishes :error once.
 */
import assert from 'node:assert/strict'
import diagnostics from 'node:diagnostics_channel'
import { test } from 'node:test'
import { Session } from '../../../src/session/session.ts'
import { memoryPair } from '../../../src/testing/memory-pair.ts'

function record(names: string[]): {
  events: { name: string; message: Record<string, unknown> }[]
  stop(): void
} {
  const events: { name: string; message: Record<string, unknown> }[] = []
  const subs = names.map((name) => {
    const fn = (message: unknown): void => {
      events.push({ name, message: message as Record<string, unknown> })
    }
    diagnostics.subscribe(name, fn)
    return (): void => {
      diagnostics.unsubscribe(name, fn)
    }
  })
  return {
    events,
    stop: () => {
      for (const unsubscribe of subs) unsubscribe()
    },
  }
}

const all = ['switchboard:connect', 'switchboard:handshake', 'switchboard:close', 'switchboard:error']

test('connect, handshake and close are each published once per side; no error on a clean close', async () => {
  const rec = record(all)
  const [a, b] = memoryPair()
  const [client, server] = await Promise.all([
    Session.establish(a, 'dialer', {}, { onChannel() {} }),
    Session.establish(b, 'listener', {}, { onChannel() {} }),
  ])
  await client.close()
  await server.closed
  rec.stop()
  for (const role of ['dialer', 'listener']) {
    for (const name of ['switchboard:connect', 'switchboard:handshake', 'switchboard:close']) {
      const n = rec.events.filter((e) => e.name === name && e.message['role'] === role).length
      assert.equal(n, 1, `${name} for the ${role}`)
    }
  }
  const handshake = rec.events.find((e) => e.name === 'switchboard:handshake')
  assert.equal(handshake?.message['codec'], 'msgpack')
  assert.equal(
    rec.events.filter((e) => e.name === 'switchboard:error' && e.message['role'] === 'dialer').length,
    0,
  )
})

test('a failed hello publishes :error once with the coded error', async () => {
  const rec = record(all)
  const [a, b] = memoryPair()
  const results = await Promise.allSettled([
    Session.establish(a, 'dialer', { codecs: ['json'] }, { onChannel() {} }),
    Session.establish(b, 'listener', { codecs: ['msgpack'] }, { onChannel() {} }),
  ])
  assert.ok(results.every((r) => r.status === 'rejected'))
  rec.stop()
  const errors = rec.events.filter((e) => e.name === 'switchboard:error')
  assert.equal(errors.length, 2, 'one per side')
  for (const e of errors) assert.equal((e.message['error'] as { code: string }).code, 'NEGOTIATION_FAILED')
  assert.equal(rec.events.filter((e) => e.name === 'switchboard:close').length, 2)
})

test('mismatched protocol versions are refused with VERSION_MISMATCH', async () => {
  const { negotiate } = await import('../../../src/handshake/negotiate.ts')
  const base = {
    linkId: new Uint8Array(16),
    codecs: ['msgpack'],
    compression: [],
    security: ['none'],
    limits: new Map<number, number>(),
    protocols: [],
  }
  assert.throws(
    () => negotiate({ ...base, versions: [1], role: 'dialer' }, { ...base, versions: [2], role: 'listener' }),
    (e: { code: string }) => e.code === 'VERSION_MISMATCH',
  )
  const ok = negotiate(
    { ...base, versions: [1, 2], role: 'dialer' },
    { ...base, versions: [2, 3], role: 'listener' },
  )
  assert.equal(ok.version, 2)
})

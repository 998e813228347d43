/** Liveness: pids, the once-a-second gate for probes, and tombstones. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ProbeGate, pidAlive, Tombstones } from '../../../src/discovery/liveness.ts'
import { deadPid } from './helpers.ts'

test('pidAlive: our own pid and pid 1 are alive; an exited child is not', async () => {
  assert.equal(pidAlive(process.pid), true)
  assert.equal(pidAlive(1), true) // EPERM or alive: either way it exists
  assert.equal(pidAlive(await deadPid()), false)
})

test('ProbeGate runs a check at most once per interval and exposes the one in flight', async () => {
  let now = 0
  const gate = new ProbeGate(() => now, 1000)
  let runs = 0
  let release: (alive: boolean) => void = () => {}
  const check = () => {
    runs++
    return new Promise<boolean>((resolve) => {
      release = resolve
    })
  }
  const first = gate.run('a', check)
  assert.ok(first)
  assert.equal(gate.pending('a'), first)
  now = 999
  assert.equal(gate.run('a', check), undefined)
  assert.ok(
    gate.run('b', async () => true),
    'another instance has its own slot',
  )
  release(false)
  assert.equal(await first, false)
  assert.equal(gate.pending('a'), undefined)
  now = 1000
  const second = gate.run('a', check)
  assert.ok(second)
  release(true)
  assert.equal(await second, true)
  assert.equal(runs, 2)
  now = 3000
  assert.equal(await gate.run('a', async () => Promise.reject(new Error('probe broke'))), true)
})

test('Tombstones expire, and delete revives', () => {
  let now = 0
  const stones = new Tombstones(() => now, 100)
  stones.add('x')
  stones.add('y')
  assert.equal(stones.has('x'), true)
  stones.delete('y')
  assert.equal(stones.has('y'), false)
  now = 100
  assert.equal(stones.has('x'), false)
})

/**
 * The policy: glob patterns, register and reach per principal and for `*`, same principal
 * allowed by default and two different OS users only through an explicit entry, and the
 * NOT_PERMITTED helpers.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { globToRegExp, Policy, requireReach, requireRegister } from '../../../src/daemon/auth/policy.ts'
import type { Principal } from '../../../src/daemon/auth.ts'

const alice: Principal = { kind: 'os-user', name: 'alice', uid: 1001 }
const aliceAgain: Principal = { kind: 'os-user', name: 'alice', uid: 1001 }
const bob: Principal = { kind: 'os-user', name: 'bob', uid: 1002 }
const ci: Principal = { kind: 'account', name: 'ci' }
const ciUser: Principal = { kind: 'os-user', name: 'ci', uid: 1003 }

test('globs: * is any run (dots included), ? one character, everything else literal', () => {
  assert.ok(globToRegExp('billing.*').test('billing.api'))
  assert.ok(globToRegExp('billing.*').test('billing.api.v2'))
  assert.ok(!globToRegExp('billing.*').test('billingXapi'), 'the dot is literal')
  assert.ok(!globToRegExp('billing.*').test('my.billing.api'), 'anchored')
  assert.ok(globToRegExp('build-?').test('build-7'))
  assert.ok(!globToRegExp('build-?').test('build-17'))
  assert.ok(globToRegExp('a+b(c)[d]').test('a+b(c)[d]'))
  assert.ok(!globToRegExp('a+b').test('aab'))
})

test('reach: the same OS user by default; another OS user only with an entry for that name', () => {
  const none = new Policy({})
  assert.ok(none.mayReach(alice, aliceAgain, 'anything'))
  assert.ok(!none.mayReach(alice, bob, 'billing.api'))
  assert.ok(!none.mayReach(bob, alice, 'billing.api'))
  const p = new Policy({ 'os-user:bob': { reach: ['billing.*'] } })
  assert.ok(p.mayReach(bob, alice, 'billing.api'))
  assert.ok(!p.mayReach(bob, alice, 'audit.log'), 'only the names listed')
  assert.ok(!p.mayReach(alice, bob, 'billing.api'), 'an entry is one-way')
})

test('reach: an account and an OS user of the same name are different principals; * applies to all', () => {
  const p = new Policy({ '*': { reach: ['public.*'] } })
  assert.ok(!p.mayReach(ci, ciUser, 'private.x'))
  assert.ok(p.mayReach(ci, ciUser, 'public.time'))
  assert.ok(p.mayReach(alice, bob, 'public.time'))
  assert.ok(p.mayReach(ci, { kind: 'account', name: 'ci' }, 'private.x'), 'same account')
})

test('register: open when no entry says otherwise; an entry (own or *) limits it to its patterns', () => {
  assert.ok(new Policy({}).mayRegister(alice, 'whatever'))
  const p = new Policy({
    'os-user:alice': { register: ['billing.*'] },
    'account:ci': { register: [] },
  })
  assert.ok(p.mayRegister(alice, 'billing.api'))
  assert.ok(!p.mayRegister(alice, 'audit.log'))
  assert.ok(!p.mayRegister(ci, 'billing.api'), 'an empty list registers nothing')
  assert.ok(p.mayRegister(bob, 'audit.log'), 'bob has no entry and there is no * register')
  const all = new Policy({ '*': { register: ['user.*'] }, 'os-user:alice': { register: ['billing.*'] } })
  assert.ok(all.mayRegister(alice, 'user.x') && all.mayRegister(alice, 'billing.x'))
  assert.ok(!all.mayRegister(bob, 'billing.x') && all.mayRegister(bob, 'user.bob'))
})

test('requireRegister and requireReach throw NOT_PERMITTED with the principals in details', () => {
  const p = new Policy({ 'os-user:alice': { register: ['billing.*'] } })
  requireRegister(p, alice, 'billing.api')
  assert.throws(
    () => requireRegister(p, alice, 'audit'),
    (err: Error & { code?: string; details?: object }) => {
      assert.equal(err.code, 'NOT_PERMITTED')
      assert.deepEqual(err.details, { principal: 'os-user:alice', name: 'audit' })
      return true
    },
  )
  requireReach(p, alice, aliceAgain, 'x')
  assert.throws(() => requireReach(p, alice, bob, 'x'), { code: 'NOT_PERMITTED' })
})

test('a bad policy is INVALID_ARGUMENT naming the entry', () => {
  for (const bad of [
    { alice: { reach: ['x'] } },
    { 'os-user:alice': { reach: 'x' } },
    { 'os-user:alice': { register: [''] } },
    { 'group:staff': {} },
    { 'os-user:alice': null },
  ]) {
    assert.throws(() => new Policy(bad as never), { code: 'INVALID_ARGUMENT' }, JSON.stringify(bad))
  }
})

/** src/errors.ts: the wire table, the brand that makes instanceof work across copies, causes. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  codeFromWire,
  type ErrorCode,
  ErrorCodes,
  isSwitchboardError,
  SwitchboardError,
  sbError,
  wireCodeOf,
} from '../../src/errors.ts'

const codes = Object.keys(ErrorCodes) as ErrorCode[]
const onWire = codes.filter((c) => ErrorCodes[c].wire !== 0)

test('wire numbers are distinct, positive integers', () => {
  const numbers = onWire.map((c) => ErrorCodes[c].wire)
  assert.equal(new Set(numbers).size, numbers.length, 'two codes share a wire number')
  for (const n of numbers) assert.ok(Number.isInteger(n) && n > 0, `bad wire number ${n}`)
})

test('the wire table is a bijection both ways for wire != 0', () => {
  for (const code of onWire) {
    assert.equal(codeFromWire(wireCodeOf(code)), code, `${code} does not round-trip`)
  }
  for (const n of onWire.map((c) => ErrorCodes[c].wire)) {
    assert.equal(wireCodeOf(codeFromWire(n)), n, `wire ${n} does not round-trip`)
  }
})

test('local codes have wire 0; 0 and unknown numbers decode to INTERNAL', () => {
  for (const code of codes.filter((c) => ErrorCodes[c].wire === 0)) assert.equal(wireCodeOf(code), 0)
  assert.equal(codeFromWire(0), 'INTERNAL')
  const unknown = Math.max(...onWire.map((c) => ErrorCodes[c].wire)) + 1000
  assert.equal(codeFromWire(unknown), 'INTERNAL')
  assert.equal(codeFromWire(-1), 'INTERNAL')
})

test('an error carries code, default message, wire code, retryable and details', () => {
  const err = new SwitchboardError('DEADLINE', undefined, { details: { ms: 5 } })
  assert.ok(err instanceof Error)
  assert.equal(err.name, 'SwitchboardError')
  assert.equal(err.code, 'DEADLINE')
  assert.equal(err.message, ErrorCodes.DEADLINE.message)
  assert.equal(err.wireCode, ErrorCodes.DEADLINE.wire)
  assert.equal(err.retryable, true)
  assert.deepEqual(err.details, { ms: 5 })
  assert.equal(new SwitchboardError('REFUSED', 'go away').message, 'go away')
  assert.equal(new SwitchboardError('REFUSED').retryable, false)
})

test('the cause is chained, and absent when not given', () => {
  const inner = new Error('ECONNRESET')
  const err = sbError('CONNECTION_LOST', undefined, { cause: inner })
  assert.equal(err.cause, inner)
  const outer = sbError('HANDSHAKE_FAILED', 'wrapped', { cause: err })
  assert.equal((outer.cause as SwitchboardError).cause, inner)
  assert.equal('cause' in sbError('CANCELLED'), false)
})

test('isSwitchboardError checks the family and optionally the code', () => {
  const err = sbError('QUEUE_FULL')
  assert.equal(isSwitchboardError(err), true)
  assert.equal(isSwitchboardError(err, 'QUEUE_FULL'), true)
  assert.equal(isSwitchboardError(err, 'DEADLINE'), false)
  assert.equal(isSwitchboardError(new Error('x')), false)
  assert.equal(isSwitchboardError(null), false)
  assert.equal(isSwitchboardError('QUEUE_FULL'), false)
})

test('instanceof works across a second copy of the module', async () => {
  const url = new URL('../../src/errors.ts?copy=2', import.meta.url).href
  const copy = (await import(url)) as typeof import('../../src/errors.ts')
  assert.notEqual(copy.SwitchboardError, SwitchboardError, 'the query should load a distinct copy')
  const fromCopy = new copy.SwitchboardError('DEADLINE')
  assert.ok(fromCopy instanceof SwitchboardError)
  assert.ok(sbError('DEADLINE') instanceof copy.SwitchboardError)
  assert.equal(isSwitchboardError(fromCopy, 'DEADLINE'), true)
  assert.equal(copy.isSwitchboardError(sbError('CANCELLED'), 'CANCELLED'), true)
})

test('instanceof follows the Symbol.for brand, and nothing else', () => {
  const branded = { [Symbol.for('switchboard.error')]: true, code: 'DEADLINE' }
  assert.ok((branded as unknown) instanceof SwitchboardError)
  const getterBranded = Object.defineProperty({}, Symbol.for('switchboard.error'), { get: () => true })
  assert.ok((getterBranded as unknown) instanceof SwitchboardError)
  assert.equal((new Error('plain') as unknown) instanceof SwitchboardError, false)
  assert.equal(({ [Symbol.for('switchboard.error')]: 'yes' } as unknown) instanceof SwitchboardError, false)
  assert.equal((null as unknown) instanceof SwitchboardError, false)
})

/** The resend rules (src/link/rules.ts), case by case as docs/delivery.md states them. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sbError } from '../../../src/errors.ts'
import { Delivery, type DeliveryFlags } from '../../../src/link/delivery.ts'
import { afterFailedAttempt } from '../../../src/link/rules.ts'
import { lossError } from '../../../src/rpc/loss.ts'

function delivery(flags: Partial<DeliveryFlags> = {}, streamed = false): Delivery {
  const all = { idempotent: false, oneShot: false, ordered: false, ...flags }
  return new Delivery('request', 'm', 1, 1, 7, all, 1000, undefined, undefined, streamed, {
    attemptSucceeded() {},
    attemptFailed() {},
    attemptUndone() {},
    finalFailure() {},
  })
}
const lost = (written: boolean) => lossError(sbError('CONNECTION_LOST'), written)
const code = (v: ReturnType<typeof afterFailedAttempt>): string => (v.resend ? 'resend' : v.error.code)

test('default: unwritten or refused by GOAWAY → resend; written → OUTCOME_UNKNOWN; other errors as they are', () => {
  assert.equal(code(afterFailedAttempt(delivery(), lost(false), undefined)), 'resend')
  assert.equal(code(afterFailedAttempt(delivery(), sbError('GOING_AWAY'), undefined)), 'resend')
  assert.equal(code(afterFailedAttempt(delivery(), lost(true), undefined)), 'OUTCOME_UNKNOWN')
  assert.equal(code(afterFailedAttempt(delivery(), sbError('APP_ERROR'), undefined)), 'APP_ERROR')
  assert.equal(code(afterFailedAttempt(delivery(), sbError('DEADLINE'), undefined)), 'DEADLINE')
})

test('idempotent: written → resend; streamed bodies are never resent', () => {
  assert.equal(code(afterFailedAttempt(delivery({ idempotent: true }), lost(true), undefined)), 'resend')
  assert.equal(
    code(afterFailedAttempt(delivery({ idempotent: true }, true), lost(true), undefined)),
    'OUTCOME_UNKNOWN',
  )
  assert.equal(
    code(afterFailedAttempt(delivery({ idempotent: true }, true), lost(false), undefined)),
    'CONNECTION_LOST',
  )
})

test('one-shot: never resent; a closed link resends nothing', () => {
  assert.equal(code(afterFailedAttempt(delivery({ oneShot: true }), lost(false), undefined)), 'NOT_CONNECTED')
  assert.equal(
    code(afterFailedAttempt(delivery({ oneShot: true }), lost(true), undefined)),
    'OUTCOME_UNKNOWN',
  )
  const closed = sbError('SESSION_CLOSED')
  assert.equal(code(afterFailedAttempt(delivery(), lost(false), closed)), 'SESSION_CLOSED')
  assert.equal(
    code(afterFailedAttempt(delivery({ idempotent: true }), lost(true), closed)),
    'OUTCOME_UNKNOWN',
  )
})

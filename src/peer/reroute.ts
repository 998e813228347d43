/**
 * When a call by name may move on to another instance of the name. Never sent (the instance
 * could not be reached, or refused it unprocessed): always. Lost on the way: only an idempotent
 * call, which the delivery rules allow to run twice.
 */
import type { ErrorCode } from '../errors.ts'

const NEVER_SENT: ReadonlySet<ErrorCode> = new Set([
  'CONNECT_FAILED',
  'NOT_CONNECTED',
  'GOING_AWAY',
  'HANDSHAKE_BUSY',
  'HANDSHAKE_TIMEOUT',
])
const MAYBE_RAN: ReadonlySet<ErrorCode> = new Set([
  'CONNECTION_LOST',
  'OUTCOME_UNKNOWN',
  'SESSION_CLOSED',
  'INACTIVITY_TIMEOUT',
])

export function reroutable(code: ErrorCode, idempotent: boolean): boolean {
  return NEVER_SENT.has(code) || (idempotent && MAYBE_RAN.has(code))
}

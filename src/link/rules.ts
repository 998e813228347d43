/**
 * The resend rules of docs/delivery.md as one pure decision: after an attempt of a message
 * failed, resend it or settle it with which error. Kept apart from the link so the whole rule
 * reads in one place.
 */
import { type SwitchboardError, sbError } from '../errors.ts'
import { lossOf } from '../rpc/loss.ts'
import type { Delivery } from './delivery.ts'

export type Verdict = { resend: true } | { resend: false; error: SwitchboardError }

/**
 * `err` ended an attempt of `d`; `closedWith` is the link's close error when it has closed.
 * - not a connection matter (remote error, deadline, cancel): the error as it is;
 * - never written, or refused unprocessed by a GOAWAY: resend (one-shot: NOT_CONNECTED);
 * - written: resend if idempotent, else OUTCOME_UNKNOWN (it may have run);
 * - a streamed body is never resent once an attempt read from it; a closed link resends nothing.
 */
export function afterFailedAttempt(
  d: Delivery,
  err: SwitchboardError,
  closedWith: SwitchboardError | undefined,
): Verdict {
  const loss = lossOf(err)
  if (loss === undefined && err.code !== 'GOING_AWAY') return { resend: false, error: err }
  const mayHaveRun = loss?.written === true
  const canResend = d.resendable && (!mayHaveRun || d.flags.idempotent)
  if (closedWith === undefined && canResend && !d.flags.oneShot) return { resend: true }
  if (mayHaveRun) return { resend: false, error: outcomeUnknown(d, err) }
  if (closedWith !== undefined) return { resend: false, error: closedWith }
  if (!d.resendable) return { resend: false, error: err }
  return {
    resend: false,
    error: sbError('NOT_CONNECTED', `one-shot '${d.name}' was not sent: its connection ended`, {
      cause: err,
    }),
  }
}

function outcomeUnknown(d: Delivery, err: SwitchboardError): SwitchboardError {
  return sbError(
    'OUTCOME_UNKNOWN',
    `connection to the peer ended after '${d.name}' was written and before it was answered (${err.code}); it may or may not have run`,
    { cause: err, details: { messageId: d.messageId } },
  )
}

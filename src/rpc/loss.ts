/**
 * How a message's connection ending reaches the layer that may send it again (link/): the error
 * says it was lost with the connection, and whether any of it had been written. This is the
 * one face link/ reads to choose between a resend and OUTCOME_UNKNOWN.
 */
import { SwitchboardError } from '../errors.ts'

/**
 * Details on an error that ended a message because its connection ended: `lost` is true, and
 * `written` says whether any byte of it had been handed to the transport. link/ uses them to
 * decide between a resend and OUTCOME_UNKNOWN.
 */
export interface LossDetails {
  lost: true
  written: boolean
}

/** The error for a message whose connection ended; see LossDetails. */
export function lossError(err: SwitchboardError, written: boolean): SwitchboardError {
  const details: LossDetails = { lost: true, written }
  return new SwitchboardError(err.code, err.message, { cause: err, details: { ...details } })
}

/** True when `err` ended a message because its connection ended (see LossDetails). */
export function lossOf(err: unknown): LossDetails | undefined {
  if (!(err instanceof SwitchboardError) || err.details?.lost !== true) return undefined
  return { lost: true, written: err.details.written === true }
}

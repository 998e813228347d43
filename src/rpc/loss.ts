/**
 * How a message's connection ending reaches the layer that may send it again (link/): the error
 * says it was lost with the connection, and whether any of it had been written. This is the
 * one face link/ reads to choose between a resend and OUTCOME_UNKNOWN.
 */
import { SwitchboardError } from '../errors.ts'

/**
 * The error that ended a message because its connection ended, with typed fields (not the
 * user-visible `details`): `lost` is true, and `written` says whether any byte of it had been
 * handed to the transport. link/ uses them to decide between a resend and OUTCOME_UNKNOWN.
 * Same code and message as the cause; `instanceof` is SwitchboardError's (a brand), so test
 * with lossOf(), not `instanceof LostMessageError`.
 */
export class LostMessageError extends SwitchboardError {
  readonly lost = true

  constructor(
    err: SwitchboardError,
    readonly written: boolean,
  ) {
    super(err.code, err.message, { cause: err })
  }
}

/** The error for a message whose connection ended; see LostMessageError. */
export function lossError(err: SwitchboardError, written: boolean): LostMessageError {
  return new LostMessageError(err, written)
}

/** `err` when it ended a message because its connection ended (see LostMessageError). */
export function lossOf(err: unknown): LostMessageError | undefined {
  return err instanceof SwitchboardError && (err as Partial<LostMessageError>).lost === true
    ? (err as LostMessageError)
    : undefined
}

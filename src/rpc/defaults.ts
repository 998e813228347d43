/**
 * Defaults of the calls layer, in one place (link/ and the server use the same ones).
 */

/** Deadline of a call whose body and response are values, when the caller sets none, ms. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000

/** A timeout the caller may give: a positive, finite number of ms. */
export function validTimeout(ms: number): boolean {
  return Number.isFinite(ms) && ms > 0
}

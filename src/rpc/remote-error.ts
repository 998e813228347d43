/**
 * Errors crossing the wire: END carries the numeric code as its status and, as detail, a small
 * JSON object { code, message, details? } so the caller sees the handler's own code.
 */
import { codeFromWire, type ErrorCode, ErrorCodes, SwitchboardError, sbError, wireCodeOf } from '../errors.ts'
import { WireLimits } from '../wire/constants.ts'

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder()

export interface EncodedError {
  status: number
  detail: Uint8Array
}

/** Turns whatever a handler threw into an END status and detail. Stacks never cross the wire. */
export function encodeRemoteError(err: unknown): EncodedError {
  let code: string
  let message: string
  let details: unknown
  let wire: number
  if (err instanceof SwitchboardError) {
    code = typeof err.details?.['remoteCode'] === 'string' ? err.details['remoteCode'] : err.code
    message = err.message
    details = err.details?.['data']
    wire = err.wireCode === 0 ? wireCodeOf('HANDLER_ERROR') : err.wireCode
  } else if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string') {
    code = (err as Error & { code: string }).code
    message = err.message
    wire = wireCodeOf('APP_ERROR')
  } else {
    code = 'HANDLER_ERROR'
    message = err instanceof Error ? err.message : 'handler failed'
    wire = wireCodeOf('HANDLER_ERROR')
  }
  let detail = utf8.encode(JSON.stringify({ code, message, ...(details === undefined ? {} : { details }) }))
  if (detail.length > WireLimits.maxDetailBytes)
    detail = utf8.encode(JSON.stringify({ code: code.slice(0, 200), message: message.slice(0, 1000) }))
  return { status: wire, detail }
}

/**
 * The caller's view of an END with an error status: a SwitchboardError whose `code` is the
 * handler's code when it is one of ours, else APP_ERROR with `details.remoteCode` holding it.
 */
export function decodeRemoteError(status: number, detail: Uint8Array, method: string): SwitchboardError {
  let parsed: { code?: unknown; message?: unknown; details?: unknown } = {}
  try {
    parsed = detail.length > 0 ? JSON.parse(utf8Decoder.decode(detail)) : {}
  } catch {
    parsed = {}
  }
  const remoteCode = typeof parsed.code === 'string' ? parsed.code : codeFromWire(status)
  const message = typeof parsed.message === 'string' ? parsed.message : `'${method}' failed`
  const local: ErrorCode = remoteCode in ErrorCodes ? (remoteCode as ErrorCode) : codeFromWire(status)
  const code = local === 'INTERNAL' && !(remoteCode in ErrorCodes) ? 'APP_ERROR' : local
  const details: Record<string, unknown> = { remoteCode, method }
  if (parsed.details !== undefined) details['data'] = parsed.details
  return sbError(code, message, { details })
}

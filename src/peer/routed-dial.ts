/**
 * The dial a joined peer hands its links: direct first, the daemon's relay when the direct path
 * cannot work (the socket is another user's and private, missing, refused, or the host has no
 * route or does not answer in time). Every dial tries direct again, so a peer that becomes
 * reachable is reached directly. The route taken is reported for peers().
 */
import { isSwitchboardError, sbError } from '../errors.ts'
import type { DialFunction } from '../link/options.ts'
import type { Transport } from '../transport/types.ts'

export type Route = 'direct' | 'relay'

/** Opens a relayed connection to an instance (dialRelayed over the peer's link to the daemon). */
export type OpenRelay = (instance: string, signal: AbortSignal) => Promise<Transport>

/** OS errors of a direct connect that the relay can route around. */
const FALL_BACK_ERRNO: ReadonlySet<string> = new Set([
  'EACCES',
  'EPERM',
  'ENOENT',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
])

/** How long a direct connect may take before the relay is tried instead, ms. */
export const DEFAULT_DIRECT_TIMEOUT_MS = 3000

export interface RoutedDialOptions {
  /** The direct dial (transport/'s by default, or the user's own). */
  readonly direct: DialFunction
  readonly openRelay: OpenRelay
  /** The instance the link goes to (the relay names it; the address is only for direct). */
  readonly instance: string
  /**
   * The inner session runs a handshake (a secret or keys), or the user accepted plain text
   * (`insecure`). Without it the relay is not used: the daemon would see plain text.
   */
  readonly secure: boolean
  /** Default DEFAULT_DIRECT_TIMEOUT_MS. */
  readonly directTimeoutMs?: number | undefined
  /** Told the route of each connection made. */
  readonly onRoute?: (route: Route) => void
}

/** True when a direct dial's failure is one the relay can route around. */
export function relayCanHelp(err: unknown): boolean {
  if (!isSwitchboardError(err) || err.code !== 'CONNECT_FAILED') return false
  const errno = err.details?.['errno']
  return typeof errno === 'string' && FALL_BACK_ERRNO.has(errno)
}

export function routedDial(options: RoutedDialOptions): DialFunction {
  const timeoutMs = options.directTimeoutMs ?? DEFAULT_DIRECT_TIMEOUT_MS
  return async (address, signal) => {
    let transport: Transport
    try {
      transport = await withTimeout(options.direct, address, signal, timeoutMs)
    } catch (err) {
      if (signal.aborted || !relayCanHelp(err)) throw err
      if (!options.secure) {
        throw sbError(
          'INSECURE_TRANSPORT',
          `${address} is not reachable directly, and a relayed connection needs a secret or keys (or insecure: true)`,
          { cause: err },
        )
      }
      transport = await options.openRelay(options.instance, signal)
      options.onRoute?.('relay')
      return transport
    }
    options.onRoute?.('direct')
    return transport
  }
}

/** The direct dial, given up after `ms` as CONNECT_FAILED (ETIMEDOUT) so the relay is tried. */
async function withTimeout(
  dial: DialFunction,
  address: string,
  signal: AbortSignal,
  ms: number,
): Promise<Transport> {
  const controller = new AbortController()
  const onAbort = (): void => controller.abort(signal.reason)
  signal.addEventListener('abort', onAbort, { once: true })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort(sbError('CONNECT_FAILED', `${address}: no answer in ${ms} ms`))
  }, ms)
  try {
    return await dial(address, controller.signal)
  } catch (err) {
    if (timedOut && !signal.aborted) {
      throw sbError('CONNECT_FAILED', `${address}: no answer in ${ms} ms`, {
        cause: err,
        details: { errno: 'ETIMEDOUT' },
      })
    }
    throw err
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', onAbort)
  }
}

/**
 * Both ends of a relayed connection as a peer sees them. The dialer opens one streamed call to
 * the daemon (`daemon.relay`, header first: relay-header.ts) and gets a Transport once the
 * daemon has reached the target; the target serves the daemon's `relay.accept` call by adopting
 * a Transport into its own server, where the inner session runs its own handshake.
 */
import { isSwitchboardError, type SwitchboardError, sbError } from '../errors.ts'
import { isByteSource } from '../rpc/body.ts'
import type { Handler, Peer } from '../rpc/types.ts'
import type { Transport } from '../transport/types.ts'
import { encodeRelayHeader, RELAY_METHOD } from './relay-header.ts'
import { RelayedTransport } from './relayed-transport.ts'

/** Whatever can make a call to the daemon: a Link, or a connection a handler was given. */
export type RelayCaller = Pick<Peer, 'request'>

/**
 * Opens a relayed connection to `target` (an instance) through the daemon reached by `via`.
 * Resolves once the daemon has reached the target; rejects coded: PEER_NOT_FOUND, NOT_PERMITTED
 * or the target's own refusal as the daemon reports them, CANCELLED when `signal` aborts, and
 * CONNECT_FAILED (retryable) when the call to the daemon was lost on the way.
 */
export async function dialRelayed(
  via: RelayCaller,
  target: string,
  signal?: AbortSignal,
): Promise<Transport> {
  const call = new AbortController()
  const transport = new RelayedTransport(`relay:${target}`, (err) => call.abort(err))
  const onAbort = (): void =>
    call.abort(sbError('CANCELLED', 'relay dial cancelled', { cause: signal?.reason }))
  if (signal?.aborted) onAbort()
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const inbound = await via.request(RELAY_METHOD, transport.outbound(encodeRelayHeader(target)), {
      signal: call.signal,
    })
    if (!isByteSource(inbound) || !(Symbol.asyncIterator in inbound))
      throw sbError('PROTOCOL_ERROR', `${RELAY_METHOD} answered with a value, not a byte stream`)
    transport.attach(inbound)
    return transport
  } catch (err) {
    transport.abort()
    throw dialFailure(err, target)
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

/** The dial contract of link/: CONNECT_FAILED to retry, other codes final. */
function dialFailure(err: unknown, target: string): SwitchboardError {
  if (!isSwitchboardError(err)) return sbError('CONNECT_FAILED', `relay to ${target} failed`, { cause: err })
  switch (err.code) {
    case 'CONNECTION_LOST':
    case 'OUTCOME_UNKNOWN':
    case 'NOT_CONNECTED':
    case 'GOING_AWAY':
    case 'SESSION_CLOSED':
    case 'INACTIVITY_TIMEOUT':
    case 'TRANSPORT_ERROR':
      return sbError('CONNECT_FAILED', `relay to ${target}: the call to the daemon was lost (${err.code})`, {
        cause: err,
      })
    default:
      return err
  }
}

/**
 * The handler of `relay.accept` on a peer's connection to the daemon: each call is a relayed
 * connection, handed to `adopt` (a Server's adopt()) as if it had been accepted. An adopt that
 * throws (INSECURE_TRANSPORT: relayed sessions need a secret or keys) refuses the call, coded.
 */
export function relayAcceptHandler(adopt: (transport: Transport) => void): Handler {
  return (_data, ctx) => {
    if (ctx.body === undefined) throw sbError('PROTOCOL_ERROR', 'relay.accept needs a streamed body')
    const transport = new RelayedTransport('relay:daemon')
    transport.attach(ctx.body)
    ctx.signal.addEventListener(
      'abort',
      () =>
        transport.abort(
          sbError('TRANSPORT_ERROR', 'the relayed call was cancelled', { cause: ctx.signal.reason }),
        ),
      { once: true },
    )
    const outbound = transport.outbound()
    adopt(transport)
    return outbound
  }
}

/**
 * The daemon's relay: splices a dialer's `daemon.relay` call to a stream call it opens on the
 * target peer's own connection (`relay.accept`), forwarding opaque bytes both ways. The inner
 * session's records pass through unread: the hub holds no key and runs no session of its own.
 *
 * Memory is bounded by flow control, not by the hub: each direction is pulled one chunk at a
 * time and pulled again only once the other leg's channel has taken the last one, and a chunk
 * pulled is the moment credit goes back to the sender. So a slow reader stops the far writer,
 * and the hub holds at most its receive window (its `limits.channelWindow`) plus one send
 * window per direction, however long the stream runs.
 */
import { isSwitchboardError, sbError } from '../errors.ts'
import { RELAY_ACCEPT_METHOD, readRelayHeader } from '../peer/relay-header.ts'
import { isByteSource } from '../rpc/body.ts'
import type { Handler, HandlerContext, Peer } from '../rpc/types.ts'

export { RELAY_ACCEPT_METHOD, RELAY_METHOD } from '../peer/relay-header.ts'

/** A peer the hub can reach: over its own connection to the daemon. */
export interface RelayTarget {
  readonly instance: string
  /**
   * Opens the stream call to the target: `toTarget` is its request body; resolves with the
   * target's response stream (its bytes toward the dialer), or rejects coded.
   */
  open(toTarget: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>>
}

export interface RelayHubOptions {
  /** May the caller of `ctx` reach `target`? Refused: NOT_PERMITTED. Default: yes. */
  mayReach?: (ctx: HandlerContext, target: RelayTarget) => boolean | Promise<boolean>
}

export interface RelayHubStats {
  /** Relayed connections open now. */
  active: number
  /** Relayed connections opened since start. */
  opened: number
  /** Asked for an instance not registered here (it left, or has not registered again yet). */
  notFound: number
  /** Bytes forwarded dialer → target and target → dialer. */
  bytesToTarget: number
  bytesToDialer: number
}

export class RelayHub {
  private readonly lookup: (instance: string) => RelayTarget | undefined
  private readonly options: RelayHubOptions
  private readonly stats: RelayHubStats = {
    active: 0,
    opened: 0,
    notFound: 0,
    bytesToTarget: 0,
    bytesToDialer: 0,
  }

  constructor(lookup: (instance: string) => RelayTarget | undefined, options: RelayHubOptions = {}) {
    this.lookup = lookup
    this.options = options
  }

  /** The handler of `daemon.relay` (register it on the daemon's server). */
  readonly handler: Handler = async (_data, ctx) => {
    if (ctx.body === undefined) throw sbError('PROTOCOL_ERROR', 'daemon.relay needs a streamed body')
    const body = ctx.body[Symbol.asyncIterator]()
    let toTarget: AsyncIterable<Uint8Array> | undefined
    try {
      const { target: instance, rest } = await readRelayHeader(body)
      const target = this.lookup(instance)
      if (target === undefined) {
        this.stats.notFound++
        throw sbError('PEER_NOT_FOUND', `no peer instance '${instance}' is connected`)
      }
      const allowed = this.options.mayReach === undefined || (await this.options.mayReach(ctx, target))
      if (!allowed) throw sbError('NOT_PERMITTED', `the policy does not let this caller reach '${instance}'`)
      toTarget = this.forward(rest, body, 'bytesToTarget')
      const fromTarget = await target.open(toTarget, ctx.signal)
      if (!isByteSource(fromTarget) || !(Symbol.asyncIterator in fromTarget))
        throw sbError('PROTOCOL_ERROR', `${RELAY_ACCEPT_METHOD} answered with a value, not a byte stream`)
      this.stats.opened++
      this.stats.active++
      let open = true
      // Once: when the stream toward the dialer ends, or when the dialer's call is cancelled or
      // lost (its response stream may then never be started, so its end would never come).
      const release = (): void => {
        if (!open) return
        open = false
        this.stats.active--
      }
      ctx.signal.addEventListener('abort', release, { once: true })
      return this.forward(new Uint8Array(0), fromTarget[Symbol.asyncIterator](), 'bytesToDialer', release)
    } catch (err) {
      // Refused before the splice: stop the dialer's body, after the coded answer has gone (a
      // reset first would reach the dialer first, and it would see CANCELLED instead of why).
      if (toTarget === undefined) setImmediate(() => void body.return?.()?.catch(() => {}))
      throw isSwitchboardError(err) ? err : sbError('INTERNAL', 'relay failed', { cause: err })
    }
  }

  getStats(): RelayHubStats {
    return { ...this.stats }
  }

  /**
   * One direction of the splice: yields `first`, then each chunk of `from` as the consumer
   * (the other leg's pump) asks for it. Nothing is read ahead; an early stop resets `from`.
   */
  private async *forward(
    first: Uint8Array,
    from: AsyncIterator<Uint8Array>,
    counter: 'bytesToTarget' | 'bytesToDialer',
    done?: () => void,
  ): AsyncGenerator<Uint8Array> {
    try {
      if (first.length > 0) {
        this.stats[counter] += first.length
        yield first
      }
      for (;;) {
        const r = await from.next()
        if (r.done) return
        this.stats[counter] += r.value.length
        yield r.value
      }
    } finally {
      done?.()
      void from.return?.()?.catch(() => {})
    }
  }
}

/** The target `instance`, reached over `peer`: its own connection to the daemon. */
export function relayTargetOf(instance: string, peer: Pick<Peer, 'request'>): RelayTarget {
  return {
    instance,
    open: (toTarget, signal) =>
      peer.request<AsyncIterable<Uint8Array>>(RELAY_ACCEPT_METHOD, toTarget, { signal }),
  }
}

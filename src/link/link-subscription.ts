/**
 * A link's subscription: one Subscription the caller iterates, carried by whichever connection
 * of the link is up. When that connection ends, the link binds it again on the next one, so the
 * caller's handle survives reconnects; events published while no connection was up are not
 * delivered (the publisher had no subscriber then).
 */
import { type SwitchboardError, sbError } from '../errors.ts'
import type { RpcConnection } from '../rpc/connection.ts'
import { Subscription } from '../rpc/subscription.ts'
import type { SubscribeOptions } from '../rpc/types.ts'

export class LinkSubscription<T> extends Subscription<T> {
  private inner: Subscription<T> | undefined
  private generation = 0
  private readonly opts: SubscribeOptions
  boundTo: RpcConnection | undefined

  constructor(topic: string, options: SubscribeOptions, onClose: () => void) {
    super(topic, options, () => {
      this.inner?.close()
      onClose()
    })
    this.opts = options
  }

  get bound(): boolean {
    return this.boundTo !== undefined
  }

  /** Subscribes on `conn` and forwards its events here. */
  bindTo(conn: RpcConnection): void {
    const gen = ++this.generation
    this.boundTo = conn
    const inner = conn.subscribe<T>(this.topic, this.opts)
    this.inner = inner
    inner.ready.then(
      () => this.acknowledge(),
      () => {},
    )
    void (async () => {
      try {
        for await (const v of inner) {
          if (gen !== this.generation) return
          this.deliver(v)
        }
      } catch (err) {
        // The connection ending is the link's business (it binds again); anything else ends us.
        if (gen !== this.generation || conn.sessionEnded) return
        this.fail(
          err instanceof Error && 'code' in err
            ? (err as SwitchboardError)
            : sbError('INTERNAL', 'subscription failed', { cause: err }),
        )
      }
    })()
  }

  /** The carrying connection ended. */
  unbind(): void {
    this.generation++
    this.boundTo = undefined
    this.inner = undefined
  }
}

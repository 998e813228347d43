/**
 * A link's subscription: one Subscription the caller iterates (or whose callback it gave),
 * carried by whichever connection of the link is up. The connection delivers into it directly
 * (one hop per event). When that connection ends, the link binds it again on the next one, so
 * the caller's handle survives reconnects; events published while no connection was up are not
 * delivered (the publisher had no subscriber then).
 */
import type { SwitchboardError } from '../errors.ts'
import type { RpcConnection } from '../rpc/connection.ts'
import { Subscription } from '../rpc/subscription.ts'
import type { SubscribeOptions } from '../rpc/types.ts'

export class LinkSubscription<T> extends Subscription<T> {
  private detach: (() => void) | undefined
  boundTo: RpcConnection | undefined

  constructor(
    topic: string,
    options: SubscribeOptions | ((value: T) => void),
    onClose: () => void,
    /** The carrying connection stopped carrying it while the link goes on: bind again. */
    private readonly onLost: (sub: LinkSubscription<T>) => void,
  ) {
    super(topic, options, () => {
      this.detach?.()
      onClose()
    })
  }

  get bound(): boolean {
    return this.boundTo !== undefined
  }

  /** Subscribes on `conn`, which then delivers here. */
  bindTo(conn: RpcConnection): void {
    this.boundTo = conn
    this.detach = conn.attachSubscriber(this.topic, this)
  }

  /** Ends the subscription on its connection (FIN), if it has one. */
  unsubscribe(): void {
    this.detach?.()
    this.unbind()
  }

  /** The carrying connection ended. */
  unbind(): void {
    this.boundTo = undefined
    this.detach = undefined
  }

  /** @internal the connection ended its part: the link's business when the connection went. */
  override ended(err: SwitchboardError, connectionEnded: boolean): void {
    if (!connectionEnded) return this.fail(err)
    const wasBound = this.bound
    this.unbind()
    if (wasBound) this.onLost(this)
  }
}

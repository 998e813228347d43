/**
 * The using side of a contract: `use(P)` on a link or a connection gives a client whose
 * request/send/subscribe are typed from P. Before any byte is sent it checks what the other side
 * offers (its hello, then its OFFER frames): a protocol it lacks, or another major, is
 * PROTOCOL_UNSUPPORTED; a method or event it lacks is METHOD_NOT_OFFERED. Events are validated
 * before they are delivered (in order, also when validate() is async); an invalid one is dropped,
 * counted and reported on the `switchboard:error` diagnostics channel.
 */
import { type SwitchboardError, sbError } from '../errors.ts'
import { channels, publish } from '../internal/diagnostics.ts'
import {
  check,
  type EventInputOf,
  type EventName,
  type EventOf,
  type InputOf,
  invalid,
  type MethodName,
  type OutputOf,
  type PeerProtocols,
  type Protocol,
  unsupported,
  type Validated,
  wireName,
} from './contract.ts'
import type { StandardSchemaV1 } from './standard-schema.ts'
import type { Subscription } from './subscription.ts'
import type { RequestOptions, SendOptions, SubscribeOptions } from './types.ts'

/** Counters of a side's contracts, in its getStats(). */
export interface ContractStats {
  /** Events that failed their schema and were dropped. */
  invalidEvents: number
  /** Events dropped because too many waited behind an async validate(). */
  eventsDroppedValidating: number
}

/** Most events that may wait behind one subscription's pending async validate(). */
const MAX_WAITING_EVENTS = 4096

/** @internal what a link or a connection gives a contract client. */
export interface ContractTarget {
  request(method: string, data: unknown, options?: RequestOptions): Promise<unknown>
  send(method: string, data: unknown, options?: SendOptions): Promise<void>
  publish(topic: string, data: unknown, options?: SendOptions): Promise<void>
  subscribe(topic: string, options: SubscribeOptions | ((value: unknown) => void)): Subscription<unknown>
  /** What the other side offers; undefined until a hello was seen. */
  readonly peerProtocols: PeerProtocols | undefined
  /** Resolves once peerProtocols is known; rejects when that can no longer happen. */
  protocolsKnown(): Promise<void>
  readonly contractStats: ContractStats
}

/** A typed client of protocol P (what use(P) returns). */
export interface ProtocolClient<P extends Protocol> {
  readonly protocol: P
  /** Calls `method`; resolves with its typed result. See RequestOptions. */
  request<M extends MethodName<P>>(
    method: M,
    input: InputOf<P, M>,
    options?: RequestOptions,
  ): Promise<OutputOf<P, M>>
  /** Calls `method` one way (its result is not awaited); resolves when written. */
  send<M extends MethodName<P>>(method: M, input: InputOf<P, M>, options?: SendOptions): Promise<void>
  /** Each event of `event` the other side publishes, validated, to `onEvent` (the hot path). */
  subscribe<E extends EventName<P>>(
    event: E,
    onEvent: (value: EventOf<P, E>) => void,
  ): Subscription<EventOf<P, E>>
  /** Each event of `event` the other side publishes, validated, to `for await`. */
  subscribe<E extends EventName<P>>(event: E, options?: SubscribeOptions): Subscription<EventOf<P, E>>
}

/**
 * The publishing side of protocol P's events (what implement(P, …) returns). `R` is what a
 * publish resolves with: a server's report of every subscriber, or nothing on a link.
 */
export interface ProtocolPublisher<P extends Protocol, R = void> {
  readonly protocol: P
  /** Publishes `event` to the other side(s) subscribed to it. */
  publish<E extends EventName<P>>(event: E, value: EventInputOf<P, E>, options?: SendOptions): Promise<R>
}

/** Throws PROTOCOL_UNSUPPORTED when the other side's offer is known and cannot serve P. */
export function checkUse(protocol: Protocol, target: ContractTarget): void {
  const peer = target.peerProtocols
  if (peer === undefined) return
  const why = unsupported(protocol, peer)
  if (why !== undefined) throw sbError('PROTOCOL_UNSUPPORTED', why)
}

export class ContractClient<P extends Protocol> implements ProtocolClient<P> {
  readonly protocol: P
  private readonly target: ContractTarget
  private readonly validate: boolean
  /** Wire names, made once per method and event. */
  private readonly names = new Map<string, string>()

  constructor(protocol: P, target: ContractTarget, validate: boolean) {
    this.protocol = protocol
    this.target = target
    this.validate = validate
    for (const m of protocol.methods) this.names.set(m, wireName(protocol, m))
  }

  request<M extends MethodName<P>>(
    method: M,
    input: InputOf<P, M>,
    options?: RequestOptions,
  ): Promise<OutputOf<P, M>> {
    const refusal = this.refusal(method, 'methods')
    if (refusal === undefined)
      return this.target.request(this.names.get(method)!, input, options) as Promise<OutputOf<P, M>>
    if (refusal !== WAIT) return rejected(refusal)
    return this.afterHello(() => this.request(method, input, options))
  }

  send<M extends MethodName<P>>(method: M, input: InputOf<P, M>, options?: SendOptions): Promise<void> {
    const refusal = this.refusal(method, 'methods')
    if (refusal === undefined) return this.target.send(this.names.get(method)!, input, options)
    if (refusal !== WAIT) return rejected(refusal)
    return this.afterHello(() => this.send(method, input, options))
  }

  /** Runs `call` once the other side's offer is known (never loops when it still is not). */
  private afterHello<T>(call: () => Promise<T>): Promise<T> {
    return this.target.protocolsKnown().then(() => {
      if (this.target.peerProtocols === undefined)
        throw sbError(
          'PROTOCOL_UNSUPPORTED',
          `what the peer offers is unknown: '${this.protocol.name}' not confirmed`,
        )
      return call()
    })
  }

  subscribe<E extends EventName<P>>(
    event: E,
    options: SubscribeOptions | ((value: EventOf<P, E>) => void) = {},
  ): Subscription<EventOf<P, E>> {
    const refusal = this.refusal(event, 'events')
    if (refusal !== undefined && refusal !== WAIT) throw refusal
    const schema = this.protocol.definition.events![event]!
    const sub = this.target.subscribe(
      wireName(this.protocol, event),
      options as SubscribeOptions | ((value: unknown) => void),
    )
    if (this.validate)
      sub.gate = eventGate(schema, `${this.protocol.name}/${event}`, this.target.contractStats)
    return sub as Subscription<EventOf<P, E>>
  }

  /** undefined: go ahead; WAIT: the other side's offer is not known yet; else the refusal. */
  private refusal(name: string, kind: 'methods' | 'events'): SwitchboardError | typeof WAIT | undefined {
    // A name outside P (a caller past the types): refused whatever the peer offers.
    const own = kind === 'methods' ? this.names.has(name) : this.protocol.events.includes(name)
    if (!own) {
      return sbError(
        'INVALID_ARGUMENT',
        `'${this.protocol.name}' has no ${kind === 'methods' ? 'method' : 'event'} '${name}'`,
      )
    }
    const peer = this.target.peerProtocols
    if (peer === undefined) return WAIT
    const offer = peer.get(this.protocol.name)
    if (offer === undefined || offer.major !== this.protocol.major)
      return sbError('PROTOCOL_UNSUPPORTED', unsupported(this.protocol, peer))
    if (!offer[kind].has(name)) {
      return sbError(
        'METHOD_NOT_OFFERED',
        `the peer's '${this.protocol.name}' ${offer.major}.${offer.minor} has no '${name}'`,
      )
    }
    return undefined
  }
}

const WAIT = Symbol('wait')

function rejected(err: SwitchboardError): Promise<never> {
  const p = Promise.reject(err)
  p.catch(() => {})
  return p
}

/** What a subscription's gate is given: the event, and where it goes once checked. */
type EventGate = (value: unknown, accept: (value: unknown) => void, drop: () => void) => void

/**
 * A subscription's gate for one event schema: valid events go on in arrival order; while an
 * async validate() is pending, later events wait behind it.
 */
function eventGate(schema: StandardSchemaV1, name: string, stats: ContractStats): EventGate {
  let waiting: unknown[] | undefined
  let accept: (value: unknown) => void = () => {}
  let drop: () => void = () => {}
  const settle = (v: Validated<unknown>): void => {
    if (v.ok) return accept(v.value)
    drop()
    stats.invalidEvents++
    const error = invalid('EVENT_INVALID', `event '${name}'`, v.issues)
    publish(channels.error, { topic: name, error })
  }
  /** Checks one event; true when it went async (later ones wait for drain). */
  const run = (value: unknown): boolean => {
    let checked: Validated<unknown> | Promise<Validated<unknown>>
    try {
      checked = check(schema, value)
    } catch {
      settle(THREW)
      return false
    }
    if (!(checked instanceof Promise)) {
      settle(checked)
      return false
    }
    checked.then(settle, () => settle(THREW)).then(drain)
    return true
  }
  const drain = (): void => {
    while (waiting !== undefined && waiting.length > 0) if (run(waiting.shift())) return
    waiting = undefined
  }
  return (value, acceptFn, dropFn) => {
    accept = acceptFn
    drop = dropFn
    if (waiting !== undefined) {
      if (waiting.length >= MAX_WAITING_EVENTS) {
        stats.eventsDroppedValidating++
        drop()
      } else waiting.push(value)
      return
    }
    if (run(value)) waiting = []
  }
}

const THREW: Validated<unknown> = { ok: false, issues: [{ message: 'validate() threw' }] }

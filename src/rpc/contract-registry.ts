/**
 * The protocols one side implements (a server, or a link that serves its peer): their handlers
 * go into that side's handler table under their wire names, and their offers into its hellos
 * (and, for one implemented after connect, into an OFFER frame on each open connection).
 */
import { sbError } from '../errors.ts'
import type { ProtocolOffer } from '../wire/hello.ts'
import { type ContractHandlers, type ContractOptions, offerOf, type Protocol, wireName } from './contract.ts'
import type { ProtocolPublisher } from './contract-client.ts'
import { DESCRIBE_METHOD, type Description, describeProtocol } from './contract-describe.ts'
import { contractHandlers } from './contract-handlers.ts'
import type { Handler, SendOptions } from './types.ts'

/** Room the offers may take in a hello (capped at 64 KiB with everything else in it). */
const MAX_OFFER_BYTES = 48 * 1024

export class ContractRegistry {
  private readonly byName = new Map<string, Protocol>()
  private offerList: ProtocolOffer[] = []
  private readonly table: () => Map<string, Handler>

  /** `table`: the side's handler table (read each time: pair() may swap it). */
  constructor(table: () => Map<string, Handler>) {
    this.table = table
  }

  /**
   * Registers `handlers` for `protocol` (replacing an earlier implementation of the same name)
   * and returns its offer. INVALID_ARGUMENT when the offers would no longer fit in a hello.
   */
  implement<P extends Protocol>(
    protocol: P,
    handlers: ContractHandlers<P>,
    options: ContractOptions,
  ): ProtocolOffer {
    const offer = offerOf(protocol)
    const others = this.offerList.filter((o) => o.name !== protocol.name)
    if (offersSize([...others, offer]) > MAX_OFFER_BYTES)
      throw sbError(
        'INVALID_ARGUMENT',
        `the protocols offered would not fit in a hello (${MAX_OFFER_BYTES} bytes)`,
      )
    const table = this.table()
    const previous = this.byName.get(protocol.name)
    if (previous !== undefined) for (const m of previous.methods) table.delete(wireName(previous, m))
    for (const [name, fn] of contractHandlers(protocol, handlers, options.validate !== false))
      table.set(name, fn)
    this.byName.set(protocol.name, protocol)
    this.offerList = [...others, offer]
    table.set(DESCRIBE_METHOD, () => this.describe())
    return offer
  }

  /** The answer to the describe call: every protocol, with JSON Schemas where provided. */
  describe(): Description {
    return { protocols: [...this.byName.values()].map(describeProtocol) }
  }

  /** What this side offers, for its next hello. */
  offers(): readonly ProtocolOffer[] {
    return this.offerList
  }
}

/** An upper bound of the offers' bytes in a hello (varints counted as up to 4 bytes). */
function offersSize(offers: readonly ProtocolOffer[]): number {
  let size = 4
  for (const o of offers) {
    size += 12 + utf8Length(o.name)
    for (const n of [...o.methods, ...o.events]) size += 2 + utf8Length(n)
  }
  return size
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

/** implement()'s result: publishes P's events through `publishFn` under their wire names. */
export class ContractPublisher<P extends Protocol, R = void> implements ProtocolPublisher<P, R> {
  readonly protocol: P
  private readonly publishFn: (topic: string, data: unknown, options?: SendOptions) => Promise<R>

  constructor(protocol: P, publishFn: (topic: string, data: unknown, options?: SendOptions) => Promise<R>) {
    this.protocol = protocol
    this.publishFn = publishFn
  }

  publish(event: string, value: unknown, options?: SendOptions): Promise<R> {
    if (!this.protocol.events.includes(event)) {
      const p = Promise.reject(sbError('INVALID_ARGUMENT', `'${this.protocol.name}' has no event '${event}'`))
      p.catch(() => {})
      return p
    }
    return this.publishFn(wireName(this.protocol, event), value, options)
  }
}

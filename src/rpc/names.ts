/**
 * The per-session name tables (DESIGN.md §4): methods and topics cross the wire as small ids.
 * Each direction has its own table: we intern our names (sending a NAME frame the first time),
 * the peer interns theirs.
 *
 * Hello-bound names (docs/protocol.md §14): when the receiver's hello lists
 * protocols, the sender's table toward it starts with ids 1..N bound to their names
 * (`protocol/method`, then `protocol/event`, protocol by protocol) without NAME frames; NAME
 * frames bind from N + 1. A 2.0 sender does not know this and binds its own names from 1 with
 * NAME: a NAME may therefore rebind an id that was bound from the hello, once.
 */
import { sbError } from '../errors.ts'
import type { ProtocolOffer } from '../wire/hello.ts'

/** Most names a peer may intern in one session (a bound on memory a peer can make us hold). */
export const MAX_NAMES = 65_536

/** The names a hello's PROTOCOLS list binds, in id order (id 1 first). */
export function helloNames(offers: readonly ProtocolOffer[]): string[] {
  const names: string[] = []
  for (const o of offers) {
    for (const m of o.methods) names.push(`${o.name}/${m}`)
    for (const e of o.events) names.push(`${o.name}/${e}`)
  }
  return names
}

export class OutgoingNames {
  private readonly ids = new Map<string, number>()
  private readonly announce: (id: number, name: string) => void
  private last = 0

  constructor(announce: (id: number, name: string) => void) {
    this.announce = announce
  }

  /** Binds ids 1..names.length from the receiver's hello (before any NAME frame). */
  preload(names: readonly string[]): void {
    for (const name of names) {
      const id = ++this.last
      if (!this.ids.has(name)) this.ids.set(name, id)
    }
  }

  /** The id of `name`, announcing it to the peer on first use. */
  idOf(name: string): number {
    let id = this.ids.get(name)
    if (id === undefined) {
      id = ++this.last
      this.ids.set(name, id)
      this.announce(id, name)
    }
    return id
  }
}

export class IncomingNames {
  private readonly names = new Map<number, string>()
  /** Ids bound from our hello that a NAME frame has not rebound yet. */
  private fromHello = new Set<number>()

  /** Binds ids 1..names.length: what our hello lists (the peer's table toward us). */
  preload(names: readonly string[]): void {
    for (const [i, name] of names.entries()) this.names.set(i + 1, name)
    this.fromHello = new Set(this.names.keys())
  }

  define(id: number, name: string): void {
    if (this.fromHello.delete(id)) {
      // A 2.0 peer binds its own names from 1: its NAME wins over the hello-bound name.
      this.names.set(id, name)
      return
    }
    if (this.names.has(id)) throw sbError('PROTOCOL_ERROR', `name id ${id} defined twice`)
    if (this.names.size >= MAX_NAMES)
      throw sbError('PROTOCOL_ERROR', `peer defined more than ${MAX_NAMES} names`)
    this.names.set(id, name)
  }

  nameOf(id: number): string | undefined {
    return this.names.get(id)
  }
}

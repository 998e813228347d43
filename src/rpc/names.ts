/**
 * The per-session name tables (DESIGN.md §4): methods and topics cross the wire as small ids.
 * Each direction has its own table: we intern our names (sending a NAME frame the first time),
 * the peer interns theirs.
 */
import { sbError } from '../errors.ts'

/** Most names a peer may intern in one session (a bound on memory a peer can make us hold). */
export const MAX_NAMES = 65_536

export class OutgoingNames {
  private readonly ids = new Map<string, number>()
  private readonly announce: (id: number, name: string) => void

  constructor(announce: (id: number, name: string) => void) {
    this.announce = announce
  }

  /** The id of `name`, announcing it to the peer on first use. */
  idOf(name: string): number {
    let id = this.ids.get(name)
    if (id === undefined) {
      id = this.ids.size + 1
      this.ids.set(name, id)
      this.announce(id, name)
    }
    return id
  }
}

export class IncomingNames {
  private readonly names = new Map<number, string>()

  define(id: number, name: string): void {
    if (this.names.has(id)) throw sbError('PROTOCOL_ERROR', `name id ${id} defined twice`)
    if (this.names.size >= MAX_NAMES)
      throw sbError('PROTOCOL_ERROR', `peer defined more than ${MAX_NAMES} names`)
    this.names.set(id, name)
  }

  nameOf(id: number): string | undefined {
    return this.names.get(id)
  }
}

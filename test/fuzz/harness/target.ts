/**
 * What a fuzz target is: one decoder (or one family of decoder entry points) behind a function
 * that takes bytes. One target per file in test/fuzz/targets/, listed in targets/index.ts.
 */
import type { Rng } from './rng.ts'

export interface FuzzTarget {
  /** Short name: the CLI's --targets value and the corpus folder name. */
  readonly name: string
  /** One line: which decoder entry points it calls and what it checks. */
  readonly about: string
  /** Largest input the mutator and generator make, in bytes. */
  readonly maxLength: number
  /** Inputs to mutate: golden vectors, encoder output, transcripts. Called once per worker. */
  seeds(): Uint8Array[]
  /** Byte strings worth inserting (magic values, names, field encodings). */
  readonly dictionary?: readonly Uint8Array[]
  /** A fresh, structurally valid input from random choices (mixed in with mutated ones). */
  generate?(rng: Rng): Uint8Array
  /**
   * True when the decoder deliberately wraps a third-party parser and turns whatever it throws
   * into a SwitchboardError (msgpackr): an engine error as the cause is then not a crash.
   */
  readonly lenientCauses?: boolean
  /**
   * Feeds one input to the decoder(s). A SwitchboardError thrown out of here is a rejection
   * (fine); anything else, and every OracleFailure (harness/oracle.ts), is a crash. Returning
   * false also counts the input as rejected (a target that catches its decoder's refusal to go
   * on checking state); the counts only feed the report's "accepted" share.
   */
  run(input: Uint8Array): boolean | undefined
}

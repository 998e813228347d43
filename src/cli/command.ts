/**
 * The shape of one CLI command. A command is one file exporting a `Command`; commands.ts lists
 * them. Help text and argument checking are derived from the declared positionals and options,
 * so a new command (keygen, pubkey, …) declares what it takes and writes only its `run`.
 */
import type { CliIo } from './io.ts'

export interface PositionalSpec {
  /** Upper-case name shown in usage (ADDRESS, METHOD, JSON). */
  readonly name: string
  readonly description: string
  /** Default true. Optional positionals must come after the required ones. */
  readonly required?: boolean
}

export interface OptionSpec {
  /** 'string' takes a value (--log FILE); 'boolean' is a switch (--insecure). */
  readonly type: 'string' | 'boolean'
  /** The value's placeholder in help (FILE, MS). Only for string options. */
  readonly valueName?: string
  readonly short?: string
  readonly description: string
}

/** What a command's run receives: positionals by name, option values by long name. */
export interface ParsedArgs {
  readonly positionals: Readonly<Record<string, string | undefined>>
  readonly options: Readonly<Record<string, string | boolean | undefined>>
}

export interface Command {
  /** The word after `switchboard`. */
  readonly name: string
  /** One line for the top-level command list. */
  readonly summary: string
  /** More text for `--help`, after the usage line (examples, what is printed). */
  readonly details?: string
  readonly positionals: readonly PositionalSpec[]
  readonly options: Readonly<Record<string, OptionSpec>>
  /**
   * Runs the command and returns its exit code. Throws UsageError for a wrong argument found
   * after parsing (bad JSON, a non-numeric value); any other throw is printed as a coded error.
   */
  run(args: ParsedArgs, io: CliIo): Promise<number>
}

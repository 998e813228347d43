/**
 * A wrong command line: the CLI prints its message with a usage hint and exits 2. It never
 * leaves the CLI (the library's own bad-input errors are SwitchboardErrors and exit 1).
 */
export class UsageError extends Error {
  /** The command whose usage applies, or undefined for the top level. */
  readonly command: string | undefined

  constructor(message: string, command?: string) {
    super(message)
    this.name = 'UsageError'
    this.command = command
  }
}

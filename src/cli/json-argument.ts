/**
 * A JSON argument on the command line; a malformed one is a usage error (exit 2).
 */
import { UsageError } from './usage-error.ts'

export function parseJsonArgument(text: string, command: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    const why = err instanceof SyntaxError ? err.message : String(err)
    throw new UsageError(`the JSON argument is not valid JSON (${why})`, command)
  }
}

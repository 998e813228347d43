/**
 * The options every command passes to listen() and connect(): --insecure, and the runtime
 * directory taken from the CLI's environment (io.env), so a command run in-process by a test
 * uses the test's directory without touching process.env.
 */
import { isSwitchboardError } from '../errors.ts'
import type { EndpointOptions } from '../link/options.ts'
import { parseAddress } from '../transport/address.ts'
import type { CliIo } from './io.ts'
import { UsageError } from './usage-error.ts'

export const insecureOption = {
  type: 'boolean',
  description: 'allow plain text where security is required (TCP; unix paths outside an owner-only dir)',
} as const

export const addressDescription =
  'a name (socket in the runtime dir), unix:PATH, pipe:NAME or tcp://HOST:PORT'

export function endpointOptions(io: CliIo, insecure: boolean): EndpointOptions {
  const runtimeDir = io.env?.['SWITCHBOARD_RUNTIME_DIR']
  return {
    insecure,
    ...(runtimeDir !== undefined && runtimeDir !== '' ? { runtimeDir } : {}),
  }
}

/**
 * An ADDRESS that does not parse (or names a scheme of a later version) is a wrong command line:
 * exit 2 before any I/O, with the parser's own explanation.
 */
export function checkAddress(address: string, command: string): void {
  try {
    parseAddress(address)
  } catch (err) {
    if (isSwitchboardError(err, 'ADDRESS_INVALID') || isSwitchboardError(err, 'SCHEME_UNSUPPORTED')) {
      throw new UsageError(err.message, command)
    }
    throw err
  }
}

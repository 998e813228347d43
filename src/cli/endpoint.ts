/**
 * The options every command passes to listen() and connect(): --insecure, and the runtime
 * directory taken from the CLI's environment (io.env), so a command run in-process by a test
 * uses the test's directory without touching process.env.
 */
import type { EndpointOptions } from '../link/options.ts'
import type { CliIo } from './io.ts'

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

/**
 * pub and sub join as a short-lived peer: its name, and the security and runtime directory every
 * endpoint takes.
 */
import type { JoinOptions } from '../peer/options.ts'
import type { OptionSpec, ParsedArgs } from './command.ts'
import { directoryOptions, directoryOptionsFrom, endpointOptionsFrom, securityOptions } from './endpoint.ts'
import type { CliIo } from './io.ts'

export const joinOptionSpecs: Readonly<Record<string, OptionSpec>> = {
  name: {
    type: 'string',
    valueName: 'NAME',
    description: 'the peer name to join as (default switchboard-cli)',
  },
  ...securityOptions,
  ...directoryOptions,
}

export function joinOptionsFrom(io: CliIo, options: ParsedArgs['options']): JoinOptions {
  const name = options['name']
  return {
    ...endpointOptionsFrom(io, options),
    ...directoryOptionsFrom(options, io.env),
    name: typeof name === 'string' ? name : 'switchboard-cli',
  }
}

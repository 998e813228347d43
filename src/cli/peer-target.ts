/**
 * Addresses on the command line may name a joined peer: `sb:NAME` is resolved through the local
 * directory (as resolve() does) to one of its live instances, picked at random so repeated
 * commands spread; any other address is used as given (a bare word stays a socket in the
 * runtime directory).
 */

import { resolve } from '../peer/join.ts'
import { type ParsedAddress, parseAddress } from '../transport/address.ts'
import type { ParsedArgs } from './command.ts'
import { directoryOptionsFrom, endpointOptions } from './endpoint.ts'
import type { CliIo } from './io.ts'

export const peerAddressNote = 'or sb:NAME, a peer that joined by that name'

export async function resolveTarget(
  address: string,
  io: CliIo,
  options: ParsedArgs['options'] = {},
): Promise<string> {
  const parsed: ParsedAddress = parseAddress(address)
  if (parsed.kind !== 'peer') return address
  const addresses = await resolve(parsed.name, {
    ...endpointOptions(io, false),
    ...directoryOptionsFrom(options, io.env),
  })
  return addresses[Math.floor(Math.random() * addresses.length)]!
}

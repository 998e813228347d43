/**
 * `switchboard send ADDRESS METHOD JSON`: one one-way message; exits 0 once it is written.
 * ADDRESS may be sb:NAME (one live instance of the peer).
 */
import { connect } from '../link/api.ts'
import type { Link } from '../link/link.ts'
import type { Command } from './command.ts'
import {
  addressDescription,
  checkAddress,
  directoryOptions,
  endpointOptionsFrom,
  securityOptions,
} from './endpoint.ts'
import { ExitCode } from './io.ts'
import { parseJsonArgument } from './json-argument.ts'
import { peerAddressNote, resolveTarget } from './peer-target.ts'

export const send: Command = {
  name: 'send',
  summary: 'send a one-way message to METHOD at ADDRESS',
  details: ['examples:', '  switchboard send sb:audit log \'{"user":"ann"}\''].join('\n'),
  positionals: [
    { name: 'ADDRESS', description: `the receiver: ${addressDescription}, ${peerAddressNote}` },
    { name: 'METHOD', description: 'the method to notify' },
    { name: 'JSON', description: 'the argument, as JSON' },
  ],
  options: { ...securityOptions, ...directoryOptions },
  async run(args, io) {
    const address = args.positionals['ADDRESS']!
    checkAddress(address, 'send')
    const data = parseJsonArgument(args.positionals['JSON']!, 'send')
    let link: Link | undefined
    try {
      const target = await resolveTarget(address, io, args.options)
      link = await connect(target, { ...endpointOptionsFrom(io, args.options), reconnect: false })
      await link.send(args.positionals['METHOD']!, data)
      return ExitCode.ok
    } finally {
      await link?.close()
    }
  },
}

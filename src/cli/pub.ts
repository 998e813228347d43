/**
 * `switchboard pub TOPIC JSON`: joins as a peer, publishes one event to every current subscriber
 * of TOPIC, prints the report ({ delivered, dropped, failed }) as one line of JSON, and leaves.
 * "No receivers" is `delivered: 0` and exit 0; a subscriber the event did not reach makes it 1.
 */
import { join } from '../peer/join.ts'
import type { Command } from './command.ts'
import { ExitCode, writeLine } from './io.ts'
import { parseJsonArgument } from './json-argument.ts'
import { toJsonLine } from './json-output.ts'
import { joinOptionSpecs, joinOptionsFrom } from './peer-options.ts'

export const pub: Command = {
  name: 'pub',
  summary: 'publish one event to every subscriber of TOPIC and print the report',
  details: ['examples:', '  switchboard pub prices \'{"sku":"A1","eur":9.5}\''].join('\n'),
  positionals: [
    { name: 'TOPIC', description: 'the topic' },
    { name: 'JSON', description: 'the event, as JSON' },
  ],
  options: joinOptionSpecs,
  async run(args, io) {
    const data = parseJsonArgument(args.positionals['JSON']!, 'pub')
    const peer = await join(joinOptionsFrom(io, args.options))
    try {
      const report = await peer.publish(args.positionals['TOPIC']!, data)
      writeLine(io.stdout, toJsonLine(report))
      return report.failed.length === 0 ? ExitCode.ok : ExitCode.failed
    } finally {
      await peer.leave()
    }
  },
}

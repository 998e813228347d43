/**
 * `switchboard sub TOPIC [--json]`: joins as a peer, subscribes to TOPIC from every peer that
 * publishes it, and prints each event as it comes (one line of JSON each; with --json, one
 * object { topic, data } per line) until stopped (SIGINT/SIGTERM), then leaves.
 */
import { join } from '../peer/join.ts'
import type { Command } from './command.ts'
import { ExitCode, writeLine } from './io.ts'
import { toJsonLine } from './json-output.ts'
import { joinOptionSpecs, joinOptionsFrom } from './peer-options.ts'
import { stopRequested } from './stop.ts'

export const sub: Command = {
  name: 'sub',
  summary: 'print the events of TOPIC from every peer that publishes it',
  details: ['Prints "subscribed TOPIC" on stderr once every current publisher has the subscription.'].join(
    '\n',
  ),
  positionals: [{ name: 'TOPIC', description: 'the topic' }],
  options: {
    json: { type: 'boolean', description: 'print { "topic": …, "data": … } per line' },
    ...joinOptionSpecs,
  },
  async run(args, io) {
    const topic = args.positionals['TOPIC']!
    const asObjects = args.options['json'] === true
    const peer = await join(joinOptionsFrom(io, args.options))
    try {
      const subscription = peer.subscribe(topic, (data) => {
        writeLine(io.stdout, toJsonLine(asObjects ? { topic, data } : data))
      })
      await Promise.race([subscription.ready, stopRequested(io)])
      writeLine(io.stderr, `subscribed ${topic}`)
      const failed = new Promise<unknown>((resolve) => {
        subscription.onFailed = resolve
      })
      const ended = await Promise.race([stopRequested(io).then(() => undefined), failed])
      subscription.close()
      if (ended !== undefined) throw ended
      return ExitCode.ok
    } finally {
      await peer.leave()
    }
  },
}

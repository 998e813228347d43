/**
 * `switchboard pubkey FILE`: prints the public key line of a private key file (or a .pub file),
 * the form --allow files and `allow` lists take.
 */
import { pubkeyCommand } from '../session/key-files.ts'
import type { Command } from './command.ts'
import { ExitCode } from './io.ts'

export const pubkey: Command = {
  name: 'pubkey',
  summary: 'print the public key of a key file',
  positionals: [{ name: 'FILE', description: 'a private key file from keygen, or its .pub' }],
  options: {},
  async run(args, io) {
    io.stdout.write(pubkeyCommand(args.positionals['FILE']!))
    return ExitCode.ok
  },
}

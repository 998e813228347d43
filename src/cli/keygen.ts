/**
 * `switchboard keygen [--secret] [--out FILE] [--force] [--comment TEXT]`: a key pair (private
 * file 0600, FILE.pub beside it) or, with --secret, a 32-byte shared secret (file 0600). Without
 * --out the key material is printed, for piping into a secrets manager.
 */
import { keygenKeyPair, keygenSecret } from '../session/key-files.ts'
import type { Command } from './command.ts'
import { ExitCode } from './io.ts'
import { UsageError } from './usage-error.ts'

export const keygen: Command = {
  name: 'keygen',
  summary: 'make a key pair (or, with --secret, a shared secret) for secure connections',
  details: [
    'examples:',
    '  switchboard keygen --out server.key        # server.key (0600) and server.key.pub',
    '  switchboard keygen --secret --out app.secret',
    '',
    'An existing file is never overwritten unless --force is given.',
  ].join('\n'),
  positionals: [],
  options: {
    secret: { type: 'boolean', description: 'make a 32-byte shared secret instead of a key pair' },
    out: { type: 'string', valueName: 'FILE', description: 'write to FILE (and FILE.pub) instead of stdout' },
    force: { type: 'boolean', description: 'overwrite existing files' },
    comment: {
      type: 'string',
      valueName: 'TEXT',
      description: 'a comment after the public key (key pairs only)',
    },
  },
  async run(args, io) {
    const out = args.options['out']
    const force = args.options['force'] === true
    const comment = args.options['comment']
    const common = { ...(typeof out === 'string' ? { out } : {}), force }
    if (args.options['secret'] === true) {
      if (typeof comment === 'string')
        throw new UsageError('--comment applies to key pairs, not --secret', 'keygen')
      io.stdout.write(keygenSecret(common).output)
    } else {
      io.stdout.write(
        keygenKeyPair({ ...common, ...(typeof comment === 'string' ? { comment } : {}) }).output,
      )
    }
    return ExitCode.ok
  },
}

/**
 * The CLI as a function: `run(argv, io)` parses argv, runs one command and returns the exit
 * code (0 success, 1 coded error, 2 bad arguments). It never exits the process, so tests drive
 * it in-process; main.ts is the thin wrapper that does.
 */
import { isSwitchboardError } from '../errors.ts'
import { parseCommandArgs } from './args.ts'
import type { Command } from './command.ts'
import { commands as allCommands } from './commands.ts'
import { commandHelp, topLevelHelp, usageHint } from './help.ts'
import { type CliIo, ExitCode, writeLine } from './io.ts'
import { UsageError } from './usage-error.ts'
import { packageVersion } from './version.ts'

export type { CliIo } from './io.ts'
export { ExitCode } from './io.ts'

export async function run(
  argv: readonly string[],
  io: CliIo,
  commands: readonly Command[] = allCommands,
): Promise<number> {
  const [first, ...rest] = argv
  let command: Command | undefined
  try {
    if (first === undefined) throw new UsageError('missing COMMAND')
    if (first === '--help' || first === '-h' || first === 'help') {
      io.stdout.write(topLevelHelp(commands))
      return ExitCode.ok
    }
    if (first === '--version' || first === '-V') {
      writeLine(io.stdout, packageVersion())
      return ExitCode.ok
    }
    if (first.startsWith('-')) throw new UsageError(`unknown option '${first}'`)
    command = commands.find((c) => c.name === first)
    if (command === undefined) throw new UsageError(`unknown command '${first}'`)
    const parsed = parseCommandArgs(command, rest)
    if (parsed.help) {
      io.stdout.write(commandHelp(command))
      return ExitCode.ok
    }
    return await command.run(parsed.args, io)
  } catch (err) {
    return report(err, io, commands)
  }
}

function report(err: unknown, io: CliIo, commands: readonly Command[]): number {
  if (err instanceof UsageError) {
    const command = commands.find((c) => c.name === err.command)
    writeLine(io.stderr, `switchboard${command ? ` ${command.name}` : ''}: ${err.message}`)
    writeLine(io.stderr, usageHint(command))
    return ExitCode.usage
  }
  if (isSwitchboardError(err)) {
    writeLine(io.stderr, `error ${err.code}: ${err.message}`)
    return ExitCode.failed
  }
  // Not one of ours (a bug, or a system error we did not map): still one coded line.
  const message = err instanceof Error ? err.message : String(err)
  writeLine(io.stderr, `error INTERNAL: ${message}`)
  return ExitCode.failed
}

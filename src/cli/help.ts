/**
 * Help and usage text, derived from the command declarations.
 */
import { helpOption } from './args.ts'
import type { Command, OptionSpec } from './command.ts'

/** `switchboard call ADDRESS METHOD [JSON] [options]` */
export function usageLine(command: Command): string {
  const words = command.positionals.map((p) => (p.required === false ? `[${p.name}]` : p.name))
  return ['switchboard', command.name, ...words, '[options]'].join(' ')
}

function optionLabel(name: string, spec: OptionSpec): string {
  const long = `--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`
  return spec.short === undefined ? long : `-${spec.short}, ${long}`
}

function table(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length))
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`)
}

export function commandHelp(command: Command): string {
  const lines = [`usage: ${usageLine(command)}`, '', command.summary]
  if (command.positionals.length > 0) {
    lines.push('', 'arguments:', ...table(command.positionals.map((p) => [p.name, p.description])))
  }
  const options = Object.entries({ ...command.options, help: helpOption })
  lines.push(
    '',
    'options:',
    ...table(options.map(([name, spec]) => [optionLabel(name, spec), spec.description])),
  )
  if (command.details !== undefined) lines.push('', command.details)
  lines.push('', 'exit codes: 0 success, 1 error (printed as "error CODE: message"), 2 bad arguments')
  return `${lines.join('\n')}\n`
}

export function topLevelHelp(commands: readonly Command[]): string {
  const lines = [
    'usage: switchboard COMMAND [arguments] [options]',
    '',
    'Named, secure, fast messaging between processes.',
    '',
    'commands:',
    ...table(commands.map((c) => [c.name, c.summary])),
    '',
    'options:',
    ...table([
      ['-h, --help', 'show this help (or COMMAND --help for a command)'],
      ['-V, --version', 'print the version'],
    ]),
    '',
    'environment: SWITCHBOARD_RUNTIME_DIR  the owner-only directory for named sockets',
  ]
  return `${lines.join('\n')}\n`
}

/** The hint printed after a usage error. */
export function usageHint(command: Command | undefined): string {
  return command === undefined
    ? "run 'switchboard --help' for the commands"
    : `usage: ${usageLine(command)}  (see 'switchboard ${command.name} --help')`
}

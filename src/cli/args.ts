/**
 * Parses a command's argv against its declared positionals and options (node:util parseArgs,
 * non-strict with tokens, then checked here so every mistake gets our own one-line message
 * instead of being classified from parseArgs' message text).
 */
import { parseArgs } from 'node:util'
import type { Command, OptionSpec, ParsedArgs } from './command.ts'
import { UsageError } from './usage-error.ts'

/** Every command takes --help (-h). */
export const helpOption: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' }

export type ParseResult = { help: true } | { help: false; args: ParsedArgs }

export function parseCommandArgs(command: Command, argv: readonly string[]): ParseResult {
  const specs: Record<string, OptionSpec> = { ...command.options, help: helpOption }
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = {}
  for (const [name, spec] of Object.entries(specs)) {
    config[name] = spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short }
  }
  const { values, positionals, tokens } = parseArgs({
    args: [...argv],
    options: config,
    strict: false,
    allowPositionals: true,
    tokens: true,
  })
  const fail = (message: string): UsageError => new UsageError(message, command.name)

  // --help wins over every other mistake on the line, as users expect.
  if (values['help'] === true) return { help: true }
  for (const token of tokens) {
    if (token.kind !== 'option') continue
    const shown = token.rawName
    const spec = specs[token.name]
    if (spec === undefined) {
      const hint = /^-\d/.test(shown) ? " (put a negative number after '--')" : ''
      throw fail(`unknown option '${shown}'${hint}`)
    }
    if (spec.type === 'string' && token.value === undefined) {
      throw fail(`option '${shown}' needs a value${spec.valueName ? ` (${spec.valueName})` : ''}`)
    }
    if (spec.type === 'boolean' && token.inlineValue === true) {
      throw fail(`option '${shown}' takes no value`)
    }
  }

  const named: Record<string, string | undefined> = {}
  command.positionals.forEach((p, i) => {
    named[p.name] = positionals[i]
  })
  const missing = command.positionals.find((p, i) => p.required !== false && positionals[i] === undefined)
  if (missing !== undefined) throw fail(`missing ${missing.name}`)
  const extra = positionals[command.positionals.length]
  if (extra !== undefined) throw fail(`unexpected argument '${extra}'`)

  const options: Record<string, string | boolean | undefined> = {}
  for (const name of Object.keys(command.options)) options[name] = values[name]
  return { help: false, args: { positionals: named, options } }
}

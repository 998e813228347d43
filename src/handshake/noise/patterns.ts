/**
 * Noise handshake patterns as data (Noise rev 34, §7.4 one-way and §7.5 interactive
 * fundamental patterns), written in the spec's own notation: pre-messages, then `...`, then the
 * messages. Names with `pskN` modifiers (§9.3) are derived on lookup: `psk0` puts a `psk`
 * token first in the first message, `pskN` puts one last in message N. Adding a pattern is one
 * line in `PATTERN_TABLE`.
 */
import { sbError } from '../../errors.ts'

/** A message-pattern token (§7.1). */
export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss' | 'psk'
/** A pre-message token: a public key one side knows in advance. */
export type PreToken = 'e' | 's'

/** A resolved handshake pattern, ready for the HandshakeState interpreter. */
export interface HandshakePattern {
  /** The pattern part of the protocol name, modifiers included (`XXpsk3`). */
  readonly name: string
  /** Keys of the initiator that the responder knows before the handshake (`-> s` pre-message). */
  readonly initiatorPreMessage: readonly PreToken[]
  /** Keys of the responder that the initiator knows before the handshake (`<- s` pre-message). */
  readonly responderPreMessage: readonly PreToken[]
  /** Message patterns; even indexes go initiator → responder, odd ones the other way. */
  readonly messages: readonly (readonly Token[])[]
  /** True when any message holds a `psk` token (psk mode: `e` also calls MixKey). */
  readonly hasPsk: boolean
}

/** The base patterns, line for line as §7.4 and §7.5 print them. */
export const PATTERN_TABLE = {
  N: ['<- s', '...', '-> e, es'],
  K: ['-> s', '<- s', '...', '-> e, es, ss'],
  X: ['<- s', '...', '-> e, es, s, ss'],
  NN: ['-> e', '<- e, ee'],
  NK: ['<- s', '...', '-> e, es', '<- e, ee'],
  NX: ['-> e', '<- e, ee, s, es'],
  XN: ['-> e', '<- e, ee', '-> s, se'],
  XK: ['<- s', '...', '-> e, es', '<- e, ee', '-> s, se'],
  XX: ['-> e', '<- e, ee, s, es', '-> s, se'],
  KN: ['-> s', '...', '-> e', '<- e, ee, se'],
  KK: ['-> s', '<- s', '...', '-> e, es, ss', '<- e, ee, se'],
  KX: ['-> s', '...', '-> e', '<- e, ee, se, s, es'],
  IN: ['-> e, s', '<- e, ee, se'],
  IK: ['<- s', '...', '-> e, es, s, ss', '<- e, ee, se'],
  IX: ['-> e, s', '<- e, ee, se, s, es'],
} as const satisfies Record<string, readonly string[]>

/** A base pattern name from the table. */
export type BasePatternName = keyof typeof PATTERN_TABLE

const TOKENS: ReadonlySet<string> = new Set<Token>(['e', 's', 'ee', 'es', 'se', 'ss', 'psk'])

function invalid(name: string, why: string): never {
  throw sbError('INVALID_ARGUMENT', `handshake pattern ${JSON.stringify(name)}: ${why}`)
}

function parseLine(name: string, line: string): { initiator: boolean; tokens: Token[] } {
  const arrow = line.slice(0, 2)
  if (arrow !== '->' && arrow !== '<-') invalid(name, `bad line ${JSON.stringify(line)}`)
  const body = line.slice(2).trim()
  const tokens = body === '' ? [] : body.split(',').map((t) => t.trim())
  for (const t of tokens) if (!TOKENS.has(t)) invalid(name, `unknown token ${JSON.stringify(t)}`)
  return { initiator: arrow === '->', tokens: tokens as Token[] }
}

function parseBase(name: string, lines: readonly string[]): HandshakePattern {
  const split = lines.indexOf('...')
  const initiatorPreMessage: PreToken[] = []
  const responderPreMessage: PreToken[] = []
  for (const line of split < 0 ? [] : lines.slice(0, split)) {
    const { initiator, tokens } = parseLine(name, line)
    for (const t of tokens) if (t !== 'e' && t !== 's') invalid(name, `pre-message token ${t}`)
    ;(initiator ? initiatorPreMessage : responderPreMessage).push(...(tokens as PreToken[]))
  }
  const messages: Token[][] = []
  for (const line of lines.slice(split + 1)) {
    const { initiator, tokens } = parseLine(name, line)
    if (initiator !== (messages.length % 2 === 0)) invalid(name, 'messages must alternate, initiator first')
    messages.push(tokens)
  }
  if (messages.length === 0) invalid(name, 'no messages')
  return { name, initiatorPreMessage, responderPreMessage, messages, hasPsk: false }
}

function applyPskModifiers(base: HandshakePattern, name: string, modifiers: string): HandshakePattern {
  const messages = base.messages.map((m) => [...m])
  const seen = new Set<number>()
  for (const modifier of modifiers.split('+')) {
    const match = /^psk(\d{1,2})$/.exec(modifier)
    if (match === null) invalid(name, `unknown modifier ${JSON.stringify(modifier)}`)
    const n = Number(match[1])
    if (seen.has(n) || n > messages.length) invalid(name, `bad modifier ${modifier}`)
    seen.add(n)
    if (n === 0) messages[0]!.unshift('psk')
    else messages[n - 1]!.push('psk')
  }
  return { ...base, name, messages, hasPsk: true }
}

const resolved = new Map<string, HandshakePattern>()

/**
 * The pattern for a name such as `XX`, `NNpsk0`, `XXpsk3` or `NNpsk0+psk2`. Throws
 * INVALID_ARGUMENT for a name that is not a table pattern with valid modifiers.
 */
export function resolvePattern(name: string): HandshakePattern {
  const cached = resolved.get(name)
  if (cached !== undefined) return cached
  const at = name.indexOf('psk')
  const baseName = at < 0 ? name : name.slice(0, at)
  if (!Object.hasOwn(PATTERN_TABLE, baseName)) invalid(name, 'unknown pattern')
  const base = parseBase(baseName, PATTERN_TABLE[baseName as BasePatternName])
  const pattern = at < 0 ? base : applyPskModifiers(base, name, name.slice(at))
  resolved.set(name, pattern)
  return pattern
}

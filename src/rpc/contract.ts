/**
 * Typed contracts (docs/contracts.md): a protocol is a name, a `major.minor` version, its
 * requests (an input and an output schema each) and its events (a schema each), over any
 * Standard Schema. One definition gives the compile-time types of handlers and clients, the
 * run-time validation on the receiving side, and the offer a side puts in its hello.
 *
 * On the wire a contract's method or event is the name `protocol/method`: it travels by id in
 * the per-session name table like every other name (docs/protocol.md §14).
 */
import { sbError } from '../errors.ts'
import type { ProtocolOffer } from '../wire/hello.ts'
import type {
  StandardInput,
  StandardIssue,
  StandardOutput,
  StandardResult,
  StandardSchemaV1,
} from './standard-schema.ts'
import type { HandlerContext } from './types.ts'

/** One request of a protocol: the schema of what the caller sends and of what comes back. */
export interface RequestContract {
  readonly input: StandardSchemaV1
  readonly output: StandardSchemaV1
}

/** What defineProtocol() takes. */
export interface ProtocolDefinition {
  /** 1..100 characters of letters, digits, '.', '_' and '-'. */
  readonly name: string
  /** 'major.minor' (or 'major'): a minor may add methods and events; another major is incompatible. */
  readonly version: string
  readonly requests?: Readonly<Record<string, RequestContract>>
  readonly events?: Readonly<Record<string, StandardSchemaV1>>
}

/** A protocol made by defineProtocol(): pass it to implement() and use(). */
export interface Protocol<D extends ProtocolDefinition = ProtocolDefinition> {
  readonly name: D['name']
  readonly version: string
  readonly major: number
  readonly minor: number
  readonly definition: D
  /** The request names, in definition order. */
  readonly methods: readonly string[]
  /** The event names, in definition order. */
  readonly events: readonly string[]
}

type RequestsOf<P> = P extends Protocol<infer D> ? NonNullable<D['requests']> : never
type EventsOf<P> = P extends Protocol<infer D> ? NonNullable<D['events']> : never

/** The request names of protocol P. */
export type MethodName<P extends Protocol> = keyof RequestsOf<P> & string
/** The event names of protocol P. */
export type EventName<P extends Protocol> = keyof EventsOf<P> & string

type InputSchema<P extends Protocol, M extends MethodName<P>> = RequestsOf<P>[M] extends RequestContract
  ? RequestsOf<P>[M]['input']
  : never
type OutputSchema<P extends Protocol, M extends MethodName<P>> = RequestsOf<P>[M] extends RequestContract
  ? RequestsOf<P>[M]['output']
  : never

/** What a caller of method M sends. */
export type InputOf<P extends Protocol, M extends MethodName<P>> = StandardInput<InputSchema<P, M>>
/** What method M's handler receives (the input schema's output, after validation). */
export type HandlerInputOf<P extends Protocol, M extends MethodName<P>> = StandardOutput<InputSchema<P, M>>
/** What method M's handler returns. */
export type HandlerOutputOf<P extends Protocol, M extends MethodName<P>> = StandardInput<OutputSchema<P, M>>
/** What a caller of method M receives. */
export type OutputOf<P extends Protocol, M extends MethodName<P>> = StandardOutput<OutputSchema<P, M>>
/** What a publisher of event E sends. */
export type EventInputOf<P extends Protocol, E extends EventName<P>> = EventsOf<P>[E] extends StandardSchemaV1
  ? StandardInput<EventsOf<P>[E]>
  : never
/** What a subscriber of event E receives. */
export type EventOf<P extends Protocol, E extends EventName<P>> = EventsOf<P>[E] extends StandardSchemaV1
  ? StandardOutput<EventsOf<P>[E]>
  : never

/** One handler per request of P, typed from its schemas. */
export type ContractHandlers<P extends Protocol> = {
  readonly [M in MethodName<P>]: (
    input: HandlerInputOf<P, M>,
    ctx: HandlerContext,
  ) => HandlerOutputOf<P, M> | Promise<HandlerOutputOf<P, M>>
}

/** Options of implement() and use(). */
export interface ContractOptions {
  /**
   * Validate with the schemas on this side (inputs before the handler, outputs before they are
   * sent, events before they are delivered). Default true; false for hot paths: the types
   * still hold at compile time, nothing is checked at run time.
   */
  validate?: boolean
}

const NAME = /^[A-Za-z0-9._-]{1,100}$/
/** The library's own calls (`switchboard/describe`) live under this name. */
const RESERVED = 'switchboard'
const VERSION = /^(\d{1,6})(?:\.(\d{1,5}))?$/

/** Largest minor the hello's version field carries (major × 65536 + minor). */
const MINOR_LIMIT = 65_536

/**
 * Defines a protocol. Checks the name, the version and that every request and event has
 * Standard Schemas (INVALID_ARGUMENT otherwise); the result is frozen.
 */
export function defineProtocol<const D extends ProtocolDefinition>(definition: D): Protocol<D> {
  if (typeof definition.name !== 'string' || !NAME.test(definition.name))
    throw sbError('INVALID_ARGUMENT', `protocol name must be 1..100 of [A-Za-z0-9._-]: ${definition.name}`)
  if (definition.name === RESERVED)
    throw sbError('INVALID_ARGUMENT', `the protocol name '${RESERVED}' is reserved for the library`)
  const m = VERSION.exec(String(definition.version))
  if (m === null)
    throw sbError('INVALID_ARGUMENT', `protocol version must be 'major.minor': ${definition.version}`)
  const major = Number(m[1])
  const minor = Number(m[2] ?? 0)
  if (minor >= MINOR_LIMIT) throw sbError('INVALID_ARGUMENT', `protocol minor must be below ${MINOR_LIMIT}`)
  const methods = Object.keys(definition.requests ?? {})
  const events = Object.keys(definition.events ?? {})
  for (const method of methods) {
    checkMember(definition.name, method)
    const r = definition.requests![method]!
    if (!isSchema(r.input) || !isSchema(r.output))
      throw sbError('INVALID_ARGUMENT', `'${method}' needs Standard Schemas as input and output`)
  }
  for (const event of events) {
    checkMember(definition.name, event)
    if (!isSchema(definition.events![event]))
      throw sbError('INVALID_ARGUMENT', `event '${event}' needs a Standard Schema`)
  }
  return Object.freeze({
    name: definition.name,
    version: `${major}.${minor}`,
    major,
    minor,
    definition,
    methods: Object.freeze(methods),
    events: Object.freeze(events),
  })
}

function checkMember(protocol: string, name: string): void {
  if (name.length === 0 || name.includes('/') || name.length > 900)
    throw sbError('INVALID_ARGUMENT', `'${protocol}': names are 1..900 characters without '/': '${name}'`)
}

function isSchema(s: unknown): s is StandardSchemaV1 {
  const props = (s as { '~standard'?: { validate?: unknown } } | null)?.['~standard']
  return typeof props?.validate === 'function'
}

/** The name a contract's method or event travels under: `protocol/name`. */
export function wireName(protocol: Protocol, name: string): string {
  return `${protocol.name}/${name}`
}

/** What a side puts in its hello (and OFFER frames) for a protocol it implements. */
export function offerOf(protocol: Protocol): ProtocolOffer {
  return {
    name: protocol.name,
    version: protocol.major * MINOR_LIMIT + protocol.minor,
    methods: protocol.methods,
    events: protocol.events,
  }
}

/** A peer's offer as this side reads it. */
export interface PeerProtocol {
  readonly name: string
  readonly major: number
  readonly minor: number
  readonly methods: ReadonlySet<string>
  readonly events: ReadonlySet<string>
}

/** The protocols the other side offers, by name (from its hello, then its OFFER frames). */
export class PeerProtocols {
  private readonly byName = new Map<string, PeerProtocol>()

  constructor(offers: readonly ProtocolOffer[] = []) {
    for (const o of offers) this.add(o)
  }

  /** Adds or replaces the offer of one protocol (a later OFFER of the same name wins). */
  add(offer: ProtocolOffer): void {
    this.byName.set(offer.name, {
      name: offer.name,
      major: Math.floor(offer.version / MINOR_LIMIT),
      minor: offer.version % MINOR_LIMIT,
      methods: new Set(offer.methods),
      events: new Set(offer.events),
    })
  }

  get(name: string): PeerProtocol | undefined {
    return this.byName.get(name)
  }

  get size(): number {
    return this.byName.size
  }

  list(): PeerProtocol[] {
    return [...this.byName.values()]
  }
}

/** Why the peer cannot serve `protocol` (PROTOCOL_UNSUPPORTED), or undefined when it can. */
export function unsupported(protocol: Protocol, peer: PeerProtocols): string | undefined {
  const offer = peer.get(protocol.name)
  if (offer === undefined) return `the peer does not offer protocol '${protocol.name}'`
  if (offer.major !== protocol.major)
    return `the peer offers '${protocol.name}' ${offer.major}.${offer.minor}, not major ${protocol.major}`
  return undefined
}

// ---- validation --------------------------------------------------------------------------------

/** Most issues an error carries, and most characters of each message and path. */
const MAX_ISSUES = 20
const MAX_MESSAGE = 200
const MAX_PATH = 20
/** Room the issues may take in the error detail (whose limit is 16 KiB with code and message). */
const ISSUES_BUDGET = 8 * 1024

export interface IssueSummary {
  path: (string | number)[]
  message: string
}

/** Issues as path + message, cut to fit the error detail limit (docs/contracts.md). */
export function summarizeIssues(issues: ReadonlyArray<StandardIssue>): {
  issues: IssueSummary[]
  truncated: number
} {
  const out: IssueSummary[] = []
  let size = 0
  for (const issue of issues) {
    if (out.length >= MAX_ISSUES) break
    const path = (issue.path ?? []).slice(0, MAX_PATH).map((seg) => {
      const key = typeof seg === 'object' && seg !== null ? seg.key : seg
      return typeof key === 'number' ? key : String(key).slice(0, MAX_MESSAGE)
    })
    const summary = { path, message: String(issue.message).slice(0, MAX_MESSAGE) }
    size += JSON.stringify(summary).length
    if (size > ISSUES_BUDGET) break
    out.push(summary)
  }
  return { issues: out, truncated: issues.length - out.length }
}

/** The first issue, as one line for an error message. */
function firstIssue(issues: ReadonlyArray<StandardIssue>): string {
  const first = summarizeIssues(issues.slice(0, 1)).issues[0]
  if (first === undefined) return ''
  return first.path.length > 0 ? `${first.path.join('.')}: ${first.message}` : first.message
}

export type Validated<T> = { ok: true; value: T } | { ok: false; issues: ReadonlyArray<StandardIssue> }

function settle<T>(r: StandardResult<T>): Validated<T> {
  return r.issues === undefined ? { ok: true, value: r.value } : { ok: false, issues: r.issues }
}

/** Runs a schema; a promise only when the schema's validate() returned one. */
export function check<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
): Validated<T> | Promise<Validated<T>> {
  const r = schema['~standard'].validate(value)
  return r instanceof Promise ? r.then(settle) : settle(r)
}

/** The coded error of a failed validation (INPUT_INVALID, OUTPUT_INVALID, EVENT_INVALID). */
export function invalid(
  code: 'INPUT_INVALID' | 'OUTPUT_INVALID' | 'EVENT_INVALID',
  what: string,
  issues: ReadonlyArray<StandardIssue>,
): ReturnType<typeof sbError> {
  return sbError(code, `${what} is invalid: ${firstIssue(issues)}`, {
    details: { data: summarizeIssues(issues) },
  })
}

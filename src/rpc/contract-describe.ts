/**
 * The reserved describe call (docs/contracts.md): a side that implements contracts answers
 * `switchboard/describe` with its protocols, their methods and events, and a JSON Schema of each
 * schema that provides one through Standard JSON Schema (`~standard.jsonSchema`, spec 1.1). The
 * hello carries names and versions only; this call carries the schemas.
 */
import type { Protocol } from './contract.ts'
import type { StandardSchemaV1 } from './standard-schema.ts'

/** The method the library answers on every side that implements a contract. */
export const DESCRIBE_METHOD = 'switchboard/describe'

/** A JSON Schema object, or null when the schema's library provides none. */
export type JsonSchema = Record<string, unknown> | null

export interface ProtocolDescription {
  name: string
  version: string
  methods: { name: string; input: JsonSchema; output: JsonSchema }[]
  events: { name: string; schema: JsonSchema }[]
}

/** What the describe call returns. */
export interface Description {
  protocols: ProtocolDescription[]
}

/** JSON Schema draft 2020-12 of one side of `schema`, or null (none provided, or it threw). */
export function jsonSchemaOf(schema: StandardSchemaV1, side: 'input' | 'output'): JsonSchema {
  const convert = schema['~standard'].jsonSchema
  if (convert === undefined) return null
  try {
    return convert[side]({ target: 'draft-2020-12' })
  } catch {
    return null
  }
}

export function describeProtocol(protocol: Protocol): ProtocolDescription {
  const requests = protocol.definition.requests ?? {}
  const events = protocol.definition.events ?? {}
  return {
    name: protocol.name,
    version: protocol.version,
    methods: protocol.methods.map((name) => ({
      name,
      input: jsonSchemaOf(requests[name]!.input, 'input'),
      output: jsonSchemaOf(requests[name]!.output, 'output'),
    })),
    events: protocol.events.map((name) => ({ name, schema: jsonSchemaOf(events[name]!, 'output') })),
  }
}

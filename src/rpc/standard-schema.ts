/**
 * The Standard Schema interface (https://standardschema.dev, `@standard-schema/spec` 1.1:
 * StandardSchemaV1 and StandardJSONSchemaV1), vendored as types only so that switchboard takes
 * no dependency: valibot, zod, arktype and every other library that implements the spec are
 * accepted structurally. The spec asks implementers to copy these types rather than depend on
 * the package; the member names and shapes below are the spec's.
 */

/** A schema: anything with a `~standard` property of this shape. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaProps<Input, Output>
}

export interface StandardSchemaProps<Input = unknown, Output = Input> {
  /** The spec's version (1). */
  readonly version: 1
  /** The library that made the schema ('valibot', 'zod', …). */
  readonly vendor: string
  /** Checks `value`: the (possibly transformed) value, or the issues. May return a promise. */
  readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>
  /** Carries the schema's types for inference only; never read at run time. */
  readonly types?: StandardTypes<Input, Output> | undefined
  /** Standard JSON Schema (spec 1.1), when the library provides it. */
  readonly jsonSchema?: StandardJsonSchemaConverter | undefined
}

export type StandardResult<Output> = StandardSuccess<Output> | StandardFailure

export interface StandardSuccess<Output> {
  readonly value: Output
  readonly issues?: undefined
}

export interface StandardFailure {
  readonly issues: ReadonlyArray<StandardIssue>
}

export interface StandardIssue {
  readonly message: string
  readonly path?: ReadonlyArray<PropertyKey | StandardPathSegment> | undefined
}

export interface StandardPathSegment {
  readonly key: PropertyKey
}

export interface StandardTypes<Input = unknown, Output = Input> {
  readonly input: Input
  readonly output: Output
}

/** StandardJSONSchemaV1's converter: JSON Schema of the input or output side. */
export interface StandardJsonSchemaConverter {
  readonly input: (options: StandardJsonSchemaOptions) => Record<string, unknown>
  readonly output: (options: StandardJsonSchemaOptions) => Record<string, unknown>
}

export interface StandardJsonSchemaOptions {
  /** 'draft-2020-12', 'draft-07', 'openapi-3.0', or a target the library knows. */
  readonly target: string
  readonly libraryOptions?: Record<string, unknown> | undefined
}

/** The type a schema accepts (what a caller sends). */
export type StandardInput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['input']
/** The type a schema produces once it validated (what a handler receives). */
export type StandardOutput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['output']

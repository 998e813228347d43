/**
 * The implementing side of a contract: each typed handler becomes a plain Handler under the
 * method's wire name, which validates the input before the handler runs (INPUT_INVALID: the
 * handler never runs) and the result before it is sent (OUTPUT_INVALID). A schema whose
 * validate() is synchronous adds no promise of its own.
 */
import { type ContractHandlers, check, invalid, type Protocol, type Validated, wireName } from './contract.ts'
import type { StandardSchemaV1 } from './standard-schema.ts'
import type { Handler, HandlerContext } from './types.ts'

type AnyHandler = (input: unknown, ctx: HandlerContext) => unknown

/** The plain handlers of `protocol`, by wire name. */
export function contractHandlers<P extends Protocol>(
  protocol: P,
  handlers: ContractHandlers<P>,
  validate: boolean,
): Map<string, Handler> {
  const table = new Map<string, Handler>()
  const given = handlers as unknown as Record<string, AnyHandler | undefined>
  for (const method of protocol.methods) {
    const fn = given[method]
    if (typeof fn !== 'function') continue
    const schemas = protocol.definition.requests![method]!
    table.set(
      wireName(protocol, method),
      validate ? validating(method, schemas.input, schemas.output, fn) : fn,
    )
  }
  return table
}

function validating(
  method: string,
  input: StandardSchemaV1,
  output: StandardSchemaV1,
  fn: AnyHandler,
): Handler {
  const checkOutput = (result: unknown): unknown => {
    const checked = check(output, result)
    return checked instanceof Promise ? checked.then(outputOrThrow) : outputOrThrow(checked)
  }
  const outputOrThrow = (v: Validated<unknown>): unknown => {
    if (!v.ok) throw invalid('OUTPUT_INVALID', `the result of '${method}'`, v.issues)
    return v.value
  }
  const run = (v: Validated<unknown>, ctx: HandlerContext): unknown => {
    if (!v.ok) throw invalid('INPUT_INVALID', `the input of '${method}'`, v.issues)
    const result = fn(v.value, ctx)
    return result instanceof Promise ? result.then(checkOutput) : checkOutput(result)
  }
  return (data, ctx) => {
    const checked = check(input, data)
    return checked instanceof Promise ? checked.then((v) => run(v, ctx)) : run(checked, ctx)
  }
}

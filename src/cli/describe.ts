/**
 * `switchboard describe ADDRESS [--json] [--insecure]`: the protocols the service at ADDRESS
 * offers (from its hello), with their methods and events and, where the schemas provide it,
 * their JSON Schema (from the library's reserved describe call). Prints text, or one JSON line
 * with --json.
 */
import { isSwitchboardError } from '../errors.ts'
import { connect } from '../link/api.ts'
import type { Link } from '../link/link.ts'
import { DESCRIBE_METHOD, type Description, type JsonSchema } from '../rpc/contract-describe.ts'
import type { Command } from './command.ts'
import { addressDescription, checkAddress, endpointOptionsFrom, securityOptions } from './endpoint.ts'
import { type CliIo, ExitCode, writeLine } from './io.ts'
import { peerAddressNote, resolveTarget } from './peer-target.ts'

export const describe: Command = {
  name: 'describe',
  summary: 'print the protocols, methods and events the service at ADDRESS offers',
  details: [
    'examples:',
    '  switchboard describe my-app',
    '  switchboard describe tcp://10.0.0.5:4000 --json',
    '  switchboard describe sb:billing',
    '',
    'Each protocol is printed with its version, its requests (input and output JSON Schema) and',
    'its events (JSON Schema), where the schema library provides Standard JSON Schema.',
  ].join('\n'),
  positionals: [{ name: 'ADDRESS', description: `the service: ${addressDescription}, ${peerAddressNote}` }],
  options: {
    json: { type: 'boolean', description: 'print one line of JSON instead of text' },
    ...securityOptions,
  },
  async run(args, io) {
    const address = args.positionals['ADDRESS']!
    checkAddress(address, 'describe')
    let link: Link | undefined
    try {
      const target = await resolveTarget(address, io)
      link = await connect(target, { ...endpointOptionsFrom(io, args.options), reconnect: false })
      await link.ready()
      const described = await describeLink(link, io)
      if (args.options['json'] === true) writeLine(io.stdout, JSON.stringify(described))
      else printText(described, io)
      return ExitCode.ok
    } finally {
      await link?.close()
    }
  },
}

/** What the link's peer offers: names and versions from its hello, schemas from the describe call. */
async function describeLink(link: Link, io: CliIo): Promise<Description> {
  const offered = link.peerProtocols?.list() ?? []
  if (offered.length === 0) return { protocols: [] }
  let schemas: Description | undefined
  try {
    schemas = await link.request<Description>(DESCRIBE_METHOD, undefined, {
      timeout: 10_000,
      ...(io.shutdown === undefined ? {} : { signal: io.shutdown }),
    })
  } catch (err) {
    // A peer that offers protocols but does not answer (another implementation): names only.
    if (!isSwitchboardError(err, 'METHOD_NOT_FOUND')) throw err
  }
  // The answer is the peer's: read it as untrusted (a list where a list is expected, or nothing).
  const protocols = listOf(schemas?.protocols)
  return {
    protocols: offered.map((p) => {
      const known = protocols.find((d) => d?.name === p.name)
      return {
        name: p.name,
        version: `${p.major}.${p.minor}`,
        methods: [...p.methods].map((name) => {
          const m = listOf(known?.methods).find((x) => x?.name === name)
          return { name, input: m?.input ?? null, output: m?.output ?? null }
        }),
        events: [...p.events].map((name) => ({
          name,
          schema: listOf(known?.events).find((x) => x?.name === name)?.schema ?? null,
        })),
      }
    }),
  }
}

function listOf<T>(value: readonly T[] | undefined): readonly (T | undefined)[] {
  return Array.isArray(value) ? value : []
}

function printText(d: Description, io: CliIo): void {
  if (d.protocols.length === 0) writeLine(io.stdout, 'no protocols offered')
  const schema = (s: JsonSchema): string => (s === null ? '(no JSON Schema)' : JSON.stringify(s))
  for (const p of d.protocols) {
    writeLine(io.stdout, `${p.name} ${p.version}`)
    for (const m of p.methods) {
      writeLine(io.stdout, `  request ${m.name}`)
      writeLine(io.stdout, `    input:  ${schema(m.input)}`)
      writeLine(io.stdout, `    output: ${schema(m.output)}`)
    }
    for (const e of p.events) {
      writeLine(io.stdout, `  event ${e.name}`)
      writeLine(io.stdout, `    schema: ${schema(e.schema)}`)
    }
  }
}

/**
 * `switchboard call ADDRESS METHOD [JSON] [--timeout MS] [--stream FILE|-] [--insecure]`:
 * one request; prints the result as one line of JSON (exit 0) or `error CODE: message` on
 * stderr (exit 1). With --stream the file (or stdin for `-`) is the request body, sent as a
 * stream, with a progress bar on stderr when stderr is a terminal.
 */
import { type FileHandle, open } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { errnoCode } from '../internal/errno.ts'
import { connect } from '../link/api.ts'
import type { Link } from '../link/link.ts'
import { DEFAULT_CALL_TIMEOUT_MS } from '../rpc/defaults.ts'
import type { RequestOptions } from '../rpc/types.ts'
import type { Command } from './command.ts'
import {
  addressDescription,
  checkAddress,
  directoryOptions,
  endpointOptionsFrom,
  securityOptions,
} from './endpoint.ts'
import { type CliIo, ExitCode, writeLine } from './io.ts'
import { parseJsonArgument } from './json-argument.ts'
import { toJsonLine } from './json-output.ts'
import { peerAddressNote, resolveTarget } from './peer-target.ts'
import { ProgressBar } from './progress.ts'
import { UsageError } from './usage-error.ts'

export const call: Command = {
  name: 'call',
  summary: 'call METHOD on the service at ADDRESS and print the result as JSON',
  details: [
    'examples:',
    '  switchboard call my-app echo \'{"hi":1}\'',
    '  switchboard call my-app sink --stream big.bin',
    '  tar c dir | switchboard call my-app sink --stream -',
    '',
    'The result is printed as one line of JSON (raw bytes as {"base64": "…"}, BigInt as a string).',
  ].join('\n'),
  positionals: [
    { name: 'ADDRESS', description: `the service: ${addressDescription}, ${peerAddressNote}` },
    { name: 'METHOD', description: 'the method to call' },
    { name: 'JSON', description: 'the argument, as JSON (quote strings: \'"text"\')', required: false },
  ],
  options: {
    timeout: {
      type: 'string',
      valueName: 'MS',
      description: `deadline of the call in ms (default ${DEFAULT_CALL_TIMEOUT_MS}; none for a --stream call)`,
    },
    stream: {
      type: 'string',
      valueName: 'FILE|-',
      description: 'send FILE (or stdin for -) as the request body, as a stream',
    },
    ...securityOptions,
    ...directoryOptions,
  },
  async run(args, io) {
    const address = args.positionals['ADDRESS']!
    checkAddress(address, 'call')
    const method = args.positionals['METHOD']!
    const json = args.positionals['JSON']
    const stream = args.options['stream']
    const timeout = parseTimeout(args.options['timeout'])
    if (typeof stream === 'string' && json !== undefined) {
      throw new UsageError('give the argument as JSON or as --stream, not both', 'call')
    }
    const data = json === undefined ? undefined : parseJsonArgument(json, 'call')
    const body = typeof stream === 'string' ? await openBody(stream, io) : undefined
    const options: RequestOptions = {
      ...(timeout === undefined ? {} : { timeout }),
      ...(io.shutdown === undefined ? {} : { signal: io.shutdown }),
    }
    let link: Link | undefined
    try {
      // One call, now: a service that is not there is an error to report at once, not a
      // destination to wait for (as a long-lived link would, reconnecting).
      const target = await resolveTarget(address, io, args.options)
      link = await connect(target, { ...endpointOptionsFrom(io, args.options), reconnect: false })
      const result = await link.request(method, body === undefined ? data : body.source, options)
      writeLine(io.stdout, toJsonLine(result))
      return ExitCode.ok
    } finally {
      body?.release()
      await link?.close()
    }
  },
}

function parseTimeout(raw: string | boolean | undefined): number | undefined {
  if (typeof raw !== 'string') return undefined
  if (!/^\d+$/.test(raw) || Number(raw) <= 0 || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`--timeout must be a whole number of milliseconds above 0, got '${raw}'`, 'call')
  }
  return Number(raw)
}

interface Body {
  source: AsyncIterable<Uint8Array>
  /** Stops reading the source (file or stdin) if the call ended before its end. */
  release(): void
}

/** Opens the --stream source (a file, or stdin for `-`), wrapped in a progress bar on a terminal. */
async function openBody(path: string, io: CliIo): Promise<Body> {
  let readable: Readable
  let total: number | undefined
  if (path === '-') {
    readable = io.stdin
  } else {
    let handle: FileHandle | undefined
    try {
      handle = await open(path, 'r')
      const stats = await handle.stat()
      if (stats.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' })
      // Regular files have a size for the bar; pipes and devices stream without a total.
      if (stats.isFile()) total = stats.size
    } catch (err) {
      await handle?.close()
      throw new UsageError(`cannot read --stream file '${path}' (${errnoCode(err)})`, 'call')
    }
    readable = handle.createReadStream() // closes the handle when the stream ends or is destroyed
  }
  const source = io.isTTY === true ? new ProgressBar(io.stderr, { total }).track(readable) : readable
  return {
    source,
    // Stdin included: a call that failed while a pipe still feeds it would otherwise keep the
    // process alive, reading a body nobody sends.
    release: () => readable.destroy(),
  }
}

/**
 * `switchboard daemon [--config FILE] [--log FILE] [--socket PATH] [--tcp HOST:PORT] [--key FILE]
 * [--no-socket] [--LIMIT N …]`: the directory service for a machine or a network
 * (docs/daemon.md). Every setting of the config file is also a flag; a flag wins. Prints
 * "listening <address>" per address and "public-key <key>" on stdout once it accepts; stops on
 * SIGINT or SIGTERM.
 */
import { hashPassword } from '../daemon/auth/password-hash.ts'
import { checkDaemonConfig, type DaemonConfig, readDaemonConfig } from '../daemon/config.ts'
import { startDaemon } from '../daemon/daemon.ts'
import { type DaemonLimits, defaultDaemonLimits } from '../daemon/limits.ts'
import { DEFAULT_DAEMON_SOCKET } from '../discovery/daemon-names.ts'
import { errnoCode } from '../internal/errno.ts'
import type { Command, OptionSpec } from './command.ts'
import { ExitCode, writeLine } from './io.ts'
import { type EventLog, humanLog, jsonLinesLog, type LogFields } from './log.ts'
import { stopRequested } from './stop.ts'
import { UsageError } from './usage-error.ts'

/** `maxEntriesPerConnection` → `max-entries-per-connection`. */
function flagOf(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

const limitFlags: Record<string, OptionSpec> = Object.fromEntries(
  Object.entries(defaultDaemonLimits).map(([key, value]) => [
    flagOf(key),
    { type: 'string', valueName: 'N', description: `limit ${key} (default ${value})` },
  ]),
)

export const daemon: Command = {
  name: 'daemon',
  summary: 'run the directory service for this machine (unix socket) or a network (TCP, port 4455)',
  details: [
    'examples:',
    '  switchboard daemon --config /etc/switchboard/daemon.json',
    '  switchboard daemon --socket /tmp/sb/daemon.sock --tcp 0.0.0.0:4455 --log /tmp/sb/daemon.log',
    '  printf %s "$PASSWORD" | switchboard daemon hash-password',
    '',
    `The socket defaults to ${DEFAULT_DAEMON_SOCKET} (its directory 0755, the socket 0666); the key`,
    'file to daemon.key beside it (made on first start, 0600), and the public key is written to',
    'daemon.pub beside it. Peers use it with --directory unix:PATH or join({ directory }).',
    'Prints "listening <address>" per address and "public-key <key>" once it accepts.',
    'The config\'s "auth" section (users, policy, usersDir) turns logins on; without it the',
    'daemon is open. `hash-password` reads a password on stdin (one line) and prints its',
    "scrypt$... hash for the config's users.",
  ].join('\n'),
  positionals: [
    {
      name: 'ACTION',
      description: '`hash-password`: print the hash of the password on stdin',
      required: false,
    },
  ],
  options: {
    config: {
      type: 'string',
      valueName: 'FILE',
      description: 'the JSON config (docs/daemon.md); flags win over it',
    },
    log: {
      type: 'string',
      valueName: 'FILE',
      description: 'append events to FILE as JSON lines (default: stderr)',
    },
    socket: {
      type: 'string',
      valueName: 'PATH',
      description: `the unix socket (default ${DEFAULT_DAEMON_SOCKET})`,
    },
    'no-socket': { type: 'boolean', description: 'no unix socket (TCP only; needs --tcp and --key)' },
    tcp: {
      type: 'string',
      valueName: 'HOST:PORT',
      description: 'also listen on TCP (port 4455 when omitted)',
    },
    key: {
      type: 'string',
      valueName: 'FILE',
      description: 'the private key file (default daemon.key beside the socket)',
    },
    'public-key-file': {
      type: 'string',
      valueName: 'FILE',
      description: 'where to write the public key (default daemon.pub beside the socket)',
    },
    'sweep-ms': { type: 'string', valueName: 'MS', description: 'how often expired leases are swept' },
    'max-connections': {
      type: 'string',
      valueName: 'N',
      description: 'connections served at once per listener (default 1024)',
    },
    ...limitFlags,
  },
  async run(args, io) {
    const action = args.positionals['ACTION']
    if (action === 'hash-password') {
      writeLine(io.stdout, await hashPassword(await passwordFromStdin(io.stdin)))
      return ExitCode.ok
    }
    if (action !== undefined) throw new UsageError(`unknown daemon action '${action}'`, 'daemon')
    const o = args.options
    const fromFile: DaemonConfig = typeof o['config'] === 'string' ? readDaemonConfig(o['config']) : {}
    const flags: Record<string, unknown> = {}
    if (typeof o['socket'] === 'string') flags['socket'] = o['socket']
    if (o['no-socket'] === true) flags['socket'] = false
    if (typeof o['tcp'] === 'string') flags['tcp'] = o['tcp']
    if (typeof o['key'] === 'string') flags['keyFile'] = o['key']
    if (typeof o['public-key-file'] === 'string') flags['publicKeyFile'] = o['public-key-file']
    if (typeof o['log'] === 'string') flags['log'] = o['log']
    if (typeof o['sweep-ms'] === 'string') flags['sweepMs'] = integer(o['sweep-ms'], '--sweep-ms')
    if (typeof o['max-connections'] === 'string')
      flags['maxConnections'] = integer(o['max-connections'], '--max-connections')
    const limits: Partial<DaemonLimits> = { ...fromFile.limits }
    for (const key of Object.keys(defaultDaemonLimits) as (keyof DaemonLimits)[]) {
      const given = o[flagOf(key)]
      if (typeof given === 'string') limits[key] = integer(given, `--${flagOf(key)}`)
    }
    const config = checkDaemonConfig({ ...fromFile, ...flags, limits }, 'the daemon settings')
    const log = config.log === undefined ? humanLog(io.stderr) : await openLog(config.log)
    try {
      const d = await startDaemon({
        ...(config.socket === undefined ? {} : { socket: config.socket }),
        ...(config.tcp === undefined ? {} : { tcp: config.tcp }),
        ...(config.keyFile === undefined ? {} : { keyFile: config.keyFile }),
        ...(config.publicKeyFile === undefined ? {} : { publicKeyFile: config.publicKeyFile }),
        ...(config.sweepMs === undefined ? {} : { sweepMs: config.sweepMs }),
        ...(config.maxConnections === undefined ? {} : { listen: { maxConnections: config.maxConnections } }),
        limits: config.limits ?? {},
        ...(config.auth === undefined ? {} : { auth: config.auth }),
        log: (record) => {
          const { event, time: _time, ...fields } = record
          log.write(String(event), flat(fields))
        },
      })
      for (const address of d.addresses) writeLine(io.stdout, `listening ${address}`)
      writeLine(io.stdout, `public-key ${d.publicKey}`)
      await stopRequested(io)
      await d.close()
    } finally {
      await log.close()
    }
    return ExitCode.ok
  },
}

/** The password on stdin: its first line (a trailing newline is not part of it). */
async function passwordFromStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = ''
  for await (const chunk of stdin) {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    if (text.length > 4096)
      throw new UsageError('the password on stdin is longer than 4096 characters', 'daemon')
  }
  const password = text.split(/\r?\n/)[0] ?? ''
  if (password.length === 0)
    throw new UsageError('hash-password reads a non-empty password on stdin', 'daemon')
  return password
}

function integer(text: string, flag: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} takes a positive integer`, 'daemon')
  return n
}

/** Log fields are flat: lists and objects become their JSON text. */
function flat(fields: Record<string, unknown>): LogFields {
  const out: Record<string, string | number | boolean | undefined> = {}
  for (const [k, v] of Object.entries(fields)) {
    out[k] =
      v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
        ? v
        : JSON.stringify(v)
  }
  return out
}

async function openLog(path: string): Promise<EventLog> {
  try {
    return await jsonLinesLog(path)
  } catch (err) {
    throw new UsageError(`cannot open --log file '${path}' (${errnoCode(err)})`, 'daemon')
  }
}

/**
 * The options every command passes to listen() and connect(): security (--secret-file,
 * --key-file, --allow, --insecure, --tls-cert, --tls-key, --tls-ca), and the runtime directory taken from the CLI's environment
 * (io.env), so a command run in-process by a test uses the test's directory without touching
 * process.env.
 */
import { readFileSync } from 'node:fs'
import { type DaemonLogin, passwordLogin } from '../discovery/daemon-login.ts'
import { isSwitchboardError, sbError } from '../errors.ts'
import type { EndpointOptions } from '../link/options.ts'
import { decodeKey } from '../session/key-files.ts'
import { parseAddress } from '../transport/address.ts'
import type { TlsOptions } from '../transport/types.ts'
import type { OptionSpec, ParsedArgs } from './command.ts'
import type { CliIo } from './io.ts'
import { UsageError } from './usage-error.ts'

export const insecureOption = {
  type: 'boolean',
  description: 'allow plain text where security is required (TCP; unix paths outside an owner-only dir)',
} as const

/** The security options serve and call share (docs/security.md). */
export const securityOptions: Readonly<Record<string, OptionSpec>> = {
  'secret-file': {
    type: 'string',
    valueName: 'FILE',
    description: 'shared secret file (switchboard keygen --secret); both ends use the same one',
  },
  'key-file': {
    type: 'string',
    valueName: 'FILE',
    description: 'our private key file (switchboard keygen); peers are checked against --allow',
  },
  allow: {
    type: 'string',
    valueName: 'FILE',
    description: 'public keys allowed to connect or be connected to, one "switchboard-x25519 KEY" line each',
  },
  'tls-cert': {
    type: 'string',
    valueName: 'FILE',
    description: 'our TLS certificate chain, PEM (tls:// addresses; serve needs one, call for mutual TLS)',
  },
  'tls-key': {
    type: 'string',
    valueName: 'FILE',
    description: 'the private key of --tls-cert, PEM',
  },
  'tls-ca': {
    type: 'string',
    valueName: 'FILE',
    description:
      'CA certificates, PEM: call trusts them for the server; serve requires clients to present one they signed (mutual TLS)',
  },
  insecure: insecureOption,
}

/**
 * listen()/connect() options from a command's parsed security options and the environment.
 * `side` decides what --tls-ca means: the CA a dialer trusts, or (listening) mutual TLS.
 */
export function endpointOptionsFrom(
  io: CliIo,
  options: ParsedArgs['options'],
  side: 'listen' | 'connect' = 'connect',
): EndpointOptions {
  const base = endpointOptions(io, options['insecure'] === true)
  const tls = tlsOptionsFrom(options, side)
  const secretFile = options['secret-file']
  const keyFile = options['key-file']
  const allowFile = options['allow']
  return {
    ...base,
    ...(typeof secretFile === 'string' ? { secretFile } : {}),
    ...(typeof keyFile === 'string' ? { keyFile } : {}),
    ...(typeof allowFile === 'string' ? { allow: readAllowFile(allowFile) } : {}),
    ...(tls === undefined ? {} : { tls }),
  }
}

/** The `tls` option from --tls-cert, --tls-key and --tls-ca (undefined when none is given). */
function tlsOptionsFrom(options: ParsedArgs['options'], side: 'listen' | 'connect'): TlsOptions | undefined {
  const [cert, key, ca] = (['tls-cert', 'tls-key', 'tls-ca'] as const).map((name) => {
    const path = options[name]
    return typeof path === 'string' ? readPem(path, `--${name}`) : undefined
  })
  if (cert === undefined && key === undefined && ca === undefined) return undefined
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together', side === 'listen' ? 'serve' : 'call')
  }
  return {
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(ca === undefined ? {} : { ca }),
    ...(side === 'listen' && ca !== undefined ? { requestCert: true } : {}),
  }
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw sbError('KEY_FILE_INVALID', `cannot read ${flag} file ${path}`, { cause: err })
  }
}

/** An allow file: one public key line (or bare base64url key) per line; '#' starts a comment. */
export function readAllowFile(path: string): Uint8Array[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw sbError('KEY_FILE_INVALID', `cannot read allow file ${path}`, { cause: err })
  }
  const keys: Uint8Array[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    keys.push(decodeKey(line, `line ${i + 1} of allow file ${path}`))
  })
  return keys
}

export const addressDescription =
  'a name (socket in the runtime dir), unix:PATH, pipe:NAME, tcp://HOST:PORT or tls://HOST:PORT'

export function endpointOptions(io: CliIo, insecure: boolean): EndpointOptions {
  const runtimeDir = io.env?.['SWITCHBOARD_RUNTIME_DIR']
  return {
    insecure,
    ...(runtimeDir !== undefined && runtimeDir !== '' ? { runtimeDir } : {}),
  }
}

/**
 * An ADDRESS that does not parse (or names a scheme of a later version) is a wrong command line:
 * exit 2 before any I/O, with the parser's own explanation.
 */
export function checkAddress(address: string, command: string): void {
  try {
    parseAddress(address)
  } catch (err) {
    if (isSwitchboardError(err, 'ADDRESS_INVALID') || isSwitchboardError(err, 'SCHEME_UNSUPPORTED')) {
      throw new UsageError(err.message, command)
    }
    throw err
  }
}

/** --directory and --daemon-key: names come from a daemon instead of the local directory. */
export const directoryOptions: Readonly<Record<string, OptionSpec>> = {
  directory: {
    type: 'string',
    valueName: 'ADDRESS',
    description:
      'find peers through the daemon at ADDRESS (unix:/run/switchboard/daemon.sock, tcp://host[:4455])',
  },
  'daemon-key': {
    type: 'string',
    valueName: 'FILE',
    description: "the daemon's public key file, pinned (default: daemon.pub beside its socket)",
  },
  user: {
    type: 'string',
    valueName: 'USER',
    description:
      'log in to the daemon as this account; the password from SWITCHBOARD_PASSWORD or --password-file',
  },
  'password-file': {
    type: 'string',
    valueName: 'FILE',
    description: "the account's password, the file's first line (never a plain argument: others see argv)",
  },
}

/**
 * The resolve()/join() options of --directory, --daemon-key and --user. The password comes from
 * the environment (SWITCHBOARD_PASSWORD) or a file, never from argv, which every local user can
 * read in /proc.
 */
export function directoryOptionsFrom(
  options: ParsedArgs['options'],
  env: CliIo['env'] = {},
): {
  directory?: string
  daemonKey?: string
  daemonLogin?: DaemonLogin
} {
  const directory = options['directory']
  const keyFile = options['daemon-key']
  let daemonKey: string | undefined
  if (typeof keyFile === 'string') {
    try {
      daemonKey = readFileSync(keyFile, 'utf8').trim()
    } catch (err) {
      throw sbError('KEY_FILE_INVALID', `cannot read --daemon-key file ${keyFile}`, { cause: err })
    }
  }
  const user = options['user']
  const passwordFile = options['password-file']
  if (typeof passwordFile === 'string' && typeof user !== 'string')
    throw new UsageError('--password-file needs --user')
  let daemonLogin: DaemonLogin | undefined
  if (typeof user === 'string') {
    let password = env?.['SWITCHBOARD_PASSWORD']
    if (typeof passwordFile === 'string') {
      try {
        password = readFileSync(passwordFile, 'utf8').split(/\r?\n/)[0]
      } catch (err) {
        throw sbError('INVALID_ARGUMENT', `cannot read --password-file ${passwordFile}`, { cause: err })
      }
    }
    if (password === undefined || password.length === 0)
      throw new UsageError('--user needs a password in SWITCHBOARD_PASSWORD or --password-file')
    daemonLogin = passwordLogin(user, password)
  }
  return {
    ...(typeof directory === 'string' ? { directory } : {}),
    ...(daemonKey === undefined ? {} : { daemonKey }),
    ...(daemonLogin === undefined ? {} : { daemonLogin }),
  }
}

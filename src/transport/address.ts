/**
 * Address syntax, parsed only: no I/O, no runtime directory, no DNS. `endpoint.ts` turns a parsed
 * address into something to connect to.
 *
 *   my-app, unix:NAME        a socket NAME.sock in the runtime directory (kind 'local')
 *   unix:/abs/path           a unix socket at that path (also unix:///abs/path)
 *   pipe:NAME                a named pipe \\.\pipe\NAME on Windows, a runtime-directory socket elsewhere
 *   tcp://host:port          TCP, any family; tcp4:// and tcp6:// pin the family; IPv6 in brackets
 *   tls://host:port          TCP with TLS (node:tls): certificates in the `tls` option
 *   sb:NAME                  the name of a joined peer, for peer/ to resolve
 *
 * A bare word is always a socket name, never a peer name. Names are letters, digits, '.', '_' and
 * '-' (1 to 255 characters, not '.' or '..'). Failures are ADDRESS_INVALID, or SCHEME_UNSUPPORTED
 * for schemes of later versions (udp, socks5, shm, worker) and unknown ones.
 */
import { isIP } from 'node:net'
import { posix } from 'node:path'
import { type SwitchboardError, sbError } from '../errors.ts'

/** A unix socket at an explicit absolute path. */
export interface UnixPathAddress {
  readonly kind: 'unix'
  readonly path: string
}
/** A socket named NAME.sock in the runtime directory (bare word or unix:NAME). */
export interface LocalNameAddress {
  readonly kind: 'local'
  readonly name: string
}
/** A named pipe on Windows; a runtime-directory socket elsewhere. */
export interface PipeAddress {
  readonly kind: 'pipe'
  readonly name: string
}
/** TCP. `family` 0 means either (tcp://), 4 or 6 pin it (tcp4://, tcp6://). Host without brackets. */
export interface TcpAddress {
  readonly kind: 'tcp'
  readonly family: 0 | 4 | 6
  readonly host: string
  readonly port: number
}
/** TLS over TCP (transport/tls: dial and listen). */
export interface TlsAddress {
  readonly kind: 'tls'
  readonly host: string
  readonly port: number
}
/** sb:NAME, the name of a joined peer. */
export interface PeerNameAddress {
  readonly kind: 'peer'
  readonly name: string
}

export type ParsedAddress =
  | UnixPathAddress
  | LocalNameAddress
  | PipeAddress
  | TcpAddress
  | TlsAddress
  | PeerNameAddress

/** Longest socket, pipe or peer name. */
export const MAX_NAME_LENGTH = 255
/** Longest address string accepted at all. */
export const MAX_ADDRESS_LENGTH = 4096

const NAME = /^[A-Za-z0-9._-]+$/
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/
const HOSTNAME =
  /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/
const PORT = /^[0-9]{1,5}$/
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const CONTROL = /[\u0000-\u001f\u007f]/
/** Schemes that a later version will support. */
const LATER_SCHEMES: ReadonlySet<string> = new Set([
  'udp',
  'udp4',
  'udp6',
  'socks5',
  'socks5h',
  'shm',
  'worker',
])

/** True when `name` is a valid socket, pipe or peer name. */
export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && name !== '.' && name !== '..' && NAME.test(name)
}

/** Parses an address string. Throws ADDRESS_INVALID or SCHEME_UNSUPPORTED (a SwitchboardError). */
export function parseAddress(input: string): ParsedAddress {
  if (typeof input !== 'string' || input.length === 0) throw invalid(String(input), 'it is empty')
  if (input.length > MAX_ADDRESS_LENGTH) {
    throw invalid(input.slice(0, 64) + '…', `it is longer than ${MAX_ADDRESS_LENGTH} characters`)
  }
  if (CONTROL.test(input)) throw invalid(input, 'it contains control characters')
  const match = SCHEME.exec(input)
  if (match === null) return parseBare(input)
  const scheme = match[1]!.toLowerCase()
  const rest = input.slice(match[0].length)
  switch (scheme) {
    case 'unix':
      return parseUnix(input, rest)
    case 'pipe':
      if (!isValidName(rest)) throw invalid(input, 'a pipe name is letters, digits, ".", "_" and "-"')
      return { kind: 'pipe', name: rest }
    case 'sb':
      if (!isValidName(rest)) throw invalid(input, 'a peer name is letters, digits, ".", "_" and "-"')
      return { kind: 'peer', name: rest }
    case 'tcp':
    case 'tcp4':
    case 'tcp6': {
      const family = scheme === 'tcp' ? 0 : scheme === 'tcp4' ? 4 : 6
      const { host, port } = parseHostPort(input, rest, family)
      return { kind: 'tcp', family, host, port }
    }
    case 'tls': {
      const { host, port } = parseHostPort(input, rest, 0)
      return { kind: 'tls', host, port }
    }
    default:
      if (LATER_SCHEMES.has(scheme)) {
        throw sbError(
          'SCHEME_UNSUPPORTED',
          `address "${input}": ${scheme}: addresses arrive in a later version`,
        )
      }
      throw sbError('SCHEME_UNSUPPORTED', `address "${input}": unknown scheme "${scheme}:"${hint(input)}`)
  }
}

/** The canonical string for a parsed address; parseAddress(formatAddress(a)) equals a. */
export function formatAddress(address: ParsedAddress): string {
  switch (address.kind) {
    case 'unix':
      return `unix:${address.path}`
    case 'local':
      return `unix:${address.name}`
    case 'pipe':
      return `pipe:${address.name}`
    case 'peer':
      return `sb:${address.name}`
    case 'tcp': {
      const scheme = address.family === 0 ? 'tcp' : `tcp${address.family}`
      return `${scheme}://${formatHost(address.host)}:${address.port}`
    }
    case 'tls':
      return `tls://${formatHost(address.host)}:${address.port}`
  }
}

/** Host for a URL authority: IPv6 literals in brackets. */
export function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

function parseBare(input: string): LocalNameAddress {
  if (isValidName(input)) return { kind: 'local', name: input }
  if (input.startsWith('/')) throw invalid(input, `a socket path needs the unix: scheme (unix:${input})`)
  throw invalid(input, `a bare address is a socket name: letters, digits, ".", "_" and "-"${hint(input)}`)
}

function parseUnix(input: string, rest: string): UnixPathAddress | LocalNameAddress {
  let body = rest
  if (body.startsWith('//')) {
    body = body.slice(2)
    if (!body.startsWith('/')) throw invalid(input, 'unix:// must be followed by an absolute path')
  }
  if (body.length === 0) throw invalid(input, 'no path or name after unix:')
  if (body.startsWith('/')) {
    if (body.endsWith('/')) throw invalid(input, 'a socket path cannot end with "/"')
    const path = posix.normalize(body)
    // Checked again once normalized: "/a/.." and "/." name the root directory, not a socket.
    if (path.endsWith('/')) throw invalid(input, 'a socket path cannot name a directory ("/")')
    return { kind: 'unix', path }
  }
  if (isValidName(body)) return { kind: 'local', name: body }
  if (body.includes('/') || body.startsWith('.')) {
    throw invalid(
      input,
      'a unix socket path must be absolute (a relative path means different files per cwd)',
    )
  }
  throw invalid(input, 'a socket name is letters, digits, ".", "_" and "-"')
}

function parseHostPort(input: string, rest: string, family: 0 | 4 | 6): { host: string; port: number } {
  if (!rest.startsWith('//')) throw invalid(input, 'expected "//host:port" after the scheme')
  const authority = rest.slice(2)
  if (/[/?#@\s]/.test(authority)) throw invalid(input, 'only host:port may follow the scheme')
  let host: string
  let portText: string
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']')
    if (close < 0) throw invalid(input, 'missing "]" after the IPv6 address')
    host = authority.slice(1, close)
    if (isIP(host) !== 6) throw invalid(input, `"${host}" in brackets is not an IPv6 address`)
    if (authority[close + 1] !== ':') throw invalid(input, 'a port is required (host:port)')
    portText = authority.slice(close + 2)
  } else {
    const colon = authority.lastIndexOf(':')
    if (colon < 0) throw invalid(input, 'a port is required (host:port)')
    host = authority.slice(0, colon)
    portText = authority.slice(colon + 1)
    if (host.includes(':')) throw invalid(input, 'an IPv6 address goes in brackets: [::1]:port')
    if (host.length === 0) throw invalid(input, 'the host is empty (use 0.0.0.0 or [::] for every interface)')
    const ip = isIP(host)
    if (ip === 0 && (/^[0-9.]+$/.test(host) || !HOSTNAME.test(host))) {
      throw invalid(input, `"${host}" is not a valid host name or IPv4 address`)
    }
  }
  if (!PORT.test(portText)) throw invalid(input, `port "${portText}" is not a number from 0 to 65535`)
  const port = Number(portText)
  if (port > 65535) throw invalid(input, `port ${port} is out of range (0 to 65535)`)
  const ip = isIP(host)
  if (family === 4 && ip === 6) throw invalid(input, 'tcp4:// cannot take an IPv6 address')
  if (family === 6 && ip === 4) throw invalid(input, 'tcp6:// cannot take an IPv4 address')
  return { host, port }
}

function hint(input: string): string {
  return /^[^:/]+:[0-9]+$/.test(input) ? ` (did you mean tcp://${input}?)` : ''
}

function invalid(input: string, why: string): SwitchboardError {
  return sbError('ADDRESS_INVALID', `address "${input}" is invalid: ${why}`)
}

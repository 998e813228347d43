/**
 * Daemon addresses as `join({ directory })` and `--directory` take them: `unix:/abs/daemon.sock`
 * or `tcp://host[:port]` (port 4455 when none is given), and the daemon's public key, read from
 * `daemon.pub` beside a unix socket unless the caller pinned one.
 */
import { readFileSync } from 'node:fs'
import { dirname, join as joinPath } from 'node:path'
import { sbError } from '../errors.ts'
import { DEFAULT_DAEMON_PORT } from './daemon-names.ts'

/** True when `directory` names a daemon rather than the local directory. */
export function isDaemonAddress(directory: string | undefined): directory is string {
  return typeof directory === 'string' && /^(unix:|tcp[46]?:\/\/)/.test(directory)
}

/** The address to dial: a tcp:// address without a port gets 4455. */
export function daemonDialAddress(directory: string): string {
  if (directory.startsWith('unix:')) return directory
  const m = /^(tcp[46]?:\/\/)(.*)$/.exec(directory)
  if (m === null) throw sbError('ADDRESS_INVALID', `not a daemon address: ${directory}`)
  const rest = m[2]!
  const hasPort = rest.startsWith('[') ? /\]:\d+$/.test(rest) : /:\d+$/.test(rest)
  return hasPort ? directory : `${directory}:${DEFAULT_DAEMON_PORT}`
}

/** The directory of a unix daemon socket, or undefined for TCP. */
export function daemonSocketDir(directory: string): string | undefined {
  return directory.startsWith('unix:') ? dirname(directory.slice('unix:'.length)) : undefined
}

/**
 * The daemon's public key line: `pinned` when given, else `daemon.pub` beside a unix socket.
 * KEY_FILE_INVALID when there is neither (a TCP daemon's key must be pinned).
 */
export function daemonPublicKey(directory: string, pinned?: Uint8Array | string): Uint8Array | string {
  if (pinned !== undefined) return pinned
  const dir = daemonSocketDir(directory)
  if (dir === undefined)
    throw sbError('INVALID_ARGUMENT', `a TCP daemon's public key must be pinned (daemonKey) for ${directory}`)
  const file = joinPath(dir, 'daemon.pub')
  try {
    return readFileSync(file, 'utf8').trim()
  } catch (err) {
    throw sbError('KEY_FILE_INVALID', `cannot read the daemon's public key ${file}`, { cause: err })
  }
}

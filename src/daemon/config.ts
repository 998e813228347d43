/**
 * The daemon's config file (JSON; docs/daemon.md §Config) and the settings it holds. Every
 * setting is also a command-line flag; a flag wins over the file.
 *
 *   { "socket": "/run/switchboard/daemon.sock", "tcp": "0.0.0.0:4455",
 *     "keyFile": "/var/lib/switchboard/daemon.key", "log": "/var/log/switchboard/daemon.log",
 *     "limits": { "maxEntriesPerConnection": 64 },
 *     "auth": { "users": { … }, "policy": { … }, "usersDir": "/run/switchboard/users" } }
 */
import { readFileSync } from 'node:fs'
import { sbError } from '../errors.ts'
import { type DaemonAuthConfig, parseAuthSection } from './auth/create.ts'
import { type DaemonLimits, defaultDaemonLimits } from './limits.ts'

export interface DaemonConfig {
  /** The unix socket's path, or false for none (TCP only). */
  socket?: string | false
  /** `HOST:PORT`, `HOST` (port 4455) or `tcp://HOST:PORT`. */
  tcp?: string
  keyFile?: string
  publicKeyFile?: string
  /** Append events here as JSON lines. */
  log?: string
  limits?: Partial<DaemonLimits>
  /** How often expired leases are swept, ms. */
  sweepMs?: number
  /** Connections served at once per listener (each peer holds one); default 1,024. */
  maxConnections?: number
  /** Accounts, policy and the cookie directories (docs/daemon.md §Auth): the real auth is made from it. */
  auth?: DaemonAuthConfig
}

const STRING_KEYS = ['tcp', 'keyFile', 'publicKeyFile', 'log'] as const

/** Checks a parsed config object; INVALID_ARGUMENT naming the first bad setting. */
export function checkDaemonConfig(value: unknown, where: string): DaemonConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw sbError('INVALID_ARGUMENT', `${where}: the config must be a JSON object`)
  const v = value as Record<string, unknown>
  const known = new Set<string>(['socket', 'limits', 'sweepMs', 'maxConnections', 'auth', ...STRING_KEYS])
  for (const key of Object.keys(v)) {
    if (!known.has(key)) throw sbError('INVALID_ARGUMENT', `${where}: unknown setting '${key}'`)
  }
  const out: DaemonConfig = {}
  if (v['socket'] !== undefined) {
    if (v['socket'] !== false && typeof v['socket'] !== 'string')
      throw sbError('INVALID_ARGUMENT', `${where}: socket must be a path or false`)
    out.socket = v['socket'] as string | false
  }
  for (const key of STRING_KEYS) {
    const s = v[key]
    if (s === undefined) continue
    if (typeof s !== 'string' || s.length === 0)
      throw sbError('INVALID_ARGUMENT', `${where}: ${key} must be a non-empty string`)
    out[key] = s
  }
  for (const key of ['sweepMs', 'maxConnections'] as const) {
    const n = v[key]
    if (n === undefined) continue
    if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0)
      throw sbError('INVALID_ARGUMENT', `${where}: ${key} must be a positive integer`)
    out[key] = n
  }
  if (v['limits'] !== undefined) {
    const l = v['limits']
    if (typeof l !== 'object' || l === null || Array.isArray(l))
      throw sbError('INVALID_ARGUMENT', `${where}: limits must be an object`)
    const limits: Partial<DaemonLimits> = {}
    for (const [key, n] of Object.entries(l)) {
      if (!(key in defaultDaemonLimits)) throw sbError('INVALID_ARGUMENT', `${where}: unknown limit '${key}'`)
      if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0)
        throw sbError('INVALID_ARGUMENT', `${where}: limits.${key} must be a positive integer`)
      limits[key as keyof DaemonLimits] = n
    }
    out.limits = limits
  }
  if (v['auth'] !== undefined) out.auth = parseAuthSection(v['auth'], `${where}: auth`)
  return out
}

/** Reads and checks the config file at `path`. */
export function readDaemonConfig(path: string): DaemonConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw sbError('INVALID_ARGUMENT', `cannot read the daemon config ${path}`, { cause: err })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw sbError('INVALID_ARGUMENT', `the daemon config ${path} is not JSON`, { cause: err })
  }
  return checkDaemonConfig(value, path)
}

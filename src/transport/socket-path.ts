/**
 * Where a socket file goes (pure: no I/O). A name maps to `<runtimeDir>/<name>.sock`. A path longer
 * than sun_path allows (107 bytes on Linux, 103 on macOS and the BSDs) is never truncated: it maps
 * to `h-<hash>.sock`, the hash being the first 128 bits of SHA-256 of the long path in lower-case
 * base32, placed in the runtime directory, or in os.tmpdir()/switchboard-<uid> when even the
 * runtime directory is too long. An explicit long `unix:/abs/path` maps the same way, so the
 * listener and the dialer arrive at the same short path from the same address string and runtime
 * directory. The socket then lives in an owner-only directory, not at the path written: only the
 * same user (same runtime directory) can reach it.
 *
 * On Windows every local name is a named pipe, `\\.\pipe\<name>`.
 */
import { createHash } from 'node:crypto'
import { posix } from 'node:path'
import { sbError } from '../errors.ts'

/** Largest sun_path in bytes, without the terminating NUL, for a platform. */
export function sunPathMax(platform: NodeJS.Platform = process.platform): number {
  return platform === 'darwin' || platform === 'freebsd' || platform === 'openbsd' ? 103 : 107
}

/** `<runtimeDir>/<name>.sock`, before any shortening. */
export function namedSocketPath(runtimeDir: string, name: string): string {
  return posix.join(runtimeDir, `${name}.sock`)
}

/** The Windows named pipe for a name. */
export function windowsPipePath(name: string): string {
  return `\\\\.\\pipe\\${name}`
}

export interface ShortenContext {
  /** The runtime directory (first choice for hashed paths). */
  readonly runtimeDir: string
  /** The fallback directory, os.tmpdir()/switchboard-<uid>. */
  readonly shortDir: string
  /** sun_path limit in bytes (sunPathMax()). */
  readonly maxBytes: number
}

export interface SocketPath {
  readonly path: string
  /** Which directory must exist (and be owner-only) for this path; undefined when used as given. */
  readonly dir: 'runtime' | 'short' | undefined
}

/** Maps `longPath` to a path that fits sun_path; deterministic. Throws ADDRESS_INVALID if nothing fits. */
export function fitSocketPath(longPath: string, ctx: ShortenContext): SocketPath {
  if (Buffer.byteLength(longPath) <= ctx.maxBytes) return { path: longPath, dir: undefined }
  const file = `h-${pathHash(longPath)}.sock`
  const inRuntime = posix.join(ctx.runtimeDir, file)
  if (Buffer.byteLength(inRuntime) <= ctx.maxBytes) return { path: inRuntime, dir: 'runtime' }
  const inShort = posix.join(ctx.shortDir, file)
  if (Buffer.byteLength(inShort) <= ctx.maxBytes) return { path: inShort, dir: 'short' }
  throw sbError(
    'ADDRESS_INVALID',
    `socket path ${longPath} exceeds ${ctx.maxBytes} bytes and even ${inShort} is too long; set a shorter runtimeDir or TMPDIR`,
  )
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

/** First 128 bits of SHA-256 of `text`, lower-case RFC 4648 base32 without padding (26 chars). */
export function pathHash(text: string): string {
  const digest = createHash('sha256').update(text).digest().subarray(0, 16)
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of digest) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31]
  return out
}

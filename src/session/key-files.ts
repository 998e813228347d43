/**
 * Key and secret files (docs/security.md §Key files), and the logic of the `keygen` and `pubkey`
 * commands as plain functions the CLI calls.
 *
 *   private key file (0600):   # comment lines
 *                              switchboard-x25519-private <base64url of the 32-byte private key>
 *   public key file (FILE.pub): switchboard-x25519 <base64url of the 32-byte public key> [comment]
 *   secret file (0600):        <base64url of 32 random bytes>
 *
 * Like ssh, a private key or secret file that group or others may read or write is refused
 * (KEY_FILE_INSECURE), before its content is read. Errors never quote a file's content.
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, closeSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { sbError } from '../errors.ts'
import type { KeyPair } from '../handshake/crypto.ts'
import { nodeCryptoProvider } from './node-crypto.ts'

/** First word of a public key line. */
export const PUBLIC_KEY_TAG = 'switchboard-x25519'
/** First word of a private key line. */
export const PRIVATE_KEY_TAG = 'switchboard-x25519-private'
/** Bytes of a key or secret. */
const KEY_BYTES = 32
/** Largest key or secret file read, bytes. */
const MAX_FILE_BYTES = 16 * 1024
const BASE64URL = /^[A-Za-z0-9_-]{43}$/

/** The base64url text of a raw 32-byte key. */
export function encodeKey(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64url')
}

/** The public key line (`switchboard-x25519 <key>`), as in a .pub file and for allow lists. */
export function formatPublicKey(publicKey: Uint8Array, comment?: string): string {
  return `${PUBLIC_KEY_TAG} ${encodeKey(publicKey)}${comment ? ` ${comment}` : ''}`
}

/**
 * A 32-byte key from its base64url text, or from a public key line. Throws INVALID_ARGUMENT
 * naming `what` (never the text itself).
 */
export function decodeKey(text: string, what: string): Uint8Array {
  const words = text.trim().split(/\s+/)
  const body = words[0] === PUBLIC_KEY_TAG ? words[1] : words.length === 1 ? words[0] : undefined
  if (body === undefined || !BASE64URL.test(body)) {
    throw sbError(
      'INVALID_ARGUMENT',
      `${what} is not a base64url 32-byte key (or a "${PUBLIC_KEY_TAG} KEY" line)`,
    )
  }
  return new Uint8Array(Buffer.from(body, 'base64url'))
}

/** Reads a file that must be private to its owner (mode & 077 == 0). */
function readPrivateFile(path: string, what: string): string {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (err) {
    throw sbError('KEY_FILE_INVALID', `cannot open ${what} ${path}`, { cause: err })
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw sbError('KEY_FILE_INVALID', `${what} ${path} is not a regular file`)
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw sbError(
        'KEY_FILE_INSECURE',
        `${what} ${path} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: group or others may access it; run chmod 600 ${path}`,
      )
    }
    if (st.size > MAX_FILE_BYTES) throw sbError('KEY_FILE_INVALID', `${what} ${path} is too large`)
    return readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
}

/** The lines of a key file that carry data (not blank, not # comments). */
function dataLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
}

/** Reads a secret file: one base64url line of 32 bytes, in a file only its owner may read. */
export function readSecretFile(path: string): Uint8Array {
  const lines = dataLines(readPrivateFile(path, 'secret file'))
  if (lines.length !== 1 || !BASE64URL.test(lines[0]!)) {
    throw sbError('KEY_FILE_INVALID', `secret file ${path} must hold one base64url line of 32 bytes`)
  }
  return new Uint8Array(Buffer.from(lines[0]!, 'base64url'))
}

/** Reads a private key file and derives its public key. */
export function readKeyPairFile(path: string): KeyPair {
  const lines = dataLines(readPrivateFile(path, 'private key file'))
  const words = lines.length === 1 ? lines[0]!.split(/\s+/) : []
  if (words.length !== 2 || words[0] !== PRIVATE_KEY_TAG || !BASE64URL.test(words[1]!)) {
    throw sbError('KEY_FILE_INVALID', `private key file ${path} must hold one "${PRIVATE_KEY_TAG} KEY" line`)
  }
  const privateKey = new Uint8Array(Buffer.from(words[1]!, 'base64url'))
  return { privateKey, publicKey: new Uint8Array(nodeCryptoProvider.publicKeyFromPrivate(privateKey)) }
}

/** The public key of a public key file, or of a private key file (any mode is fine for .pub). */
export function readPublicKey(path: string): Uint8Array {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw sbError('KEY_FILE_INVALID', `cannot read ${path}`, { cause: err })
  }
  const first = dataLines(text)[0]?.split(/\s+/) ?? []
  if (first[0] === PRIVATE_KEY_TAG) return readKeyPairFile(path).publicKey
  if (first[0] !== PUBLIC_KEY_TAG || first[1] === undefined || !BASE64URL.test(first[1])) {
    throw sbError('KEY_FILE_INVALID', `${path} is not a switchboard key file`)
  }
  return new Uint8Array(Buffer.from(first[1], 'base64url'))
}

function writeNew(path: string, text: string, mode: number, overwrite: boolean): void {
  try {
    writeFileSync(path, text, { mode, flag: overwrite ? 'w' : 'wx' })
    chmodSync(path, mode) // an existing file keeps its old mode on 'w'; umask may not add bits
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'EEXIST' ? 'it already exists (remove it, or use --force)' : `${code ?? 'error'}`
    throw sbError('KEY_FILE_INVALID', `cannot write ${path}: ${why}`, { cause: err })
  }
}

export interface KeygenResult {
  /** Where the private key (or secret) went, when a file was written. */
  file?: string
  /** Where the public key went. */
  publicFile?: string
  /** What the command prints: the public key line, or the secret when no file was asked for. */
  output: string
}

export interface KeygenOptions {
  /** Write here (a private key also writes FILE.pub). Without it a secret is printed. */
  out?: string
  /** Replace existing files. Default false (refused with KEY_FILE_INVALID). */
  force?: boolean
}

/** A new shared secret for `secret` / `secretFile`: 32 random bytes. */
export function generateSecret(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_BYTES))
}

/** Writes `secret` as a secret file (one base64url line, mode 0600); KEY_FILE_INVALID if it exists unless `force`. */
export function writeSecretFile(path: string, secret: Uint8Array, options: { force?: boolean } = {}): void {
  if (secret.length !== KEY_BYTES) throw sbError('INVALID_ARGUMENT', `a secret is ${KEY_BYTES} bytes`)
  writeNew(path, `${encodeKey(secret)}\n`, 0o600, options.force === true)
}

/** A new X25519 key pair for `keys`. */
export function generateKeyPair(): KeyPair {
  const pair = nodeCryptoProvider.generateKeyPair()
  return { publicKey: new Uint8Array(pair.publicKey), privateKey: new Uint8Array(pair.privateKey) }
}

function privateKeyText(pair: KeyPair): string {
  return `# switchboard X25519 private key: keep this file private (mode 0600)\n${PRIVATE_KEY_TAG} ${encodeKey(pair.privateKey)}\n`
}

/**
 * Writes `pair` as PATH (the private key, 0600) and PATH.pub (the public key line, 0644);
 * KEY_FILE_INVALID if either exists unless `force`. Returns the public file's path.
 */
export function writeKeyPairFile(
  path: string,
  pair: KeyPair,
  options: { force?: boolean; comment?: string | undefined } = {},
): string {
  const publicFile = `${path}.pub`
  const overwrite = options.force === true
  writeNew(path, privateKeyText(pair), 0o600, overwrite)
  writeNew(publicFile, `${formatPublicKey(pair.publicKey, options.comment)}\n`, 0o644, overwrite)
  return publicFile
}

/** `switchboard keygen --secret [--out FILE]`: 32 random bytes, base64url; the file is 0600. */
export function keygenSecret(options: KeygenOptions = {}): KeygenResult {
  const secret = generateSecret()
  if (options.out === undefined) return { output: `${encodeKey(secret)}\n` }
  writeSecretFile(options.out, secret, options)
  return { file: options.out, output: `wrote secret to ${options.out} (mode 0600)\n` }
}

/**
 * `switchboard keygen [--out FILE]`: a key pair. With `out`, FILE (0600) and FILE.pub (0644),
 * and the public key line is printed; without, both files' contents are printed.
 */
export function keygenKeyPair(options: KeygenOptions & { comment?: string } = {}): KeygenResult {
  const pair = generateKeyPair()
  const line = formatPublicKey(pair.publicKey, options.comment)
  if (options.out === undefined) return { output: `${privateKeyText(pair)}${line}\n` }
  const publicFile = writeKeyPairFile(options.out, pair, options)
  return { file: options.out, publicFile, output: `${line}\n` }
}

/** `switchboard pubkey FILE`: the public key line of a private or public key file. */
export function pubkeyCommand(path: string): string {
  return `${formatPublicKey(readPublicKey(path))}\n`
}

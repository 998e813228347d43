/**
 * The security options of a session, resolved once per options object: the shared secret (given,
 * read from a 0600 file, or stretched from a passphrase with scrypt), the static key pair (given
 * or read from a key file) and the allow decision. Nothing here logs, prints or puts a secret in
 * an error message.
 */
import { scryptSync, timingSafeEqual } from 'node:crypto'
import { sbError } from '../errors.ts'
import type { KeyPair } from '../handshake/crypto.ts'
import type { SecureHandshakeConfig } from '../handshake/secure-handshake.ts'
import { offeredSecurity } from '../handshake/security-modes.ts'
import { decodeKey, readKeyPairFile, readSecretFile } from './key-files.ts'
import { nodeCryptoProvider } from './node-crypto.ts'

/** Bytes of a shared secret. */
export const SECRET_BYTES = 32

/**
 * scrypt parameters that stretch a passphrase into the secret. The salt is fixed (both ends must
 * derive the same secret with no round trip), so a captured handshake lets an attacker test
 * guesses offline: each guess costs one scrypt (about 50–100 ms, 32 MiB), no more.
 */
export const PASSPHRASE_SCRYPT = Object.freeze({
  salt: 'switchboard/1 passphrase',
  N: 2 ** 15,
  r: 8,
  p: 1,
  maxmem: 64 * 1024 * 1024,
})

/** A static X25519 key pair: raw 32-byte keys, or base64url strings of them. */
export interface KeysOption {
  privateKey: Uint8Array | string
  /** Derived from privateKey when omitted. */
  publicKey?: Uint8Array | string
}

export interface SecurityOptions {
  /** Shared secret (32 bytes, or their base64url form): Noise NNpsk0, or XXpsk3 with `keys`. */
  secret?: Uint8Array | string
  /** A file holding the secret in base64url (`switchboard keygen --secret`); refused unless 0600-like. */
  secretFile?: string
  /**
   * A passphrase stretched with scrypt into the secret. Weaker than a random secret: anyone who
   * records one handshake can test guesses offline.
   */
  passphrase?: string
  /** Our static key pair: Noise XX (each side checks the other's key with `allow`). */
  keys?: KeysOption
  /** A private key file written by `switchboard keygen` (instead of `keys`). */
  keyFile?: string
  /**
   * connect() only: the listener's public key (raw, base64url or a .pub line), known in advance
   * (a directory, a copied .pub file). Pins it: any other listener key is PEER_NOT_ALLOWED. With
   * `keys` and no secret the handshake is Noise IK (one round trip; our key travels encrypted to
   * this one); without `keys` (and without a secret) it is Noise NK: we stay anonymous and only
   * the listener proves who it is, which only a listener with `acceptAnonymousDialers` accepts.
   * `allow` is not consulted for the listener then.
   */
  serverKey?: Uint8Array | string
  /**
   * listen() only, with `keys` and no secret: also serve dialers that have no key of their own
   * and pinned ours (Noise NK). They prove nothing about themselves, so a server that turns this
   * on authenticates them some other way (the daemon: a cookie or a password over the session).
   * Default false: a keyed server refuses keyless dialers (NEGOTIATION_FAILED).
   */
  acceptAnonymousDialers?: boolean
  /**
   * Which peer public keys may connect in keys mode: a list (raw 32 bytes or base64url), or a
   * function. Default: nobody (refuse by default).
   */
  allow?: ReadonlyArray<Uint8Array | string> | ((peerKey: Uint8Array) => boolean)
}

export interface ResolvedSecurity {
  /** The SECURITY list this side offers in its hello, by role. */
  offer: Record<'dialer' | 'listener', string[]>
  /** What the handshake needs. */
  config: SecureHandshakeConfig
  /** Our static public key, when keys are set. */
  publicKey: Uint8Array | undefined
}

const cache = new WeakMap<object, ResolvedSecurity>()

/** Resolves (and caches per options object) the security configuration. Throws coded errors. */
export function resolveSecurity(o: SecurityOptions): ResolvedSecurity {
  const hit = cache.get(o)
  if (hit !== undefined) return hit
  const psk = resolveSecret(o)
  const keys = resolveKeys(o)
  const serverKey = o.serverKey === undefined ? undefined : asKey(o.serverKey, 'serverKey')
  if (serverKey !== undefined && keys === undefined && psk !== undefined) {
    throw sbError('INVALID_ARGUMENT', 'serverKey with a secret needs keys or keyFile (our own key pair)')
  }
  const acceptAnonymousDialers = resolveAnonymous(o, keys !== undefined, psk !== undefined)
  const shape = {
    hasSecret: psk !== undefined,
    hasKeys: keys !== undefined,
    knowsListenerKey: serverKey !== undefined,
    acceptAnonymousDialers,
  }
  const resolved: ResolvedSecurity = {
    offer: {
      dialer: offeredSecurity(shape, 'dialer'),
      listener: offeredSecurity({ ...shape, knowsListenerKey: false }, 'listener'),
    },
    config: { psk, staticKeyPair: keys, allow: resolveAllow(o.allow), listenerKey: serverKey },
    publicKey: keys?.publicKey,
  }
  cache.set(o, resolved)
  return resolved
}

/** acceptAnonymousDialers needs a key of ours to prove (NK), and means nothing beside a secret. */
function resolveAnonymous(o: SecurityOptions, hasKeys: boolean, hasSecret: boolean): boolean {
  const v = o.acceptAnonymousDialers
  if (v === undefined || v === false) return false
  if (v !== true) throw sbError('INVALID_ARGUMENT', 'acceptAnonymousDialers must be a boolean')
  if (!hasKeys) throw sbError('INVALID_ARGUMENT', 'acceptAnonymousDialers needs keys or keyFile')
  if (hasSecret) {
    throw sbError(
      'INVALID_ARGUMENT',
      'acceptAnonymousDialers cannot go with a secret (every dialer must prove it)',
    )
  }
  return true
}

function resolveSecret(o: SecurityOptions): Uint8Array | undefined {
  const given = [o.secret, o.secretFile, o.passphrase].filter((v) => v !== undefined).length
  if (given > 1) throw sbError('INVALID_ARGUMENT', 'give only one of secret, secretFile, passphrase')
  if (o.secret !== undefined) return decodeSecret(o.secret)
  if (o.secretFile !== undefined) return readSecretFile(o.secretFile)
  if (o.passphrase !== undefined) return stretchPassphrase(o.passphrase)
  return undefined
}

function decodeSecret(secret: Uint8Array | string): Uint8Array {
  const bytes = typeof secret === 'string' ? decodeKey(secret, 'secret') : new Uint8Array(secret)
  if (bytes.length !== SECRET_BYTES) {
    throw sbError('INVALID_ARGUMENT', `secret must be ${SECRET_BYTES} bytes (got ${bytes.length})`)
  }
  return bytes
}

/** scrypt(passphrase) → the 32-byte secret (PASSPHRASE_SCRYPT). */
export function stretchPassphrase(passphrase: string): Uint8Array {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw sbError('INVALID_ARGUMENT', 'passphrase must be a non-empty string')
  }
  const { salt, N, r, p, maxmem } = PASSPHRASE_SCRYPT
  return new Uint8Array(scryptSync(passphrase.normalize('NFC'), salt, SECRET_BYTES, { N, r, p, maxmem }))
}

function resolveKeys(o: SecurityOptions): KeyPair | undefined {
  if (o.keys !== undefined && o.keyFile !== undefined)
    throw sbError('INVALID_ARGUMENT', 'give only one of keys, keyFile')
  if (o.keyFile !== undefined) return readKeyPairFile(o.keyFile)
  if (o.keys === undefined) return undefined
  const privateKey = asKey(o.keys.privateKey, 'keys.privateKey')
  const derived = nodeCryptoProvider.publicKeyFromPrivate(privateKey)
  if (o.keys.publicKey !== undefined) {
    const publicKey = asKey(o.keys.publicKey, 'keys.publicKey')
    if (!timingSafeEqual(publicKey, derived))
      throw sbError('INVALID_ARGUMENT', 'keys.publicKey does not belong to keys.privateKey')
  }
  return { privateKey, publicKey: new Uint8Array(derived) }
}

function asKey(key: Uint8Array | string, what: string): Uint8Array {
  const bytes = typeof key === 'string' ? decodeKey(key, what) : new Uint8Array(key)
  if (bytes.length !== 32) throw sbError('INVALID_ARGUMENT', `${what} must be 32 bytes`)
  return bytes
}

function resolveAllow(allow: SecurityOptions['allow']): ((key: Uint8Array) => boolean) | undefined {
  if (allow === undefined) return undefined
  if (typeof allow === 'function') return (key) => allow(new Uint8Array(key)) === true
  const keys = allow.map((k, i) => asKey(k, `allow[${i}]`))
  // Every entry is compared, in constant time, whatever matches first.
  return (key) => {
    let found = false
    for (const k of keys) if (timingSafeEqual(k, key)) found = true
    return found
  }
}

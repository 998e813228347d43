/**
 * The security modes a hello may offer (docs/protocol.md §6), each a Noise pattern over the
 * suite 25519_ChaChaPoly_SHA256, and which ones a side offers for its configuration.
 *
 * A side configured with any security offers only the mode that configuration calls for, never
 * `none`: a hello rewritten in transit to offer less cannot downgrade it, the negotiation then
 * simply finds nothing in common. A mode is one row here.
 */

/** A security mode offered in the hello SECURITY list. */
export interface SecurityMode {
  /** The Noise pattern, modifiers included. */
  readonly pattern: string
  /** Needs the shared secret (the pattern has a psk token). */
  readonly psk: boolean
  /** Needs static key pairs on both sides (and an allow-list decision on each). */
  readonly keys: boolean
  /** The dialer must know the listener's static public key beforehand (IK, NK). */
  readonly knownListenerKey: boolean
  /**
   * Only the listener has a static key (NK): the dialer stays anonymous, so a listener offers
   * this mode only when it opted in (`acceptAnonymousDialers`).
   */
  readonly anonymousDialer: boolean
}

export const SECURITY_MODES = {
  /** Shared secret: both prove it, forward secrecy, one round trip. */
  'noise-nnpsk0': {
    pattern: 'NNpsk0',
    psk: true,
    keys: false,
    knownListenerKey: false,
    anonymousDialer: false,
  },
  /** Static keys on both sides, each checked against the other's allow-list. */
  'noise-xx': { pattern: 'XX', psk: false, keys: true, knownListenerKey: false, anonymousDialer: false },
  /** Static keys and the shared secret together. */
  'noise-xxpsk3': {
    pattern: 'XXpsk3',
    psk: true,
    keys: true,
    knownListenerKey: false,
    anonymousDialer: false,
  },
  /**
   * Static keys, the dialer already knowing the listener's (a directory, a .pub file): one
   * round trip, and the dialer's key travels encrypted to the listener's.
   */
  'noise-ik': { pattern: 'IK', psk: false, keys: true, knownListenerKey: true, anonymousDialer: false },
  /**
   * The listener's static key only, pinned by a dialer that has no key of its own (a client of
   * the daemon): the dialer authenticates the listener, not the other way round; one round trip.
   */
  'noise-nk': { pattern: 'NK', psk: false, keys: false, knownListenerKey: true, anonymousDialer: true },
} as const satisfies Record<string, SecurityMode>

export type SecurityModeName = keyof typeof SECURITY_MODES

/** The plain-text mode: no handshake, identity record cipher. */
export const SECURITY_NONE = 'none'

/** What a side's configuration holds, as far as the SECURITY list cares. */
export interface SecurityConfigShape {
  readonly hasSecret: boolean
  readonly hasKeys: boolean
  /** A dialer that was given the listener's public key (IK with keys, NK without). */
  readonly knowsListenerKey: boolean
  /** A listener that also serves dialers without a key (NK); never on by default. */
  readonly acceptAnonymousDialers: boolean
}

/**
 * The SECURITY list of a side with (or without) a secret and (or) static keys. A dialer that
 * knows the listener's key prefers IK, or runs NK when it has no key; a listener with keys (and
 * no secret) accepts IK as well as XX, and NK only when it opted in; with a secret, keys always
 * mean XXpsk3.
 */
export function offeredSecurity(shape: SecurityConfigShape, role: 'dialer' | 'listener'): string[] {
  const { hasSecret, hasKeys, knowsListenerKey, acceptAnonymousDialers } = shape
  if (hasKeys && hasSecret) return ['noise-xxpsk3']
  if (hasKeys && role === 'dialer') return knowsListenerKey ? ['noise-ik', 'noise-xx'] : ['noise-xx']
  if (hasKeys) return acceptAnonymousDialers ? ['noise-xx', 'noise-ik', 'noise-nk'] : ['noise-xx', 'noise-ik']
  if (hasSecret) return ['noise-nnpsk0']
  if (knowsListenerKey && role === 'dialer') return ['noise-nk']
  return [SECURITY_NONE]
}

export function securityMode(name: string): SecurityMode | undefined {
  return Object.hasOwn(SECURITY_MODES, name) ? SECURITY_MODES[name as SecurityModeName] : undefined
}

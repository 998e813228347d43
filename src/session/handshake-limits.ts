/**
 * Limits that hold against hostile peers during the handshake (docs/limits.md §Handshake), with
 * their defaults in one exported object (the session's and the server's defaults read it), and the gate a listener asks before it starts a
 * handshake: at most `maxHandshaking` at once, at most `maxHandshakingPerSource` from one remote
 * IP (TCP, TLS). Unix-socket connections have no source address and count only globally.
 */
import { type SwitchboardError, sbError } from '../errors.ts'
import { REKEY_AFTER_BYTES, REKEY_AFTER_RECORDS } from '../handshake/rekey.ts'
import { MAX_HANDSHAKE_UNIT_BYTES } from '../wire/handshake-unit.ts'

export const defaultHandshakeLimits = Object.freeze({
  /** Largest hello accepted, bytes (HELLO_TOO_LARGE beyond). */
  maxHelloBytes: 64 * 1024,
  /** Largest Noise handshake message, bytes (fixed by the protocol). */
  maxHandshakeMessageBytes: MAX_HANDSHAKE_UNIT_BYTES,
  /** Preamble + hello + security handshake must finish within this, ms (absolute; HANDSHAKE_TIMEOUT). */
  handshakeTimeoutMs: 5_000,
  /** Connections handshaking at once per listener; more get HANDSHAKE_BUSY. */
  maxHandshaking: 64,
  /** Connections handshaking at once from one remote IP; more get HANDSHAKE_BUSY. */
  maxHandshakingPerSource: 8,
  /** Connections served at once per listener; more are refused (REFUSED). */
  maxConnections: 1024,
  /** Encrypted records under one key before Rekey(). */
  rekeyAfterRecords: REKEY_AFTER_RECORDS,
  /** Encrypted plaintext bytes under one key before Rekey(). */
  rekeyAfterBytes: REKEY_AFTER_BYTES,
})

export interface HandshakeGateOptions {
  maxHandshaking?: number | undefined
  maxHandshakingPerSource?: number | undefined
}

export class HandshakeGate {
  readonly max: number
  readonly maxPerSource: number
  #count = 0
  readonly #bySource = new Map<string, number>()

  constructor(options: HandshakeGateOptions = {}) {
    this.max = positiveInt('maxHandshaking', options.maxHandshaking, defaultHandshakeLimits.maxHandshaking)
    this.maxPerSource = positiveInt(
      'maxHandshakingPerSource',
      options.maxHandshakingPerSource,
      defaultHandshakeLimits.maxHandshakingPerSource,
    )
  }

  /** Handshakes in progress. */
  get count(): number {
    return this.#count
  }

  /**
   * Admits one handshake from `source` (a remote IP, or undefined for local sockets): returns the
   * function that ends it (call exactly once, whatever the outcome), or HANDSHAKE_BUSY.
   */
  enter(source: string | undefined): (() => void) | SwitchboardError {
    if (this.#count >= this.max) {
      return sbError('HANDSHAKE_BUSY', `${this.#count} handshakes in progress (maxHandshaking ${this.max})`)
    }
    const fromSource = source === undefined ? 0 : (this.#bySource.get(source) ?? 0)
    if (source !== undefined && fromSource >= this.maxPerSource) {
      return sbError(
        'HANDSHAKE_BUSY',
        `${fromSource} handshakes in progress from ${source} (maxHandshakingPerSource ${this.maxPerSource})`,
      )
    }
    this.#count++
    if (source !== undefined) this.#bySource.set(source, fromSource + 1)
    let left = false
    return () => {
      if (left) return
      left = true
      this.#count--
      if (source === undefined) return
      const n = (this.#bySource.get(source) ?? 1) - 1
      if (n === 0) this.#bySource.delete(source)
      else this.#bySource.set(source, n)
    }
  }
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1)
    throw sbError('INVALID_ARGUMENT', `${name} must be a positive integer`)
  return value
}

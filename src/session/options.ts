/**
 * Session options: every value has a default here and is documented in docs/limits.md.
 */
import { sbError } from '../errors.ts'
import { defaultMuxLimits, limitBounds, type MuxLimits } from '../mux/limits.ts'
import type { Compressor } from '../record/compression.ts'
import { defaultHandshakeLimits } from './handshake-limits.ts'
import type { SecurityOptions } from './security-options.ts'

export interface SessionOptions extends SecurityOptions {
  /** Our receive limits, announced in the hello (bytes, counts, ms). */
  limits?: Partial<MuxLimits>
  /** Payload codecs we offer, in preference order. Default ['msgpack', 'json']. */
  codecs?: readonly string[]
  /**
   * Record compression we offer, in preference order: built-in names ('deflate', 'gzip',
   * 'brotli') or Compressor objects. Default [] (none): local sockets rarely gain from it.
   */
  compression?: ReadonlyArray<string | Compressor>
  /** Records whose frames are smaller than this are sent uncompressed, bytes. Default 1024. */
  compressThreshold?: number
  /** Largest hello accepted from the peer, bytes. Default 65,536. */
  maxHelloBytes?: number
  /** The whole preamble + hello + security handshake must finish within this, ms (absolute). Default 5,000. */
  handshakeTimeoutMs?: number
  /** Graceful close waits this long for open channels to finish before cutting them, ms. Default 5,000. */
  closeTimeoutMs?: number
  /** Body bytes handed to the transport per write at most, bytes. Default 256 KiB. */
  flushBytes?: number
  /** Our link id (16 bytes). A dialer keeps one across reconnects; default: random. */
  linkId?: Uint8Array
  /** Encrypted records under one key before it is replaced (Noise Rekey). Default 2^20. */
  rekeyAfterRecords?: number
  /** Encrypted plaintext bytes under one key before it is replaced. Default 1 GiB. */
  rekeyAfterBytes?: number
}

export interface ResolvedSessionOptions {
  limits: MuxLimits
  codecs: readonly string[]
  compression: ReadonlyArray<string | Compressor>
  compressThreshold: number
  maxHelloBytes: number
  handshakeTimeoutMs: number
  closeTimeoutMs: number
  flushBytes: number
  linkId: Uint8Array | undefined
  rekeyAfterRecords: number
  rekeyAfterBytes: number
}

export const defaultSessionOptions: Readonly<Omit<ResolvedSessionOptions, 'linkId'>> = Object.freeze({
  limits: defaultMuxLimits,
  codecs: ['msgpack', 'json'],
  compression: [],
  compressThreshold: 1024,
  maxHelloBytes: defaultHandshakeLimits.maxHelloBytes,
  handshakeTimeoutMs: defaultHandshakeLimits.handshakeTimeoutMs,
  closeTimeoutMs: 5_000,
  flushBytes: 256 * 1024,
  rekeyAfterRecords: defaultHandshakeLimits.rekeyAfterRecords,
  rekeyAfterBytes: defaultHandshakeLimits.rekeyAfterBytes,
})

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0)
    throw sbError('INVALID_ARGUMENT', `${name} must be a positive number`)
  return value
}

/** Validates options at construction (STYLE.md practice 12): a bad value fails here, coded. */
export function resolveSessionOptions(o: SessionOptions = {}): ResolvedSessionOptions {
  const limits = { ...defaultMuxLimits, ...o.limits }
  for (const key of Object.keys(limitBounds) as (keyof MuxLimits)[]) {
    const [lo, hi] = limitBounds[key]
    const v = limits[key]
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw sbError('INVALID_ARGUMENT', `limits.${key} must be an integer in [${lo}, ${hi}], got ${v}`)
    }
  }
  if (o.linkId !== undefined && o.linkId.length !== 16)
    throw sbError('INVALID_ARGUMENT', 'linkId must be 16 bytes')
  const d = defaultSessionOptions
  return {
    limits,
    codecs: o.codecs ?? d.codecs,
    compression: o.compression ?? d.compression,
    compressThreshold: positive('compressThreshold', o.compressThreshold, d.compressThreshold),
    maxHelloBytes: positive('maxHelloBytes', o.maxHelloBytes, d.maxHelloBytes),
    handshakeTimeoutMs: positive('handshakeTimeoutMs', o.handshakeTimeoutMs, d.handshakeTimeoutMs),
    closeTimeoutMs: positive('closeTimeoutMs', o.closeTimeoutMs, d.closeTimeoutMs),
    flushBytes: positive('flushBytes', o.flushBytes, d.flushBytes),
    linkId: o.linkId,
    rekeyAfterRecords: positive('rekeyAfterRecords', o.rekeyAfterRecords, d.rekeyAfterRecords),
    rekeyAfterBytes: positive('rekeyAfterBytes', o.rekeyAfterBytes, d.rekeyAfterBytes),
  }
}

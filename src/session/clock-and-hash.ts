/**
 * The session's two injected primitives for the pure layers: a monotonic clock (mux/ never reads
 * time itself) and SHA-256 (handshake/ never imports node:crypto).
 */
import { createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { helloTranscript } from '../handshake/negotiate.ts'

/** Monotonic milliseconds. */
export function now(): number {
  return performance.now()
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

export function helloTranscriptSha256(dialerHello: Uint8Array, listenerHello: Uint8Array): Uint8Array {
  return helloTranscript(dialerHello, listenerHello, sha256)
}

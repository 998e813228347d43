/**
 * Fuzz targets with planted bugs, for harness.test.ts: each proves the oracle can fail. The bug
 * fires on inputs starting with its trigger byte, which is also the only seed, so the fuzzer
 * finds it at once.
 */
import { sbError } from '../../../src/errors.ts'
import type { FuzzTarget } from '../../fuzz/harness/target.ts'

function planted(name: string, trigger: number, bug: () => void): FuzzTarget {
  return {
    name,
    about: `planted: ${name} on inputs starting with 0x${trigger.toString(16)}`,
    maxLength: 16,
    seeds: () => [Uint8Array.of(trigger)],
    run(input) {
      if (input[0] === trigger) bug()
      if (input.length % 2 === 1) throw sbError('FRAME_MALFORMED', 'odd length')
      return true
    },
  }
}

/** Throws a TypeError, as a decoder that reads a field of undefined would. */
export const typeError = planted('type-error', 0x54, () => {
  const missing = undefined as unknown as { field: number }
  void missing.field
})

/** Rejects with INTERNAL: the library's own "cannot happen". */
export const internal = planted('internal', 0x49, () => {
  throw sbError('INTERNAL', 'planted')
})

/** Rejects with a proper code whose cause is an engine error: a bug papered over. */
export const hiddenTypeError = planted('hidden-type-error', 0x48, () => {
  throw sbError('FRAME_MALFORMED', 'looks fine', { cause: new TypeError('x is undefined') })
})

/** Busy for 120 ms: over a 40 ms per-input budget every time. */
export const slow = planted('slow', 0x53, () => {
  const until = performance.now() + 120
  while (performance.now() < until) {
    // busy
  }
})

/** Never returns: only the watchdog can stop it. */
export const infiniteLoop = planted('infinite-loop', 0x4c, () => {
  for (;;) {
    // spin
  }
})

/** No bug: every input is fine or a coded rejection. */
export const clean = planted('clean', 0x43, () => {})

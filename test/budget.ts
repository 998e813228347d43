/**
 * Sizes, counts and times the tests use, in one place, so a slow machine or a quick local run
 * changes one file instead of fifty.
 *
 * `SWITCHBOARD_BUDGET=small` scales the big sizes and counts down for local iteration (a 4 GiB
 * stream becomes 256 MiB, and so on). Times are never scaled: they are protocol timings and
 * safety nets, not workload sizes. CI leaves the variable unset and uses the full values; only
 * the full values prove the invariants (bounded memory on a 4 GiB stream, for instance).
 *
 *   SWITCHBOARD_BUDGET=small npm run test:unit
 */

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

const mode = process.env['SWITCHBOARD_BUDGET'] ?? 'full'
if (mode !== 'full' && mode !== 'small') {
  throw new Error(`SWITCHBOARD_BUDGET must be "small" or "full" (or unset), got ${JSON.stringify(mode)}`)
}
const small = mode === 'small'

export const budget = {
  /** Which scale is in effect: 'full' (CI, default) or 'small' (SWITCHBOARD_BUDGET=small). */
  mode: mode as 'full' | 'small',

  // --- sizes (scaled by SWITCHBOARD_BUDGET=small) ---

  /** One large transfer (upload or download stream) end to end; checked byte for byte. */
  bigTransferBytes: small ? 16 * MiB : 256 * MiB,
  /** The "far larger than memory" stream of invariant 1: both RSS stay flat while it flows. */
  hugeStreamBytes: small ? 256 * MiB : 4 * GiB,
  /** How much RSS may grow during the huge stream before the bounded-memory test fails. */
  rssSlackBytes: 96 * MiB,
  /** A single message bigger than one chunk but held in memory at once (many chunks, one body). */
  bigMessageBytes: small ? 2 * MiB : 8 * MiB,
  /** The small request that must not wait behind a big transfer (head-of-line test). */
  smallMessageBytes: 1 * KiB,

  // --- counts (scaled by SWITCHBOARD_BUDGET=small) ---

  /** Many small messages in a row (ordering, batching, exactly-once checks). */
  smallMessages: small ? 200 : 1000,
  /** Calls in flight at the same time on one connection. */
  concurrentCalls: small ? 20 : 100,
  /** Channels open at the same time on one session (mux, many-channels tests). */
  concurrentChannels: small ? 100 : 500,
  /** Connections opened at once to one listener (pools, accept path, handshake limits). */
  manyConnections: small ? 10 : 50,
  /** Subscribers of one topic in fan-out tests. */
  fanOutSubscribers: small ? 5 : 20,
  /** Reconnect cycles in the kill-and-reconnect tests. */
  reconnectCycles: small ? 3 : 10,
  /** fast-check `numRuns` for property tests (codecs, frame parser, address parser). */
  propertyRuns: small ? 100 : 1000,
  /** Random byte strings fed to each parser by the fuzz-style tests. */
  fuzzInputs: small ? 500 : 5000,
  /** Peers registered on one daemon, each its own connection and lease, from daemonPeerProcesses processes. */
  daemonPeers: small ? 100 : 500,
  /** Processes the daemon's peers come from. */
  daemonPeerProcesses: 5,

  // --- times (never scaled) ---

  /** Keepalive interval used by liveness tests; the inactivity timeout is twice this. */
  keepaliveMs: 200,
  /** Inactivity timeout used by liveness tests (a ping goes out at half of it). */
  inactivityTimeoutMs: 400,
  /** A short per-call deadline for tests that expect DEADLINE. */
  shortDeadlineMs: 100,
  /** Handshake timeout used by slow-handshake (slowloris) tests. */
  handshakeTimeoutMs: 1000,
  /** Reconnect delay in reconnect tests (kept short so tests are quick). */
  reconnectDelayMs: 50,
  /** Default timeout of test/helpers/wait.ts: how long a test waits for an event before failing. */
  waitTimeoutMs: 10_000,
} as const

export type Budget = typeof budget

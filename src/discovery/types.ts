/**
 * What a directory knows about a joined peer, and the face a directory offers to peer/ (the
 * local directory, local-directory.ts, implements it). A directory lists and watches entries;
 * it opens no connection of its own: how to probe an address is passed in by peer/, which owns
 * transports.
 */

/** One joined peer, as written to the directory. */
export interface PeerEntry {
  /** The name it joined under (several instances may share it). */
  readonly name: string
  /** Unique per join: a random id, also the entry's file name in the local directory. */
  readonly instance: string
  /** Where it listens, in address syntax (`unix:/abs/path`, `tcp://127.0.0.1:40123`). */
  readonly address: string
  readonly pid: number
  /** OS user name of the process. */
  readonly user: string
  /** Protocols it offers, as `name@version` (empty until contracts register some). */
  readonly protocols: readonly string[]
  /** Topics it subscribes to. */
  readonly topics: readonly string[]
  /** Topics it publishes. */
  readonly publishes: readonly string[]
  /** Its static public key (base64url) when it has one. */
  readonly publicKey?: string | undefined
  /** When it joined (ms since the epoch). */
  readonly joinedAt: number
}

export type DirectoryChange =
  | { readonly type: 'join'; readonly entry: PeerEntry }
  | { readonly type: 'leave'; readonly entry: PeerEntry }
  | { readonly type: 'change'; readonly entry: PeerEntry; readonly before: PeerEntry }

/** Is anything accepting connections at `address`? false when refused or missing. */
export type AddressProbe = (address: string) => Promise<boolean>

export interface Directory {
  /** Writes (or rewrites) our own entry; atomic: readers see the old entry or the new one. */
  publish(entry: PeerEntry): Promise<void>
  /** Removes our own entry (a clean exit). Idempotent. */
  withdraw(instance: string): Promise<void>
  /** Live entries, ours included; entries found dead are pruned, never returned. */
  list(): Promise<PeerEntry[]>
  /** Calls `onChange` for every join, leave and change from now on; returns the stop function. */
  watch(onChange: (change: DirectoryChange) => void): () => void
  /** A connection to `instance` failed: check its liveness now (at most once a second). */
  suspect(instance: string): void
  /** Stops watching and every timer. */
  close(): void
}

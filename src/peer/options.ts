/**
 * Options of join() and resolve().
 */
import type { DialFunction, ListenOptions } from '../link/options.ts'
import type { OpenRelay } from './routed-dial.ts'

/** Ports a peer may listen on: a list, or an inclusive range. */
export type AllowedPorts = readonly number[] | { readonly from: number; readonly to: number }

export interface ResolveOptions {
  /** The owner-only runtime directory (the local directory lives in its `peers/`). */
  runtimeDir?: string
}

export interface JoinOptions extends ListenOptions, ResolveOptions {
  /** The name others reach this peer by; several processes may share it. 1–255 characters. */
  name: string
  /**
   * Listen on TCP at this IP, and register that address in the directory, instead of a unix
   * socket in the runtime directory: what other machines (or a chosen interface) can reach.
   * TCP needs security (secret, keys, tls) or `insecure`.
   */
  host?: string
  /** With `host`: the ports it may listen on, tried in order; all taken is NO_PORT_AVAILABLE. */
  allowedPorts?: AllowedPorts
  /** How links to other peers are opened directly (tests pass one through a fault proxy). */
  dial?: DialFunction
  /**
   * Opens a relayed connection to an instance through the daemon (dialRelayed over the link to
   * it). Given, a peer that cannot be reached directly (its socket private to another user,
   * missing or refused, no route, no answer within `directTimeoutMs`) is reached through it.
   */
  openRelay?: OpenRelay
  /** How long a direct connect may take before the relay is tried, ms. Default 3,000. */
  directTimeoutMs?: number
}

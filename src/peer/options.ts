/**
 * Options of join() and resolve().
 */
import type { DaemonLogin } from '../discovery/daemon-login.ts'
import type { DialFunction, ListenOptions } from '../link/options.ts'
import type { OpenRelay } from './routed-dial.ts'

/** Ports a peer may listen on: a list, or an inclusive range. */
export type AllowedPorts = readonly number[] | { readonly from: number; readonly to: number }

export interface ResolveOptions {
  /** The owner-only runtime directory (the local directory lives in its `peers/`). */
  runtimeDir?: string
  /**
   * A daemon to use as the directory (`unix:/run/switchboard/daemon.sock`, `tcp://host[:4455]`)
   * instead of the local one (docs/daemon.md). Same API and events either way.
   */
  directory?: string
  /** The daemon's public key, pinned (raw, base64url or a .pub line); default: `daemon.pub` beside its socket. */
  daemonKey?: Uint8Array | string
  /** How to prove who we are on each connection to the daemon; default: the local cookie challenge on unix:, none on TCP. */
  daemonLogin?: DaemonLogin
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
  /** With a daemon directory: the lease asked for our entry, ms (heartbeats at a third). Default 15,000. */
  leaseMs?: number
}

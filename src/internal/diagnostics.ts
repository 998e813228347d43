/**
 * Named diagnostics_channel channels and the debuglog section (DESIGN.md §8). Subscribers pay
 * nothing when nobody listens: publish is guarded by `hasSubscribers`.
 */
import diagnostics from 'node:diagnostics_channel'
import { debuglog } from 'node:util'

export const channels = {
  /** A transport connected (before any handshake): { role, remote }. */
  connect: diagnostics.channel('switchboard:connect'),
  /** The hello exchange (and security handshake) finished: { role, remote, codec, compression, security }. */
  handshake: diagnostics.channel('switchboard:handshake'),
  /** A session closed: { role, remote, error? }. */
  close: diagnostics.channel('switchboard:close'),
  /** A session failed with a coded error: { role, remote, error }. */
  error: diagnostics.channel('switchboard:error'),
} as const

export function publish(ch: diagnostics.Channel, message: object): void {
  if (ch.hasSubscribers) ch.publish(message)
}

/** `NODE_DEBUG=switchboard` output. */
export const debug = debuglog('switchboard')

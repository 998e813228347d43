/**
 * The relay a peer joined through a daemon uses by default: relayed connections open over its
 * own link to the daemon (the one that registered its entry, so the daemon knows who is asking),
 * once that link has logged in (an unproven caller is refused by the daemon's policy).
 *
 * A target the daemon does not know (PEER_NOT_FOUND) may not have registered again after a daemon
 * restart: while the directory expects it back (until its resync confirms the leave, one lease
 * later), the relay is asked again as news comes. One that left is a failed connect here,
 * CONNECT_FAILED, so the link retries it a few times and a call by name moves on to another
 * instance, as after a refused direct connect.
 */
import type { DaemonDirectory } from '../discovery/daemon-directory.ts'
import { isSwitchboardError, sbError } from '../errors.ts'
import type { Transport } from '../transport/types.ts'
import { dialRelayed } from './relay-ends.ts'
import type { OpenRelay } from './routed-dial.ts'

export function daemonOpenRelay(directory: DaemonDirectory): OpenRelay {
  return async (instance: string, signal: AbortSignal): Promise<Transport> => {
    for (;;) {
      await directory.whenLoggedIn()
      try {
        return await dialRelayed(directory.link, instance, signal)
      } catch (err) {
        if (!isSwitchboardError(err) || err.code !== 'PEER_NOT_FOUND') throw err
        if (!(await directory.expectedBack(instance, signal)))
          throw sbError('CONNECT_FAILED', `the daemon has no peer ${instance} to relay to`, { cause: err })
      }
    }
  }
}

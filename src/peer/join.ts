/**
 * join() and resolve(): names through the local directory (entries in `peers/` of the owner-only
 * runtime directory, no daemon), or through a daemon when `directory` names one.
 */
import { randomBytes } from 'node:crypto'
import { join as joinPath } from 'node:path'
import { isDaemonAddress } from '../discovery/daemon-address.ts'
import type { DaemonDirectory } from '../discovery/daemon-directory.ts'
import { openLocalDirectory } from '../discovery/local-directory.ts'
import type { Directory, DirectoryChange, PeerEntry } from '../discovery/types.ts'
import { sbError } from '../errors.ts'
import type { Handler } from '../rpc/types.ts'
import { resolveSecurity } from '../session/security-options.ts'
import { isValidName } from '../transport/address.ts'
import { ensureOwnerOnlyDir, ensureRuntimeDir } from '../transport/runtime-dir.ts'
import { asksForHandshake } from '../transport/security-gate.ts'
import { openDaemonDirectoryFor } from './daemon-directory.ts'
import { daemonOpenRelay } from './daemon-relay.ts'
import { entryPathOf, JoinedPeer, osUser } from './joined-peer.ts'
import type { JoinOptions, ResolveOptions } from './options.ts'
import { listenForPeer } from './peer-address.ts'
import { probeAddress } from './probe.ts'
import { RELAY_ACCEPT_METHOD } from './relay-header.ts'

/**
 * The directory `options` names: a daemon's, or the local one under the runtime directory
 * (created owner-only if missing; `dir` is its folder).
 */
async function localDirectory(
  options: ResolveOptions & Partial<JoinOptions>,
  handlers?: Record<string, Handler>,
): Promise<{ directory: Directory; dir: string | undefined; daemon?: DaemonDirectory }> {
  if (isDaemonAddress(options.directory)) {
    const daemon = openDaemonDirectoryFor(options.directory, options, undefined, handlers)
    return { directory: daemon, dir: undefined, daemon }
  }
  if (options.directory !== undefined && options.directory !== 'local') {
    throw sbError(
      'INVALID_ARGUMENT',
      `directory must be a daemon address (unix:/path, tcp://host[:port]) or 'local' (got ${JSON.stringify(options.directory)})`,
    )
  }
  const runtimeDir = await ensureRuntimeDir(options)
  const dir = joinPath(runtimeDir, 'peers')
  await ensureOwnerOnlyDir(dir, 'peer directory')
  return { directory: openLocalDirectory({ dir, probe: probeAddress }), dir }
}

/**
 * Joins under `options.name`: listens on a socket of its own, writes its entry to the local
 * directory, and resolves with the peer once it has read the others' entries.
 */
export async function join(options: JoinOptions): Promise<JoinedPeer> {
  if (typeof options?.name !== 'string' || !isValidName(options.name)) {
    throw sbError(
      'INVALID_ARGUMENT',
      `join() needs a name of 1–255 characters (got ${JSON.stringify(options?.name)})`,
    )
  }
  const security = resolveSecurity(options)
  const runtimeDir = await ensureRuntimeDir(options)
  const instance = randomBytes(8).toString('hex')
  const server = await listenForPeer(instance, runtimeDir, options)
  let directory: Directory | undefined
  // The daemon calls relay.accept on our link to it once our entry is registered, which is after
  // the peer exists: until then there is nobody to hand a relayed connection to.
  let relayAccept: Handler | undefined
  const relayHandlers: Record<string, Handler> = {
    [RELAY_ACCEPT_METHOD]: (data, ctx) => {
      if (relayAccept === undefined) throw sbError('PEER_NOT_FOUND', 'this peer has not joined yet')
      return relayAccept(data, ctx)
    },
  }
  try {
    const local = await localDirectory(options, relayHandlers)
    directory = local.directory
    const entry: PeerEntry = {
      name: options.name,
      instance,
      address: server.address,
      pid: process.pid,
      user: osUser(),
      protocols: [],
      topics: [],
      publishes: [],
      publicKey:
        security.publicKey === undefined ? undefined : Buffer.from(security.publicKey).toString('base64url'),
      joinedAt: Date.now(),
    }
    // Through a daemon, a peer with a handshake of its own (a relayed connection needs one: the
    // daemon must see only ciphertext) reaches the peers it cannot reach directly through the
    // daemon's relay, unless the caller gave its own openRelay.
    const openRelay =
      options.openRelay ??
      (local.daemon !== undefined && asksForHandshake(options, 'dialer')
        ? daemonOpenRelay(local.daemon)
        : undefined)
    const peer = new JoinedPeer({
      options: openRelay === undefined ? options : { ...options, openRelay },
      server,
      directory,
      entry,
      entryPath: local.dir === undefined ? undefined : entryPathOf(local.dir, instance),
    })
    relayAccept = peer.relayAccept
    await peer.start()
    return peer
  } catch (err) {
    directory?.close()
    await server.close()
    throw err
  }
}

/**
 * The addresses of every live instance of `name`, for a process that has not joined (it reads
 * the directory and opens no socket). PEER_NOT_FOUND when there is none.
 */
export async function resolve(name: string, options: ResolveOptions = {}): Promise<string[]> {
  const { directory } = await localDirectory(options)
  try {
    const addresses = (await directory.list()).filter((e) => e.name === name).map((e) => e.address)
    if (addresses.length === 0) throw sbError('PEER_NOT_FOUND', `no live peer is named '${name}'`)
    return addresses
  } finally {
    directory.close()
  }
}

/** Every live entry of the local directory (the CLI's `ls`). */
export async function listPeers(options: ResolveOptions = {}): Promise<PeerEntry[]> {
  const { directory } = await localDirectory(options)
  try {
    return await directory.list()
  } finally {
    directory.close()
  }
}

/**
 * Watches the local directory: `onChange` hears every join, leave and change from now on.
 * Resolves with the stop function once watching.
 */
export async function watchPeers(
  options: ResolveOptions,
  onChange: (change: DirectoryChange) => void,
): Promise<() => void> {
  const { directory } = await localDirectory(options)
  const stop = directory.watch(onChange)
  return () => {
    stop()
    directory.close()
  }
}

/** Whether a peer's socket accepts connections now (ls's "connected" column). */
export { connects, probeAddress as reachable } from './probe.ts'

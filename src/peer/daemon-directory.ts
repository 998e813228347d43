/**
 * The directory a peer uses when `directory` names a daemon: a link to it that authenticates
 * the daemon (its key pinned, or read from `daemon.pub` beside its socket) with Noise IK, our
 * own key pair when we have one, else a key pair made once per process.
 */
import { daemonDialAddress, daemonPublicKey, daemonSocketDir } from '../discovery/daemon-address.ts'
import { type DaemonDirectory, openDaemonDirectory } from '../discovery/daemon-directory.ts'
import { cookieLogin } from '../discovery/daemon-login.ts'
import type { SwitchboardError } from '../errors.ts'
import type { KeyPair } from '../handshake/crypto.ts'
import type { ConnectOptions } from '../link/options.ts'
import type { Handler } from '../rpc/types.ts'
import { generateKeyPair } from '../session/key-files.ts'
import type { JoinOptions, ResolveOptions } from './options.ts'

/** Made on first use, once per process: a key that stands for no one (the login says who). */
let processKeys: KeyPair | undefined

export function openDaemonDirectoryFor(
  directory: string,
  options: ResolveOptions & Partial<Pick<JoinOptions, 'keys' | 'keyFile' | 'leaseMs'>>,
  onError?: (err: SwitchboardError) => void,
  /** Methods the daemon may call on this link (a joined peer's `relay.accept`). */
  handlers?: Record<string, Handler>,
): DaemonDirectory {
  const address = daemonDialAddress(directory)
  const connect: ConnectOptions = {
    ...(options.keyFile !== undefined
      ? { keyFile: options.keyFile }
      : { keys: options.keys ?? (processKeys ??= generateKeyPair()) }),
    serverKey: daemonPublicKey(directory, options.daemonKey),
    ...(handlers === undefined ? {} : { handlers }),
  }
  const socketDir = daemonSocketDir(address)
  const login = options.daemonLogin ?? (socketDir === undefined ? undefined : cookieLogin(socketDir))
  return openDaemonDirectory({
    address,
    connect,
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...(login === undefined ? {} : { login }),
    ...(onError === undefined ? {} : { onError }),
  })
}

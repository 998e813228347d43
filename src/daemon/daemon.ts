/**
 * startDaemon(): the directory service for a machine (a world-connectable unix socket) or a
 * network (TCP, default port 4455). It is an ordinary switchboard server with a static key:
 * every connection runs a Noise handshake that authenticates the daemon, and the client's own
 * key (if any) is accepted whatever it is: who a client is comes from the auth seam
 * (auth.ts), not from an allow list.
 *
 *   const daemon = await startDaemon({ socket: '/tmp/x/daemon.sock', keyFile: '/tmp/x/daemon.key' })
 *   // clients: join({ name: 'a', directory: 'unix:/tmp/x/daemon.sock' })
 *   await daemon.close()
 */
import { chmod, mkdir } from 'node:fs/promises'
import { dirname, isAbsolute, join as joinPath } from 'node:path'
import {
  DAEMON_CHANGES_TOPIC,
  DAEMON_USERS_DIR,
  DEFAULT_DAEMON_PORT,
  DEFAULT_DAEMON_SOCKET,
} from '../discovery/daemon-names.ts'
import type { DirectoryChange } from '../discovery/types.ts'
import { sbError } from '../errors.ts'
import { listen } from '../link/api.ts'
import type { ListenOptions } from '../link/options.ts'
import { peerIdentity, type Server } from '../link/server.ts'
import type { RpcConnection } from '../rpc/connection.ts'
import { encodeKey } from '../session/key-files.ts'
import { createDaemonAuth, type DaemonAuthConfig } from './auth/create.ts'
import { DEFAULT_USERS_DIR } from './auth/user-dir.ts'
import type { DaemonAuth } from './auth.ts'
import { loadOrCreateKeyPair, writePublicKeyFile } from './key-pair.ts'
import { LeaseTable } from './leases.ts'
import { type DaemonLimits, resolveLimits } from './limits.ts'
import { LoginGate } from './login-gate.ts'
import { type ConnectionState, daemonMethods } from './methods.ts'
import { daemonRelay } from './relay.ts'
import type { RelayHubStats } from './relay-hub.ts'

export interface DaemonOptions {
  /** The unix socket's path (its directory is made 0755; the socket is 0666); false: none. */
  socket?: string | false
  /** Also listen on TCP: `HOST:PORT`, `HOST` (port 4455) or `tcp://HOST:PORT`. */
  tcp?: string
  /** The private key file (0600), made on first start; default `daemon.key` beside the socket. */
  keyFile?: string
  /** Where the public key is written (0644); default `daemon.pub` beside the socket. */
  publicKeyFile?: string
  /**
   * Who clients are and what they may register: the config's `auth` section (users, policy,
   * usersDir; made into the real auth with createDaemonAuth, its usersDir defaulting to `users`
   * beside the socket), or a DaemonAuth. Without it the daemon is open: any client that
   * completes the handshake may register any name, as the principal of its public key.
   */
  auth?: DaemonAuth | DaemonAuthConfig
  /** With auth: failed logins one connection may make before it is closed (AUTH_FAILED). Default 3. */
  maxLoginFailures?: number
  limits?: Partial<DaemonLimits>
  /** How often expired leases are swept, ms; default a quarter of minLeaseMs, at least 25. */
  sweepMs?: number
  /** Session and server options of both listeners (keepalive, handshake limits, …). */
  listen?: Omit<ListenOptions, 'keys' | 'keyFile' | 'allow' | 'secret' | 'secretFile' | 'passphrase'>
  /** One call per notable event (start, register, leave, auth, error), for a JSON-lines log. */
  log?: (record: Record<string, unknown>) => void
}

export interface Daemon {
  /** Every address it listens on (`unix:/…`, `tcp://…`), unix first. */
  readonly addresses: readonly string[]
  /** Its static public key, base64url. */
  readonly publicKey: string
  readonly publicKeyFile: string | undefined
  /** Registered entries now. */
  readonly size: number
  /** What the relay has carried: connections open and opened, bytes each way. */
  relayStats(): RelayHubStats
  close(): Promise<void>
}

/** `HOST:PORT`, `HOST`, `tcp://…` → a tcp:// address (port 4455 when none is given). */
export function tcpAddressOf(given: string): string {
  const bare = given.replace(/^tcp[46]?:\/\//, '')
  const scheme = /^tcp[46]?:\/\//.exec(given)?.[0] ?? 'tcp://'
  const hasPort = bare.startsWith('[') ? /\]:\d+$/.test(bare) : /:\d+$/.test(bare)
  return `${scheme}${bare}${hasPort ? '' : `:${DEFAULT_DAEMON_PORT}`}`
}

export async function startDaemon(options: DaemonOptions = {}): Promise<Daemon> {
  const socket = options.socket === undefined ? DEFAULT_DAEMON_SOCKET : options.socket
  if (socket === false && options.tcp === undefined)
    throw sbError('INVALID_ARGUMENT', 'the daemon needs a socket or a tcp address')
  if (socket !== false && !isAbsolute(socket))
    throw sbError('INVALID_ARGUMENT', 'the daemon socket must be an absolute path')
  const home = socket === false ? undefined : dirname(socket)
  const keyFile = options.keyFile ?? (home === undefined ? undefined : joinPath(home, 'daemon.key'))
  if (keyFile === undefined) throw sbError('INVALID_ARGUMENT', 'a TCP-only daemon needs a keyFile')
  const limits = resolveLimits(options.limits)
  const log = (event: string, fields: Record<string, unknown> = {}): void =>
    options.log?.({ time: new Date().toISOString(), event, ...fields })

  if (home !== undefined) {
    // Everyone must be able to reach the socket and read daemon.pub; only we write here.
    await mkdir(home, { recursive: true, mode: 0o755 })
    await chmod(home, 0o755)
  }
  const auth = await resolveAuth(options.auth, home)
  const pair = await loadOrCreateKeyPair(keyFile)
  const publicKey = encodeKey(pair.publicKey)
  const publicKeyFile =
    options.publicKeyFile ?? (home === undefined ? undefined : joinPath(home, 'daemon.pub'))
  if (publicKeyFile !== undefined) await writePublicKeyFile(publicKeyFile, pair.publicKey)

  const servers: Server[] = []
  let closing: Promise<void> | undefined
  const states = new WeakMap<RpcConnection, ConnectionState>()
  const publish = (change: DirectoryChange): void => {
    log(change.type, { name: change.entry.name, instance: change.entry.instance })
    // Not awaited: a slow watcher costs its own queue (its subscription's policy), never the daemon's pace.
    for (const s of servers) s.publish(DAEMON_CHANGES_TOPIC, change).catch(() => {})
  }
  const table = new LeaseTable(limits, () => performance.now(), publish)
  const stateOf = (conn: RpcConnection): ConnectionState => {
    let state = states.get(conn)
    if (state === undefined) {
      state = newState(conn, auth)
      states.set(conn, state)
    }
    return state
  }
  // With auth, logging in is part of the handshake: it counts against the same limits and deadline.
  const loginGate = new LoginGate(
    {
      timeoutMs: options.listen?.handshakeTimeoutMs,
      maxHandshaking: options.listen?.maxHandshaking,
      maxHandshakingPerSource: options.listen?.maxHandshakingPerSource,
      maxFailures: options.maxLoginFailures,
    },
    log,
  )
  const loginDone = (conn: RpcConnection, ok: boolean): void => {
    if (ok) loginGate.loggedIn(conn)
    else loginGate.failed(conn)
  }
  const relay = daemonRelay({ table, auth, stateOf, log })
  const loginSpent = (conn: RpcConnection): boolean => loginGate.spent(conn)
  const handlers = {
    ...daemonMethods({ table, auth, stateOf, loginDone, loginSpent, log }),
    ...relay.handlers,
  }
  const listenOptions: ListenOptions = {
    ...options.listen,
    keys: pair,
    // Any client key completes the handshake: the auth seam, not an allow list, decides who it is.
    allow: () => true,
    // A client without a key pair that pinned ours runs Noise NK: the daemon is proven, the
    // client is nobody until it logs in.
    acceptAnonymousDialers: true,
  }

  const track = (server: Server): void => {
    for (const [method, handler] of Object.entries(handlers)) server.handle(method, handler)
    // Watching the directory is as private as listing it: only after a login.
    server.gateSubscribers((conn, topic) =>
      topic === DAEMON_CHANGES_TOPIC && stateOf(conn).principal === undefined ? 'NOT_PERMITTED' : undefined,
    )
    server.on('connection', (conn) => {
      if (stateOf(conn).principal === undefined) loginGate.admit(conn)
      conn.once('close', (err) => {
        const state = states.get(conn)
        if (state === undefined) return
        // A clean close is a client that left: its peers leave now. A lost connection keeps its
        // leases until they expire, so a blip or a restart does not make the peers churn.
        // (A daemon that is stopping closes every connection itself: nobody left.)
        if (err === undefined && closing === undefined) table.endOwner(state)
      })
    })
    server.on('error', (err) => log('error', { code: err.code, message: err.message }))
    servers.push(server)
  }

  const sweepMs = options.sweepMs ?? Math.max(25, Math.floor(limits.minLeaseMs / 4))
  const sweeper = setInterval(() => table.sweep(), sweepMs)
  sweeper.unref()
  try {
    if (socket !== false) {
      const server = await listen(`unix:${socket}`, listenOptions)
      track(server)
      await chmod(socket, 0o666)
    }
    if (options.tcp !== undefined) track(await listen(tcpAddressOf(options.tcp), listenOptions))
  } catch (err) {
    clearInterval(sweeper)
    await Promise.allSettled(servers.map((s) => s.close()))
    throw err
  }
  const addresses = servers.map((s) => s.address)
  log('start', { addresses, publicKey, auth: auth === undefined ? 'open' : 'configured' })

  return {
    addresses,
    publicKey,
    publicKeyFile,
    get size() {
      return table.size
    },
    relayStats: () => relay.hub.getStats(),
    close() {
      closing ??= (async () => {
        clearInterval(sweeper)
        loginGate.clear()
        await Promise.allSettled(servers.map((s) => s.close()))
        log('stop', {})
      })()
      return closing
    },
  }
}

/** A new connection's state: a client that authenticated with a known account key is that account. */
function newState(conn: RpcConnection, auth: DaemonAuth | undefined): ConnectionState {
  const key = conn.remotePublicKey
  const keyText = key === undefined ? undefined : encodeKey(key)
  let principal = keyText === undefined ? undefined : auth?.byPublicKey(keyText)
  if (auth === undefined) {
    // Open daemon: a client is the key it handshook with; a keyless (NK) client is its own
    // connection only, so two keyless clients are never one principal (the relay's rule).
    principal = { kind: 'account', name: keyText === undefined ? peerIdentity(conn) : `key:${keyText}` }
  }
  // The back-off's source is the remote IP (every port of one host is one guesser).
  return { principal, instances: new Set(), conn, source: conn.remoteAddress ?? 'local', localUid: undefined }
}

function isDaemonAuth(auth: DaemonAuth | DaemonAuthConfig): auth is DaemonAuth {
  return typeof (auth as Partial<DaemonAuth>).beginLocal === 'function'
}

/** The auth to use: as given, or made from its config (usersDir default: `users` beside the socket). */
async function resolveAuth(
  auth: DaemonAuth | DaemonAuthConfig | undefined,
  home: string | undefined,
): Promise<DaemonAuth | undefined> {
  if (auth === undefined || isDaemonAuth(auth)) return auth
  const usersDir =
    auth.usersDir ?? (home === undefined ? DEFAULT_USERS_DIR : joinPath(home, DAEMON_USERS_DIR))
  return createDaemonAuth({ ...auth, usersDir })
}

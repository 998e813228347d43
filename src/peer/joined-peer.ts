/**
 * A named peer (`join`): it listens on its own socket, writes its entry to the directory, and
 * reaches the others by name over ordinary links, so delivery rules, pools and reconnects apply
 * to names unchanged.
 *
 * - request/send by name go to one live instance of the name, round-robin; an instance that
 *   cannot be reached is reported to the directory and the call moves on to the next one when
 *   it is safe (never sent, or idempotent).
 * - publish goes to every subscriber of the topic, once each (the server's fan-out, with its
 *   sequence numbers and policies); subscribe merges one link subscription per publisher.
 * - Each side writes its own entry before it reads the others': a subscriber lists the topic
 *   before it looks for publishers, and a publisher lists it before it looks for subscribers,
 *   so whichever comes second sees the first.
 */
import { EventEmitter } from 'node:events'
import { rmSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join as joinPath } from 'node:path'
import type { Directory, DirectoryChange, PeerEntry } from '../discovery/types.ts'
import { isSwitchboardError, type SwitchboardError, sbError } from '../errors.ts'
import { openLink } from '../link/api.ts'
import type { Link } from '../link/link.ts'
import type { ConnectOptions } from '../link/options.ts'
import type { Server } from '../link/server.ts'
import type { ContractHandlers, ContractOptions, Protocol } from '../rpc/contract.ts'
import type { ProtocolPublisher } from '../rpc/contract-client.ts'
import { ContractPublisher } from '../rpc/contract-registry.ts'
import type { PublishReport } from '../rpc/fanout.ts'
import type { Subscription } from '../rpc/subscription.ts'
import type { Handler, RequestOptions, SendOptions, SubscribeOptions } from '../rpc/types.ts'
import { dial as dialTransport } from '../transport/dial.ts'
import { asksForHandshake } from '../transport/security-gate.ts'
import { MergedSubscription } from './merged-subscription.ts'
import type { JoinOptions } from './options.ts'
import { relayAcceptHandler } from './relay-ends.ts'
import { reroutable } from './reroute.ts'
import { type Route, routedDial } from './routed-dial.ts'

/** A peer as peers() lists it. */
export interface PeerInfo extends PeerEntry {
  /** A link to it is up now; else it is only available (listed in the directory, not dialed yet). */
  readonly connected: boolean
  /** How the last connection to it went: straight to its socket, or through the daemon's relay. */
  readonly route: Route | undefined
}

export interface PeersChange {
  readonly type: 'join' | 'leave' | 'change'
  readonly peer: PeerInfo
}

export interface JoinedPeerEvents {
  /** Another peer joined, left or changed (its topics, say). */
  peers: [change: PeersChange]
  /** An error nobody awaits (a handler that threw on a one-way message, a directory problem). */
  error: [err: SwitchboardError]
}

/** A peer's report of a publish: the subscribers it did not reach are named. */
export interface PeerPublishReport extends PublishReport {
  failed: { peer: string; instance: string; code: PublishReport['failed'][number]['code'] }[]
}

export interface JoinedPeerParts {
  readonly options: JoinOptions
  readonly server: Server
  readonly directory: Directory
  readonly entry: PeerEntry
  /** The local directory's file of our entry (removed at exit); undefined with a daemon. */
  readonly entryPath: string | undefined
}

export class JoinedPeer extends EventEmitter<JoinedPeerEvents> {
  readonly name: string
  readonly instance: string
  /** Where this peer listens. */
  readonly address: string
  private entry: PeerEntry
  private readonly server: Server
  private readonly directory: Directory
  private readonly options: JoinOptions
  /** Live entries of the other peers (and our own), by instance. */
  private readonly known = new Map<string, PeerEntry>()
  private readonly links = new Map<string, Link>()
  private readonly turns = new Map<string, number>()
  /** The route of the last connection made to each instance. */
  private readonly routes = new Map<string, Route>()
  private readonly subscriptions = new Map<string, Set<MergedSubscription>>()
  /** Topics we publish, each ready once its subscribers were loaded. */
  private readonly publishing = new Map<string, Promise<PeerPublishReport['failed']>>()
  private stopWatching: (() => void) | undefined
  private entryWrites: Promise<void> = Promise.resolve()
  private leaving: Promise<void> | undefined
  private readonly entryPath: string | undefined

  /** @internal use join(). */
  constructor(parts: JoinedPeerParts) {
    super()
    this.options = parts.options
    this.server = parts.server
    this.directory = parts.directory
    this.entry = parts.entry
    this.name = parts.entry.name
    this.instance = parts.entry.instance
    this.address = parts.entry.address
    // A process that exits without leave() still takes its entry along when it exits normally.
    this.entryPath = parts.entryPath
    if (this.entryPath !== undefined) entriesToRemoveOnExit.add(this.entryPath)
    if (!exitHookInstalled && this.entryPath !== undefined) {
      exitHookInstalled = true
      process.once('exit', removeEntriesOnExit)
    }
    this.server.on('error', (err) => this.report(err))
  }

  /** @internal join()'s second half: entry written, now watch and read the others. */
  async start(): Promise<void> {
    await this.directory.publish(this.entry)
    this.stopWatching = this.directory.watch((change) => this.onDirectoryChange(change))
    await this.refresh()
  }

  // ---- handlers ------------------------------------------------------------------------------

  /** Registers the handler for `method`, for every peer that calls this one. */
  handle<In = unknown, Out = unknown>(method: string, handler: Handler<In, Out>): this {
    this.server.handle(method, handler)
    return this
  }

  /**
   * Serves `protocol` (a typed contract, docs/contracts.md) to every peer that calls this one,
   * and lists it (`name@version`) in this peer's directory entry. Returns the publisher of its
   * events: each publish goes to every subscriber, as publish() does.
   */
  implement<P extends Protocol>(
    protocol: P,
    handlers: ContractHandlers<P>,
    options: ContractOptions = {},
  ): ProtocolPublisher<P, PeerPublishReport> {
    this.assertJoined()
    this.server.implement(protocol, handlers, options)
    const listed = `${protocol.name}@${protocol.version}`
    void this.rewriteEntry((e) => ({
      ...e,
      protocols: [...e.protocols.filter((p) => !p.startsWith(`${protocol.name}@`)), listed],
    })).catch((err) => this.report(err as SwitchboardError))
    return new ContractPublisher(protocol, (topic, data, opts) => this.publish(topic, data, opts))
  }

  // ---- by name -------------------------------------------------------------------------------

  /** Calls `method` on one live instance of `name` (round-robin), moving on from a dead one. */
  async request<T = unknown>(
    name: string,
    method: string,
    data?: unknown,
    options: RequestOptions = {},
  ): Promise<T> {
    return this.onSomeInstance(name, options.idempotent === true, (link) =>
      link.request<T>(method, data, options),
    )
  }

  /** One-way message to one live instance of `name`. */
  async send(name: string, method: string, data?: unknown, options: SendOptions = {}): Promise<void> {
    return this.onSomeInstance(name, options.idempotent === true, (link) => link.send(method, data, options))
  }

  private async onSomeInstance<T>(
    name: string,
    idempotent: boolean,
    call: (link: Link) => Promise<T>,
  ): Promise<T> {
    this.assertJoined()
    const tried = new Set<string>()
    let lastError: SwitchboardError | undefined
    let refreshed = false
    for (;;) {
      let entry = this.pick(name, tried)
      if (entry === undefined && !refreshed) {
        // A peer that joined a moment ago may not have reached our watch yet: read once more.
        refreshed = true
        await this.refresh()
        entry = this.pick(name, tried)
      }
      if (entry === undefined) {
        throw lastError ?? sbError('PEER_NOT_FOUND', `no live peer is named '${name}'`)
      }
      tried.add(entry.instance)
      try {
        return await call(this.linkTo(entry))
      } catch (err) {
        if (!isSwitchboardError(err) || !reroutable(err.code, idempotent)) throw err
        lastError = err
        this.directory.suspect(entry.instance)
      }
    }
  }

  /** Reads the directory again: entries the watch has not reported yet become known now. */
  private async refresh(): Promise<void> {
    for (const e of await this.directory.list()) this.known.set(e.instance, e)
  }

  /** The next instance of `name` in turn, skipping those tried. */
  private pick(name: string, skip: ReadonlySet<string>): PeerEntry | undefined {
    const candidates: PeerEntry[] = []
    for (const e of this.known.values()) if (e.name === name && !skip.has(e.instance)) candidates.push(e)
    if (candidates.length === 0) return undefined
    candidates.sort((a, b) => (a.instance < b.instance ? -1 : 1))
    const turn = this.turns.get(name) ?? 0
    this.turns.set(name, turn + 1)
    return candidates[turn % candidates.length]
  }

  /** The link to one instance, opened on first use. */
  private linkTo(entry: PeerEntry): Link {
    let link = this.links.get(entry.instance)
    if (link !== undefined && link.state !== 'closed') return link
    const o = this.options
    const linkOptions: ConnectOptions = {
      ...o,
      subscriberLabel: labelOf(this.name, this.instance),
      // A peer that stays unreachable is dropped, and the directory asked about it.
      maxRetries: 3,
      backoffInitialMs: 50,
      backoffMaxMs: 1000,
    }
    if (o.openRelay !== undefined) {
      const direct = o.dial ?? ((address, signal) => dialTransport(address, { ...o, signal }))
      linkOptions.dial = routedDial({
        direct,
        openRelay: o.openRelay,
        instance: entry.instance,
        secure: asksForHandshake(o, 'dialer') || o.insecure === true,
        directTimeoutMs: o.directTimeoutMs,
        onRoute: (route) => this.routes.set(entry.instance, route),
      })
    }
    link = openLink(entry.address, linkOptions)
    const opened = link
    this.links.set(entry.instance, opened)
    opened.on('state', (_from, to) => {
      if (to === 'reconnecting') this.directory.suspect(entry.instance)
    })
    opened.on('close', () => {
      if (this.links.get(entry.instance) === opened) this.links.delete(entry.instance)
    })
    opened.on('error', (err) => this.report(err))
    return opened
  }

  // ---- fan-out -------------------------------------------------------------------------------

  /**
   * Sends an event to every current subscriber of `topic`, once each; resolves with the report
   * (`delivered: 0` when nobody subscribes). The first publish of a topic first announces it and
   * waits (up to publishTimeout) for the subscribers the directory lists to subscribe here.
   */
  async publish(topic: string, data?: unknown, options: SendOptions = {}): Promise<PeerPublishReport> {
    this.assertJoined()
    let loaded = this.publishing.get(topic)
    if (loaded === undefined) {
      loaded = this.announcePublisher(topic)
      this.publishing.set(topic, loaded)
    }
    const missing = await loaded
    const report = await this.server.publish(topic, data, options)
    const failed: PeerPublishReport['failed'] = report.failed.map((f) => {
      const instance = instanceOfLabel(f.peer)
      const peer = instance === '' ? f.peer : f.peer.slice(0, -instance.length - 1)
      return { peer, instance, code: f.code }
    })
    // Subscribers that never came for the first publish: reported once, then not waited for.
    if (missing.length > 0) this.publishing.set(topic, Promise.resolve([]))
    return { delivered: report.delivered, dropped: report.dropped, failed: [...failed, ...missing] }
  }

  private async announcePublisher(topic: string): Promise<PeerPublishReport['failed']> {
    await this.rewriteEntry((e) => ({ ...e, publishes: [...e.publishes, topic] }))
    const expected = new Map<string, PeerEntry>()
    for (const e of await this.directory.list()) {
      this.known.set(e.instance, e)
      if (e.topics.includes(topic)) expected.set(e.instance, e)
    }
    const server = this.server
    const arrived = (): boolean => {
      for (const instance of expected.keys()) {
        if (!this.known.has(instance)) expected.delete(instance) // it left meanwhile
      }
      for (const label of server.subscriberLabels(topic)) expected.delete(instanceOfLabel(label))
      return expected.size === 0
    }
    if (arrived()) return []
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (arrived()) done()
      }
      const done = (): void => {
        clearTimeout(timer)
        stopWatching()
        this.off('peers', check)
        resolve()
      }
      const timer = setTimeout(done, server.publishTimeoutMs)
      timer.unref()
      const stopWatching = server.onSubscribed(check)
      this.on('peers', check)
    })
    return [...expected.values()].map((e) => ({
      peer: e.name,
      instance: e.instance,
      code: 'PUBLISH_TIMEOUT' as const,
    }))
  }

  /**
   * Subscribes to `topic` from every peer that publishes it, now and later. `ready` resolves
   * once each publisher known now has acknowledged.
   */
  subscribe<T = unknown>(
    topic: string,
    options: SubscribeOptions | ((value: T) => void) = {},
  ): Subscription<T> {
    this.assertJoined()
    const merged: MergedSubscription<T> = new MergedSubscription<T>(topic, options, () =>
      this.unsubscribed(topic, merged as MergedSubscription),
    )
    let set = this.subscriptions.get(topic)
    const first = set === undefined
    if (set === undefined) {
      set = new Set()
      this.subscriptions.set(topic, set)
    }
    set.add(merged as MergedSubscription)
    void (async () => {
      if (first) await this.rewriteEntry((e) => ({ ...e, topics: [...e.topics, topic] }))
      for (const e of await this.directory.list()) this.known.set(e.instance, e)
      for (const e of this.known.values()) {
        if (e.publishes.includes(topic)) this.addSource(merged as MergedSubscription, e)
      }
      merged.start()
    })().catch((err: SwitchboardError) => merged.fail(err))
    return merged
  }

  private addSource(merged: MergedSubscription, publisher: PeerEntry): void {
    merged.add(publisher.instance, (onEvent) =>
      this.linkTo(publisher).subscribe(merged.topic, { ...merged.sourceOptions, onEvent }),
    )
  }

  private unsubscribed(topic: string, merged: MergedSubscription): void {
    const set = this.subscriptions.get(topic)
    if (set === undefined || !set.delete(merged) || set.size > 0) return
    this.subscriptions.delete(topic)
    if (this.leaving !== undefined) return
    void this.rewriteEntry((e) => ({ ...e, topics: e.topics.filter((t) => t !== topic) })).catch((err) =>
      this.report(err as SwitchboardError),
    )
  }

  // ---- the directory -------------------------------------------------------------------------

  /** The other live peers, each saying whether a link to it is up now. */
  peers(): PeerInfo[] {
    const out: PeerInfo[] = []
    for (const e of this.known.values()) if (e.instance !== this.instance) out.push(this.info(e))
    return out
  }

  private info(e: PeerEntry): PeerInfo {
    return {
      ...e,
      connected: this.links.get(e.instance)?.state === 'ready',
      route: this.routes.get(e.instance),
    }
  }

  /**
   * @internal The handler of the daemon's `relay.accept` calls on this peer's link to the daemon:
   * each is a relayed connection, served by this peer's server as if it had been accepted.
   */
  readonly relayAccept: Handler = relayAcceptHandler((transport) => this.server.adopt(transport))

  private onDirectoryChange(change: DirectoryChange): void {
    const e = change.entry
    if (e.instance === this.instance) return
    if (change.type === 'leave') {
      this.known.delete(e.instance)
      this.routes.delete(e.instance)
      for (const set of this.subscriptions.values()) for (const m of set) m.remove(e.instance)
      const link = this.links.get(e.instance)
      this.links.delete(e.instance)
      link?.abort(sbError('NOT_CONNECTED', `peer '${e.name}' (${e.instance}) left`))
      // Its subscriptions here will not resume: publishes stop waiting for it now.
      this.server.forgetSubscribers((label) => instanceOfLabel(label) === e.instance)
    } else {
      this.known.set(e.instance, e)
      for (const topic of e.publishes) {
        for (const m of this.subscriptions.get(topic) ?? []) this.addSource(m, e)
      }
      if (change.type === 'change') {
        for (const topic of change.before.publishes) {
          if (e.publishes.includes(topic)) continue
          for (const m of this.subscriptions.get(topic) ?? []) m.remove(e.instance)
        }
      }
    }
    if (this.listenerCount('peers') > 0) this.emit('peers', { type: change.type, peer: this.info(e) })
  }

  /** Entry writes go one at a time, in order. */
  private rewriteEntry(update: (e: PeerEntry) => PeerEntry): Promise<void> {
    const next = this.entryWrites.then(() => {
      this.entry = update(this.entry)
      return this.directory.publish(this.entry)
    })
    this.entryWrites = next.catch(() => {})
    return next
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Leaves: the entry goes first (nobody new comes), then links, subscriptions and the server. */
  leave(): Promise<void> {
    this.leaving ??= (async () => {
      this.stopWatching?.()
      await this.entryWrites
      await this.directory.withdraw(this.instance)
      if (this.entryPath !== undefined) entriesToRemoveOnExit.delete(this.entryPath)
      for (const set of this.subscriptions.values()) for (const m of [...set]) m.close()
      await Promise.allSettled([...this.links.values()].map((l) => l.close()))
      this.links.clear()
      await this.server.close()
      this.directory.close()
    })()
    return this.leaving
  }

  private assertJoined(): void {
    if (this.leaving !== undefined) throw sbError('SESSION_CLOSED', `peer '${this.name}' has left`)
  }

  private report(err: SwitchboardError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }
}

/** How a peer names itself when it subscribes (NAME/INSTANCE), so reports can say which peer. */
function labelOf(name: string, instance: string): string {
  return `${name}/${instance}`
}

/** The instance in a peer's subscriber label ('' for a label without one). */
function instanceOfLabel(label: string): string {
  const slash = label.lastIndexOf('/')
  return slash < 0 ? '' : label.slice(slash + 1)
}

/** Entries of this process's peers that have not left: one 'exit' listener removes them all. */
const entriesToRemoveOnExit = new Set<string>()
let exitHookInstalled = false
function removeEntriesOnExit(): void {
  for (const path of entriesToRemoveOnExit) rmSync(path, { force: true })
}

/** Who this process runs as, for its directory entry. */
export function osUser(): string {
  try {
    return userInfo().username
  } catch {
    return String(process.getuid?.() ?? '')
  }
}

export function entryPathOf(peersDir: string, instance: string): string {
  return joinPath(peersDir, `${instance}.json`)
}

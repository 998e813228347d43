/**
 * A TCP or unix-socket proxy for tests that injects faults between a client and a server: it
 * can delay bytes, cut connections (at once or after N bytes), stall them (stop forwarding
 * until resumed) and corrupt a byte at a chosen offset. Random choices (a cut point drawn in a
 * range) come from a seeded generator, so a failing run can be replayed with its seed.
 *
 *   const proxy = await startFaultProxy({ listen: 'tcp://127.0.0.1:0', target: server.address })
 *   proxy.plan({ cutAfterBytes: { up: 200 } })   // the next connections die after 200 bytes up
 *   proxy.cutAll()                               // every open connection dies now
 */
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'

/** Per direction: `up` is client → server, `down` server → client. */
export interface PerDirection {
  up?: number
  down?: number
}

/** What happens to connections accepted after plan() (a new plan replaces the old one). */
export interface FaultPlan {
  /** Hold every chunk this long before forwarding it (order kept), ms. */
  delayMs?: number
  /** Destroy both sides once this many bytes went in that direction. */
  cutAfterBytes?: PerDirection
  /** Cut upstream at a point drawn from the seeded generator in [min, max) bytes. */
  randomCutUp?: { min: number; max: number }
  /** Stop forwarding (hold bytes) after this many bytes, until resume(). */
  stallAfterBytes?: PerDirection
  /** Flip all bits of the byte at this offset of the direction's stream. */
  corruptAt?: PerDirection
}

export interface FaultProxyOptions {
  /** Where clients connect: 'tcp://HOST:PORT' (port 0 picks one) or 'unix:/abs/path'. */
  listen: string
  /** Where bytes go, same syntax. */
  target: string
  /** Seed of the generator behind random choices. Default 1. */
  seed?: number
}

type Where = { host: string; port: number } | { path: string }

function parse(address: string): Where {
  if (address.startsWith('unix:')) return { path: address.slice(5) }
  const m = /^tcp[46]?:\/\/(\[[^\]]+\]|[^:]+):(\d+)$/.exec(address)
  if (m === null) throw new Error(`fault proxy: unsupported address ${address}`)
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) }
}

/** mulberry32: a small seeded generator, enough for choosing fault points. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

class Pipe {
  /** Bytes that arrived from `from` (forwarded, held or cut off). */
  sent = 0
  private stalled: Buffer[] | undefined
  private queue: Promise<void> = Promise.resolve()

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly conn: ProxiedConnection,
    private readonly cutAt: number | undefined,
    private readonly stallAt: number | undefined,
    private readonly corruptAt: number | undefined,
    private readonly delayMs: number,
  ) {
    from.on('data', (chunk: Buffer) => this.onData(chunk))
    // A clean end travels after the bytes still delayed, as it would on the wire.
    from.on('end', () => {
      this.queue = this.queue.then(() => {
        if (!this.to.destroyed) this.to.end()
      })
    })
  }

  private onData(chunk: Buffer): void {
    let data = chunk
    const start = this.sent
    this.sent += data.length
    if (this.corruptAt !== undefined && this.corruptAt >= start && this.corruptAt < this.sent) {
      data = Buffer.from(data)
      data[this.corruptAt - start]! ^= 0xff
    }
    if (this.cutAt !== undefined && this.sent >= this.cutAt) {
      const keep = Math.max(0, this.cutAt - start)
      this.forward(data.subarray(0, keep))
      this.queue = this.queue.then(() => this.conn.cut())
      return
    }
    if (this.stallAt !== undefined && this.sent > this.stallAt && this.stalled === undefined) {
      const keep = Math.max(0, this.stallAt - start)
      this.forward(data.subarray(0, keep))
      this.stalled = [data.subarray(keep)]
      return
    }
    if (this.stalled !== undefined) {
      this.stalled.push(data)
      return
    }
    this.forward(data)
  }

  private forward(data: Buffer): void {
    if (data.length === 0) return
    if (this.delayMs <= 0) {
      if (!this.to.destroyed) this.to.write(data)
      return
    }
    this.queue = this.queue.then(
      () =>
        new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            if (!this.to.destroyed) this.to.write(data)
            resolve()
          }, this.delayMs)
          this.conn.timers.add(t)
        }),
    )
  }

  resume(): void {
    const held = this.stalled
    if (held === undefined) return
    this.stalled = undefined
    for (const d of held) this.forward(d)
  }
}

/** One client connection through the proxy. */
export class ProxiedConnection {
  readonly timers = new Set<NodeJS.Timeout>()
  private readonly pipes: Pipe[] = []
  closed = false

  /** Bytes that arrived from the client (up) and from the server (down) on this connection. */
  get bytes(): { up: number; down: number } {
    return { up: this.pipes[0]?.sent ?? 0, down: this.pipes[1]?.sent ?? 0 }
  }

  constructor(
    readonly client: Socket,
    readonly server: Socket,
    private readonly onClosed: (c: ProxiedConnection) => void,
  ) {
    // An error on either side is a cut; a clean end is forwarded (Pipe) and we are done once
    // both sides have closed.
    const cut = (): void => this.cut()
    client.on('error', cut)
    server.on('error', cut)
    const closed = (): void => {
      if (client.destroyed && server.destroyed) this.cut()
    }
    client.on('close', closed)
    server.on('close', closed)
  }

  start(plan: FaultPlan, random: () => number): void {
    const up = plan.randomCutUp
    const cutUp =
      up !== undefined ? Math.floor(up.min + random() * (up.max - up.min)) : plan.cutAfterBytes?.up
    const d = plan.delayMs ?? 0
    this.pipes.push(
      new Pipe(this.client, this.server, this, cutUp, plan.stallAfterBytes?.up, plan.corruptAt?.up, d),
      new Pipe(
        this.server,
        this.client,
        this,
        plan.cutAfterBytes?.down,
        plan.stallAfterBytes?.down,
        plan.corruptAt?.down,
        d,
      ),
    )
  }

  resume(): void {
    for (const p of this.pipes) p.resume()
  }

  /** Destroys both sides at once (as a network failure would). Idempotent. */
  cut(): void {
    if (this.closed) return
    this.closed = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.client.destroy()
    this.server.destroy()
    this.onClosed(this)
  }
}

export class FaultProxy {
  /** Where clients connect (the actual port when 0 was asked). */
  address = ''
  /** Connections accepted over the proxy's life. */
  accepted = 0
  /** Connections cut by a plan or cutAll(), and all that closed. */
  readonly connections = new Set<ProxiedConnection>()
  private current: FaultPlan = {}
  private readonly random: () => number
  private readonly server: Server

  /** @internal use startFaultProxy(). */
  constructor(private readonly options: FaultProxyOptions) {
    this.random = seededRandom(options.seed ?? 1)
    this.server = createServer({ allowHalfOpen: true }, (client) => this.accept(client))
  }

  /** @internal */
  async start(): Promise<void> {
    const where = parse(this.options.listen)
    if ('path' in where) this.server.listen(where.path)
    else this.server.listen(where.port, where.host)
    await once(this.server, 'listening')
    const a = this.server.address()
    this.address =
      typeof a === 'string' || a === null
        ? this.options.listen
        : `tcp://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
  }

  private accept(client: Socket): void {
    this.accepted++
    const target = parse(this.options.target)
    const server =
      'path' in target
        ? connect({ path: target.path, allowHalfOpen: true })
        : connect({ port: target.port, host: target.host, allowHalfOpen: true })
    client.pause()
    const conn = new ProxiedConnection(client, server, (c) => this.connections.delete(c))
    this.connections.add(conn)
    conn.start(this.current, this.random)
    server.once('connect', () => client.resume())
  }

  /** Sets the faults for connections accepted from now on ({} = none). */
  plan(plan: FaultPlan): void {
    this.current = plan
  }

  /** Cuts every open connection now. */
  cutAll(): void {
    for (const c of [...this.connections]) c.cut()
  }

  /** Releases every stalled connection. */
  resume(): void {
    for (const c of this.connections) c.resume()
  }

  /** Stops accepting and cuts every connection. */
  async close(): Promise<void> {
    this.cutAll()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

/** Starts a fault-injection proxy from `listen` to `target`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new FaultProxy(options)
  await proxy.start()
  return proxy
}

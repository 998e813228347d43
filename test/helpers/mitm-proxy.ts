/**
 * A man-in-the-middle TCP proxy for the security tests. It forwards bytes between a client and
 * a server and, per connection, tampers as a plan says: flip one bit at an offset found from the
 * stream's layout (preamble, hello, handshake units, records, parsed from the bytes the honest
 * sender sent), or rewrite whole records of one direction (replay, reorder).
 *
 * The client registers a plan under its local port right after connecting (before its first
 * byte), so concurrent cases never mix up their plans.
 */
import { once } from 'node:events'
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'

export type Direction = 'c2s' | 's2c'

/** Where things are in one direction's byte stream (absolute offsets from the first byte). */
export interface Layout {
  /** Offset of the hello's u32 length header (always 6, after the preamble). */
  helloAt: number
  /** Each handshake unit's offset (of its u16 header) and total length (2 + body). */
  units: { start: number; length: number }[]
  /** Where records begin, once every handshake unit of this direction went by. */
  recordsStart: number | undefined
}

export interface ProxyPlan {
  /** Handshake units each direction sends before its records (NNpsk0: c2s 2, s2c 1). */
  handshakeUnits: Record<Direction, number>
  /** Flip one bit of the byte at `at(layout)` (undefined while not yet known). */
  flip?: { dir: Direction; at: (layout: Layout) => number | undefined; bit: number }
  /** Replace each record of `dir` (header included) by what `rewrite` returns. */
  records?: { dir: Direction; rewrite: (index: number, record: Buffer) => Buffer[] }
}

export interface ProxiedConnection {
  /** performance.now() when the flip was applied. */
  flippedAt: number | undefined
  /** Resolves once both the client side and the server side sockets closed. */
  closed: Promise<void>
}

class StreamState {
  readonly layout: Layout = { helloAt: 6, units: [], recordsStart: undefined }
  offset = 0
  private head = Buffer.alloc(0)
  private pendingRecords = Buffer.alloc(0)
  private recordIndex = 0

  constructor(private readonly units: number) {}

  /** Learns the layout from the original bytes of `chunk` (which starts at this.offset). */
  learn(chunk: Buffer): void {
    if (this.layout.recordsStart !== undefined || this.head.length > 65_536) return
    this.head = Buffer.concat([this.head, chunk])
    const h = this.head
    if (h.length < 10) return
    let p = 10 + h.readUInt32BE(6)
    for (const u of this.layout.units) p = u.start + u.length
    while (this.layout.units.length < this.units && h.length >= p + 2) {
      const length = 2 + h.readUInt16BE(p)
      this.layout.units.push({ start: p, length })
      p += length
    }
    if (this.layout.units.length === this.units && h.length >= p) this.layout.recordsStart = p
  }

  /** Splits the bytes of `chunk` at or after recordsStart into whole records, holding a partial one. */
  splitRecords(chunk: Buffer, rewrite: (i: number, r: Buffer) => Buffer[]): Buffer[] {
    const start = this.layout.recordsStart
    if (start === undefined) return [chunk]
    const out: Buffer[] = []
    let from = 0
    if (this.offset < start) {
      from = Math.min(chunk.length, start - this.offset)
      out.push(chunk.subarray(0, from))
    }
    this.pendingRecords = Buffer.concat([this.pendingRecords, chunk.subarray(from)])
    while (this.pendingRecords.length >= 2) {
      const size = 2 + this.pendingRecords.readUInt16BE(0)
      if (this.pendingRecords.length < size) break
      out.push(...rewrite(this.recordIndex++, Buffer.from(this.pendingRecords.subarray(0, size))))
      this.pendingRecords = this.pendingRecords.subarray(size)
    }
    return out
  }
}

export class MitmProxy {
  readonly server: Server
  port = 0
  private readonly plans = new Map<
    number,
    { plan: ProxyPlan; handle: ProxiedConnection & { done(): void } }
  >()
  private readonly sockets = new Set<Socket>()

  private constructor(private readonly targetPort: number) {
    this.server = createServer((client) => this.accept(client))
  }

  static async start(targetPort: number): Promise<MitmProxy> {
    const proxy = new MitmProxy(targetPort)
    proxy.server.listen(0, '127.0.0.1')
    await once(proxy.server, 'listening')
    proxy.port = (proxy.server.address() as { port: number }).port
    return proxy
  }

  /** Registers the plan of the client whose local port is `clientPort` (call before it writes). */
  expect(clientPort: number, plan: ProxyPlan): ProxiedConnection {
    let done!: () => void
    const closed = new Promise<void>((resolve) => {
      done = resolve
    })
    const handle = { flippedAt: undefined as number | undefined, closed, done }
    this.plans.set(clientPort, { plan, handle })
    return handle
  }

  /** Opens a client socket to the proxy and registers `plan` for it before returning it. */
  async dial(
    plan: ProxyPlan,
    localAddress = '127.0.0.1',
  ): Promise<{ socket: Socket; proxied: ProxiedConnection }> {
    const socket = netConnect({ host: '127.0.0.1', port: this.port, localAddress, noDelay: true })
    await once(socket, 'connect')
    return { socket, proxied: this.expect(socket.localPort!, plan) }
  }

  private accept(client: Socket): void {
    const upstream = netConnect({ host: '127.0.0.1', port: this.targetPort, noDelay: true })
    this.sockets.add(client)
    this.sockets.add(upstream)
    let open = 2
    const port = client.remotePort!
    // The plan is looked up by the client's port, then held: once this connection closes, a new
    // client may reuse the port and register its own plan, which must not be taken or deleted.
    let bound: ReturnType<typeof this.plans.get>
    const entry = () => {
      bound ??= this.plans.get(port)
      return bound
    }
    const closedOne = (): void => {
      if (--open > 0) return
      const e = entry()
      e?.handle.done()
      if (e !== undefined && this.plans.get(port) === e) this.plans.delete(port)
    }
    const wire = (from: Socket, to: Socket, dir: Direction): void => {
      let state: StreamState | undefined
      from.on('data', (chunk: Buffer) => {
        const e = entry()
        if (e === undefined) {
          to.write(chunk)
          return
        }
        state ??= new StreamState(e.plan.handshakeUnits[dir])
        state.learn(chunk)
        let data = chunk
        const flip = e.plan.flip
        if (flip?.dir === dir && e.handle.flippedAt === undefined) {
          const at = flip.at(state.layout)
          if (at !== undefined && at >= state.offset && at < state.offset + chunk.length) {
            data = Buffer.from(chunk)
            data[at - state.offset]! ^= 1 << flip.bit
            e.handle.flippedAt = performance.now()
          }
        }
        const parts = e.plan.records?.dir === dir ? state.splitRecords(data, e.plan.records.rewrite) : [data]
        state.offset += chunk.length
        for (const part of parts) if (part.length > 0) to.write(part)
      })
      from.on('end', () => to.end())
      from.on('error', () => to.destroy())
      from.on('close', () => {
        to.destroy()
        this.sockets.delete(from)
        closedOne()
      })
    }
    wire(client, upstream, 'c2s')
    wire(upstream, client, 's2c')
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    this.server.close()
    await once(this.server, 'close')
  }
}

/** A small seeded PRNG (mulberry32): the same seed gives the same cases. */
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

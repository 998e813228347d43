/**
 * A scripted peer for tests (STYLE.md practice 13): one raw Transport end that speaks a valid
 * preamble and hello and then sends exactly what the test says (nothing at all, pings in a
 * tight loop, malformed records, hand-made frames) while recording everything the other side
 * sends back. It runs no Mux: it never answers, grants credit or pings unless told to.
 *
 *   const [mine, theirs] = memoryPair()
 *   const peer = new ScriptedPeer(theirs, { role: 'listener' })
 *   const session = await Session.establish(mine, 'dialer', {}, handler)
 *   peer.sendFrames([{ type: 'ping', data: new Uint8Array(8) }])
 *   await once(peer, 'close')
 *
 * Events: 'data' (each raw chunk received, before decoding), 'hello' (the other side's Hello),
 * 'frame' (each Frame it sent, in order), 'close' (the transport closed; the error, if any). Frames are decoded from plain (uncompressed,
 * unencrypted) records; anything else stops decoding and is kept in `decodeError`.
 */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { SwitchboardError } from '../errors.ts'
import { defaultMuxLimits, limitsToSettings, type MuxLimits } from '../mux/limits.ts'
import { defaultHandshakeLimits } from '../session/handshake-limits.ts'
import type { Transport } from '../transport/types.ts'
import { MAX_RECORD_BODY, PREAMBLE_BYTES, PROTOCOL_MAJOR, PROTOCOL_MINOR } from '../wire/constants.ts'
import type { Frame } from '../wire/frame.ts'
import { readFrames } from '../wire/frame-decode.ts'
import { encodeFrame } from '../wire/frame-encode.ts'
import {
  decodeHello,
  decodePreamble,
  encodeHello,
  encodePreamble,
  frameHello,
  type Hello,
  type Preamble,
} from '../wire/hello.ts'
import { UnitReader } from '../wire/unit-reader.ts'

export interface ScriptedPeerOptions {
  /** The role this peer claims in its hello (the other side must take the other). Default 'listener'. */
  role?: 'dialer' | 'listener'
  /** Receive limits announced in the hello, merged over the defaults (bytes, counts, ms). */
  limits?: Partial<MuxLimits>
  /** Hello fields that replace the defaults (codecs, compression, security, versions…). */
  hello?: Partial<Hello>
  /** Send the preamble and hello at once. Default true; false leaves every byte to the script. */
  greet?: boolean
  /** Answer each PING with a PONG. Default false: a silent peer stays silent. */
  answerPings?: boolean
  /** Largest hello accepted from the other side before decoding stops, bytes. Default 64 KiB. */
  maxHelloBytes?: number
}

export class ScriptedPeer extends EventEmitter {
  readonly transport: Transport
  /** The hello this peer sent (encoded body). */
  readonly localHello: Uint8Array
  /** What the other side sent: its preamble, its hello, then every frame in order. */
  preamble: Preamble | undefined
  hello: Hello | undefined
  readonly frames: Frame[] = []
  /** Raw bytes received, in total. */
  bytesIn = 0
  /** Records received after the hello. */
  recordsIn = 0
  /** The first thing that could not be decoded; decoding stops there. */
  decodeError: SwitchboardError | undefined
  /** Set once the transport closed: `closeError` is its error, if any. */
  closed = false
  closeError: Error | undefined
  /** Resolves with the close error (or undefined) when the transport closed. */
  readonly done: Promise<Error | undefined>

  private readonly reader = new UnitReader()
  private readonly options: ScriptedPeerOptions

  constructor(transport: Transport, options: ScriptedPeerOptions = {}) {
    super()
    this.transport = transport
    this.options = options
    const limits = { ...defaultMuxLimits, ...options.limits }
    this.localHello = encodeHello({
      versions: [PROTOCOL_MAJOR],
      role: options.role ?? 'listener',
      linkId: new Uint8Array(randomBytes(16)),
      codecs: ['msgpack', 'json'],
      compression: [],
      security: ['none'],
      limits: limitsToSettings(limits),
      protocols: [],
      ...options.hello,
    })
    let resolveDone!: (err: Error | undefined) => void
    this.done = new Promise((resolve) => {
      resolveDone = resolve
    })
    transport.bind({
      data: (chunk) => this.onData(chunk),
      drain: () => this.emit('drain'),
      close: (err) => {
        this.closed = true
        this.closeError = err
        resolveDone(err)
        this.emit('close', err)
      },
    })
    if (options.greet ?? true) this.greet()
  }

  /** Sends the preamble and the hello (done by the constructor unless `greet: false`). */
  greet(): boolean {
    return this.sendRaw(
      encodePreamble({ major: PROTOCOL_MAJOR, minor: PROTOCOL_MINOR }),
      frameHello(this.localHello),
    )
  }

  /** Sends bytes exactly as given. Returns the transport's backpressure answer. */
  sendRaw(...chunks: Uint8Array[]): boolean {
    return this.transport.write(chunks)
  }

  /** Sends one record: u16 length, then `plaintext` (which must start with the record flags byte). */
  sendRecord(plaintext: Uint8Array): boolean {
    const header = Uint8Array.of(plaintext.length >>> 8, plaintext.length & 0xff)
    return this.sendRaw(header, plaintext)
  }

  /** Sends `frames` in one plain record (record flags `flags`, default 0). */
  sendFrames(frames: readonly Frame[], flags = 0): boolean {
    const parts = frames.map(encodeFrame)
    const plain = new Uint8Array(1 + parts.reduce((n, p) => n + p.length, 0))
    plain[0] = flags
    let pos = 1
    for (const p of parts) {
      plain.set(p, pos)
      pos += p.length
    }
    return this.sendRecord(plain)
  }

  /** Sends `count` PINGs, each in its own record, in one tight loop. */
  floodPings(count: number): void {
    for (let i = 0; i < count; i++) this.sendFrames([pingFrame(i)])
  }

  /** The frames received so far of one type. */
  framesOf<T extends Frame['type']>(type: T): Array<Frame & { type: T }> {
    return this.frames.filter((f): f is Frame & { type: T } => f.type === type)
  }

  close(): void {
    this.transport.close()
  }

  abort(err?: Error): void {
    this.transport.abort(err)
  }

  private onData(chunk: Uint8Array): void {
    this.bytesIn += chunk.length
    this.emit('data', chunk)
    if (this.decodeError !== undefined) return
    this.reader.push(chunk)
    try {
      this.decode()
    } catch (err) {
      this.decodeError =
        err instanceof SwitchboardError ? err : new SwitchboardError('INTERNAL', String(err), { cause: err })
      this.emit('decodeError', this.decodeError)
    }
  }

  private decode(): void {
    if (this.preamble === undefined) {
      const bytes = this.reader.take(PREAMBLE_BYTES)
      if (bytes === undefined) return
      this.preamble = decodePreamble(bytes)
    }
    if (this.hello === undefined) {
      const body = this.reader.takeUnit(
        4,
        this.options.maxHelloBytes ?? defaultHandshakeLimits.maxHelloBytes,
        'HELLO_TOO_LARGE',
      )
      if (body === undefined) return
      this.hello = decodeHello(body)
      this.emit('hello', this.hello)
    }
    for (;;) {
      const body = this.reader.takeUnit(2, MAX_RECORD_BODY, 'FRAME_TOO_LARGE')
      if (body === undefined) return
      this.recordsIn++
      if (body[0] !== 0) {
        throw new SwitchboardError('FRAME_MALFORMED', `record flags 0x${body[0]!.toString(16)}: not plain`)
      }
      for (const frame of readFrames(body, 1)) {
        this.frames.push(frame)
        if (frame.type === 'ping' && this.options.answerPings === true) {
          this.sendFrames([{ type: 'pong', data: frame.data.slice() }])
        }
        this.emit('frame', frame)
      }
    }
  }
}

/** A PING frame whose 8 bytes end with `n`. */
export function pingFrame(n = 0): Frame {
  const data = new Uint8Array(8)
  new DataView(data.buffer).setUint32(4, n >>> 0)
  return { type: 'ping', data }
}

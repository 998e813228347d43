/**
 * Two pure Mux instances wired by hand: `pump` drains one side, sends every frame through the
 * wire codec (encode, then decode) and feeds it to the other side. Time is a number the test
 * passes in; nothing here touches timers.
 */
import assert from 'node:assert/strict'
import type { ErrorCode, SwitchboardError } from '../../../src/errors.ts'
import type { Channel, ChannelHandler, OpenHeader } from '../../../src/mux/channel.ts'
import { defaultMuxLimits, type MuxLimits } from '../../../src/mux/limits.ts'
import { Mux } from '../../../src/mux/mux.ts'
import type { Frame } from '../../../src/wire/frame.ts'
import { readFrames } from '../../../src/wire/frame-decode.ts'
import { encodeFrame } from '../../../src/wire/frame-encode.ts'

export function limits(o: Partial<MuxLimits> = {}): MuxLimits {
  return { ...defaultMuxLimits, ...o }
}

/** What an incoming channel's handler does with received bytes. */
export type IncomingMode = 'hold' | 'consume' | 'echo'

/** Records everything that happens on one channel. */
export class Recorder implements ChannelHandler {
  readonly chunks: Uint8Array[] = []
  bytes = 0
  fin = false
  ends: Array<{ status: number; detail: Uint8Array }> = []
  resets: number[] = []
  writables = 0
  /** Bytes received and not yet returned with consume(). */
  unconsumed = 0

  constructor(
    readonly ch: Channel,
    public mode: IncomingMode,
  ) {
    ch.bind(this)
  }

  onData(data: Uint8Array, fin: boolean): void {
    this.chunks.push(data.slice())
    this.bytes += data.length
    if (fin) this.fin = true
    if (this.mode === 'hold') {
      this.unconsumed += data.length
    } else {
      this.ch.consume(data.length)
      if (this.mode === 'echo') {
        if (data.length > 0) this.ch.write(data.slice())
        if (fin) this.ch.end()
      }
    }
  }

  onEnd(status: number, detail: Uint8Array): void {
    this.ends.push({ status, detail: detail.slice() })
  }

  onReset(code: number): void {
    this.resets.push(code)
  }

  onWritable(): void {
    this.writables++
  }

  /** Returns every held byte to the peer and consumes from now on. */
  release(): void {
    this.mode = 'consume'
    const n = this.unconsumed
    this.unconsumed = 0
    this.ch.consume(n)
  }

  body(): Buffer {
    return Buffer.concat(this.chunks)
  }
}

export class Side {
  readonly mux: Mux
  readonly fatal: SwitchboardError[] = []
  readonly goaways: Array<[number, ErrorCode]> = []
  readonly names: Array<[number, string]> = []
  /** Channels the peer opened, in arrival order. */
  readonly incoming: Recorder[] = []
  flushes = 0
  incomingMode: IncomingMode = 'consume'

  constructor(role: 'dialer' | 'listener', local: MuxLimits, remote: MuxLimits, now = 0) {
    this.mux = new Mux(
      { role, local, remote, now },
      {
        onChannel: (ch) => {
          this.incoming.push(new Recorder(ch, this.incomingMode))
        },
        onName: (id, name) => {
          this.names.push([id, name])
        },
        onGoaway: (last, code) => {
          this.goaways.push([last, code])
        },
        onFlush: () => {
          this.flushes++
        },
        onFatal: (err) => {
          this.fatal.push(err)
        },
      },
    )
  }

  /** Opens a local channel with a recorder bound. */
  open(header: Partial<OpenHeader> = {}): Recorder {
    const ch = this.mux.open({ kind: 0, method: 1, messageId: 0, ...header })
    return new Recorder(ch, 'consume')
  }

  /** Feeds hand-made frames as if they arrived from the peer (through the codec). */
  feed(frames: Frame[], now = 0): void {
    this.mux.noteReceived(now)
    for (const f of roundTrip(frames)) this.mux.receive(f, now)
  }

  /** Drains and returns the frames (without sending them anywhere). */
  take(now = 0, budget = 256 * 1024): Frame[] {
    return this.mux.drain(now, budget)
  }
}

export interface Pair {
  a: Side
  b: Side
}

/** A dialer `a` and a listener `b` that know each other's limits. */
export function makePair(aLimits: MuxLimits = limits(), bLimits: MuxLimits = aLimits): Pair {
  return {
    a: new Side('dialer', aLimits, bLimits),
    b: new Side('listener', bLimits, aLimits),
  }
}

/** Frames as the peer decodes them: encoded, concatenated, decoded again. */
export function roundTrip(frames: readonly Frame[]): Frame[] {
  if (frames.length === 0) return []
  const parts = frames.map(encodeFrame)
  const buf = new Uint8Array(parts.reduce((n, part) => n + part.length, 0))
  let pos = 0
  for (const part of parts) {
    buf.set(part, pos)
    pos += part.length
  }
  return readFrames(buf)
}

/** One drain of `from` delivered to `to`; returns the frames as sent. */
export function pump(from: Side, to: Side, now = 0, budget = 256 * 1024): Frame[] {
  const frames = from.mux.drain(now, budget)
  if (frames.length > 0) to.feed(frames, now)
  return frames
}

/**
 * Pumps both ways until neither side has output. `check` runs after every delivery (for
 * invariants that must hold at every step). Returns the number of rounds.
 */
export function settle(p: Pair, check?: () => void, now = 0, maxRounds = 10_000): number {
  for (let round = 1; round <= maxRounds; round++) {
    const ab = pump(p.a, p.b, now)
    check?.()
    const ba = pump(p.b, p.a, now)
    check?.()
    if (ab.length === 0 && ba.length === 0 && !p.a.mux.hasOutput && !p.b.mux.hasOutput) return round
  }
  assert.fail(`no quiescence after ${maxRounds} rounds`)
}

/** Bytes 0..n-1 of a deterministic pattern distinct per `seed`. */
export function pattern(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n)
  let x = seed * 2654435761
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

export function openFrame(channel: number, data: Uint8Array = new Uint8Array(0), fin = false): Frame {
  return { type: 'open', channel, fin, oneWay: false, kind: 0, method: 1, messageId: channel, data }
}

export function dataFrame(channel: number, data: Uint8Array, fin = false): Frame {
  return { type: 'data', channel, fin, data }
}

export function ping(n = 0): Frame {
  const data = new Uint8Array(8)
  data[7] = n & 0xff
  return { type: 'ping', data }
}

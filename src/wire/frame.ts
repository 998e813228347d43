/**
 * Frames: the units a record carries. Layout (docs/protocol.md §Frames):
 *
 *   u8 type | u8 flags | varint channel | varint length | payload[length]
 *
 * Frames never span records, so a frame is decoded from a complete record plaintext: running
 * past the end is FRAME_MALFORMED, not "need more bytes".
 */
import { sbError } from '../errors.ts'
import { FrameFlag, FrameType, WireLimits } from './constants.ts'
import { Cursor } from './cursor.ts'
import { varintSize, writeVarint } from './varint.ts'

export interface OpenFrame {
  type: 'open'
  channel: number
  fin: boolean
  /** One-way: the receiver sends nothing back on this channel. */
  oneWay: boolean
  /** MessageKind value; opaque to wire/ and mux/. */
  kind: number
  /** Id of the method or topic name in the sender's name table. */
  method: number
  /** Link-level message id (stable across resends, used for dedupe). */
  messageId: number
  /** Remaining deadline in ms when the frame was written. */
  deadlineMs?: number | undefined
  /** Opaque trace context, passed through. */
  trace?: Uint8Array | undefined
  /** Total body size in bytes when the sender knows it. */
  totalSize?: number | undefined
  data: Uint8Array
}
export interface DataFrame {
  type: 'data'
  channel: number
  fin: boolean
  data: Uint8Array
}
export interface EndFrame {
  type: 'end'
  channel: number
  /** 0 = ok, else a wire error code. */
  status: number
  detail: Uint8Array
}
export interface ResetFrame {
  type: 'reset'
  channel: number
  code: number
}
export interface CreditFrame {
  type: 'credit'
  /** 0 = the connection window. */
  channel: number
  increment: number
}
export interface PingFrame {
  type: 'ping' | 'pong'
  /** Exactly 8 opaque bytes. */
  data: Uint8Array
}
export interface GoawayFrame {
  type: 'goaway'
  /** Highest channel id opened by the receiver of this frame that the sender processed. */
  lastChannel: number
  code: number
}
export interface SettingsFrame {
  type: 'settings'
  ack: boolean
  values: ReadonlyArray<readonly [key: number, value: number]>
}
export interface NameFrame {
  type: 'name'
  id: number
  name: string
}
/** A frame type this implementation does not know; a receiver skips it (forward compatibility). */
export interface UnknownFrame {
  type: 'unknown'
  typeByte: number
  flags: number
  channel: number
  payload: Uint8Array
}

export type Frame =
  | OpenFrame
  | DataFrame
  | EndFrame
  | ResetFrame
  | CreditFrame
  | PingFrame
  | GoawayFrame
  | SettingsFrame
  | NameFrame
  | UnknownFrame

const utf8 = new TextEncoder()
// ignoreBOM: a leading U+FEFF is part of the name, not a byte-order mark to strip.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Bytes of the frame's payload, excluding the trailing body of OPEN/DATA. */
function fixedPayloadSize(frame: Frame): number {
  switch (frame.type) {
    case 'open': {
      let n = varintSize(frame.kind) + varintSize(frame.method) + varintSize(frame.messageId)
      if (frame.deadlineMs !== undefined) n += varintSize(frame.deadlineMs)
      if (frame.trace !== undefined) n += varintSize(frame.trace.length) + frame.trace.length
      if (frame.totalSize !== undefined) n += varintSize(frame.totalSize)
      return n
    }
    case 'data':
      return 0
    case 'end':
      return varintSize(frame.status) + frame.detail.length
    case 'reset':
      return varintSize(frame.code)
    case 'credit':
      return varintSize(frame.increment)
    case 'ping':
    case 'pong':
      return 8
    case 'goaway':
      return varintSize(frame.lastChannel) + varintSize(frame.code)
    case 'settings': {
      let n = 0
      for (const [k, v] of frame.values) n += varintSize(k) + varintSize(v)
      return n
    }
    case 'name':
      return varintSize(frame.id) + utf8.encode(frame.name).length
    case 'unknown':
      return frame.payload.length
  }
}

function typeByteOf(frame: Frame): number {
  switch (frame.type) {
    case 'open':
      return FrameType.OPEN
    case 'data':
      return FrameType.DATA
    case 'end':
      return FrameType.END
    case 'reset':
      return FrameType.RESET
    case 'credit':
      return FrameType.CREDIT
    case 'ping':
      return FrameType.PING
    case 'pong':
      return FrameType.PONG
    case 'goaway':
      return FrameType.GOAWAY
    case 'settings':
      return FrameType.SETTINGS
    case 'name':
      return FrameType.NAME
    case 'unknown':
      return frame.typeByte
  }
}

function flagsOf(frame: Frame): number {
  switch (frame.type) {
    case 'open':
      return (
        (frame.fin ? FrameFlag.FIN : 0) |
        (frame.oneWay ? FrameFlag.ONE_WAY : 0) |
        (frame.deadlineMs !== undefined ? FrameFlag.HAS_DEADLINE : 0) |
        (frame.trace !== undefined ? FrameFlag.HAS_TRACE : 0) |
        (frame.totalSize !== undefined ? FrameFlag.HAS_SIZE : 0)
      )
    case 'data':
      return frame.fin ? FrameFlag.FIN : 0
    case 'settings':
      return frame.ack ? FrameFlag.ACK : 0
    case 'unknown':
      return frame.flags
    default:
      return 0
  }
}

function channelOf(frame: Frame): number {
  return 'channel' in frame ? frame.channel : 0
}

/** Length of the trailing body (OPEN and DATA carry message bytes after their fixed fields). */
export function bodyOf(frame: Frame): Uint8Array | undefined {
  return frame.type === 'open' || frame.type === 'data' ? frame.data : undefined
}

/** Size of the frame's header: everything except the trailing OPEN/DATA body. */
export function frameHeaderSize(frame: Frame): number {
  const body = bodyOf(frame)
  const payload = fixedPayloadSize(frame) + (body?.length ?? 0)
  return 2 + varintSize(channelOf(frame)) + varintSize(payload) + fixedPayloadSize(frame)
}

/** Total encoded size of the frame. */
export function frameSize(frame: Frame): number {
  return frameHeaderSize(frame) + (bodyOf(frame)?.length ?? 0)
}

/**
 * Writes the frame's header (and every field except the OPEN/DATA body) at `offset`; returns the
 * offset after it. The caller appends `bodyOf(frame)` itself, which lets a record reference large
 * bodies without copying them.
 */
export function writeFrameHeader(frame: Frame, buf: Uint8Array, offset: number): number {
  const fixed = fixedPayloadSize(frame)
  const body = bodyOf(frame)
  let pos = offset
  buf[pos++] = typeByteOf(frame)
  buf[pos++] = flagsOf(frame)
  pos = writeVarint(buf, pos, channelOf(frame))
  pos = writeVarint(buf, pos, fixed + (body?.length ?? 0))
  switch (frame.type) {
    case 'open':
      pos = writeVarint(buf, pos, frame.kind)
      pos = writeVarint(buf, pos, frame.method)
      pos = writeVarint(buf, pos, frame.messageId)
      if (frame.deadlineMs !== undefined) pos = writeVarint(buf, pos, frame.deadlineMs)
      if (frame.trace !== undefined) {
        pos = writeVarint(buf, pos, frame.trace.length)
        buf.set(frame.trace, pos)
        pos += frame.trace.length
      }
      if (frame.totalSize !== undefined) pos = writeVarint(buf, pos, frame.totalSize)
      break
    case 'data':
      break
    case 'end':
      pos = writeVarint(buf, pos, frame.status)
      buf.set(frame.detail, pos)
      pos += frame.detail.length
      break
    case 'reset':
      pos = writeVarint(buf, pos, frame.code)
      break
    case 'credit':
      pos = writeVarint(buf, pos, frame.increment)
      break
    case 'ping':
    case 'pong':
      if (frame.data.length !== 8) throw sbError('INVALID_ARGUMENT', 'ping data must be 8 bytes')
      buf.set(frame.data, pos)
      pos += 8
      break
    case 'goaway':
      pos = writeVarint(buf, pos, frame.lastChannel)
      pos = writeVarint(buf, pos, frame.code)
      break
    case 'settings':
      for (const [k, v] of frame.values) {
        pos = writeVarint(buf, pos, k)
        pos = writeVarint(buf, pos, v)
      }
      break
    case 'name': {
      pos = writeVarint(buf, pos, frame.id)
      const bytes = utf8.encode(frame.name)
      buf.set(bytes, pos)
      pos += bytes.length
      break
    }
    case 'unknown':
      buf.set(frame.payload, pos)
      pos += frame.payload.length
      break
  }
  return pos
}

/** Encodes one frame into a fresh buffer (tests, golden vectors; the hot path uses writeFrameHeader). */
export function encodeFrame(frame: Frame): Uint8Array {
  const out = new Uint8Array(frameSize(frame))
  const pos = writeFrameHeader(frame, out, 0)
  const body = bodyOf(frame)
  if (body !== undefined) out.set(body, pos)
  return out
}

function requireConnectionLevel(type: string, channel: number): void {
  if (channel !== 0) throw sbError('FRAME_MALFORMED', `${type} frame on channel ${channel}, must be 0`)
}

function requireNoFlags(type: string, flags: number, allowed: number): void {
  if ((flags & ~allowed) !== 0)
    throw sbError('FRAME_MALFORMED', `${type} frame has unknown flags 0x${flags.toString(16)}`)
}

/**
 * Decodes one frame at the cursor. Byte views in the result point into the cursor's buffer (no
 * copy): a consumer that keeps them past the record's lifetime must copy.
 */
export function readFrame(cur: Cursor): Frame {
  const typeByte = cur.u8()
  const flags = cur.u8()
  const channel = cur.varint()
  const length = cur.varint()
  if (length > cur.remaining) throw sbError('FRAME_MALFORMED', `frame of ${length} bytes overruns its record`)
  const end = cur.pos + length
  const p = new Cursor(cur.buf, cur.pos, end)
  cur.pos = end
  let frame: Frame
  switch (typeByte) {
    case FrameType.OPEN: {
      requireNoFlags(
        'OPEN',
        flags,
        FrameFlag.FIN | FrameFlag.HAS_DEADLINE | FrameFlag.HAS_TRACE | FrameFlag.HAS_SIZE | FrameFlag.ONE_WAY,
      )
      if (channel === 0) throw sbError('FRAME_MALFORMED', 'OPEN on channel 0')
      const kind = p.varint()
      const method = p.varint()
      const messageId = p.varint()
      const deadlineMs = flags & FrameFlag.HAS_DEADLINE ? p.varint() : undefined
      const trace =
        flags & FrameFlag.HAS_TRACE ? p.bytes(p.length(WireLimits.maxTraceBytes, 'trace')) : undefined
      const totalSize = flags & FrameFlag.HAS_SIZE ? p.varint() : undefined
      const data = p.bytes(p.remaining)
      frame = {
        type: 'open',
        channel,
        fin: (flags & FrameFlag.FIN) !== 0,
        oneWay: (flags & FrameFlag.ONE_WAY) !== 0,
        kind,
        method,
        messageId,
        data,
      }
      if (deadlineMs !== undefined) frame.deadlineMs = deadlineMs
      if (trace !== undefined) frame.trace = trace
      if (totalSize !== undefined) frame.totalSize = totalSize
      return frame
    }
    case FrameType.DATA:
      requireNoFlags('DATA', flags, FrameFlag.FIN)
      if (channel === 0) throw sbError('FRAME_MALFORMED', 'DATA on channel 0')
      return { type: 'data', channel, fin: (flags & FrameFlag.FIN) !== 0, data: p.bytes(p.remaining) }
    case FrameType.END: {
      requireNoFlags('END', flags, 0)
      if (channel === 0) throw sbError('FRAME_MALFORMED', 'END on channel 0')
      const status = p.varint()
      if (p.remaining > WireLimits.maxDetailBytes) throw sbError('FRAME_TOO_LARGE', 'END detail too large')
      frame = { type: 'end', channel, status, detail: p.bytes(p.remaining) }
      break
    }
    case FrameType.RESET:
      requireNoFlags('RESET', flags, 0)
      if (channel === 0) throw sbError('FRAME_MALFORMED', 'RESET on channel 0')
      frame = { type: 'reset', channel, code: p.varint() }
      break
    case FrameType.CREDIT: {
      requireNoFlags('CREDIT', flags, 0)
      const increment = p.varint()
      if (increment === 0) throw sbError('FRAME_MALFORMED', 'CREDIT with zero increment')
      frame = { type: 'credit', channel, increment }
      break
    }
    case FrameType.PING:
    case FrameType.PONG:
      requireNoFlags('PING', flags, 0)
      requireConnectionLevel('PING', channel)
      if (p.remaining !== 8) throw sbError('FRAME_MALFORMED', 'PING/PONG payload must be 8 bytes')
      return { type: typeByte === FrameType.PING ? 'ping' : 'pong', data: p.bytes(8) }
    case FrameType.GOAWAY:
      requireNoFlags('GOAWAY', flags, 0)
      requireConnectionLevel('GOAWAY', channel)
      frame = { type: 'goaway', lastChannel: p.varint(), code: p.varint() }
      break
    case FrameType.SETTINGS: {
      requireNoFlags('SETTINGS', flags, FrameFlag.ACK)
      requireConnectionLevel('SETTINGS', channel)
      const values: [number, number][] = []
      while (p.remaining > 0) values.push([p.varint(), p.varint()])
      frame = { type: 'settings', ack: (flags & FrameFlag.ACK) !== 0, values }
      break
    }
    case FrameType.NAME: {
      requireNoFlags('NAME', flags, 0)
      requireConnectionLevel('NAME', channel)
      const id = p.varint()
      if (p.remaining > WireLimits.maxNameBytes) throw sbError('FRAME_TOO_LARGE', 'name too long')
      let name: string
      try {
        name = utf8Decoder.decode(p.bytes(p.remaining))
      } catch (cause) {
        throw sbError('FRAME_MALFORMED', 'name is not valid UTF-8', { cause })
      }
      frame = { type: 'name', id, name }
      break
    }
    default:
      return { type: 'unknown', typeByte, flags, channel, payload: p.bytes(p.remaining) }
  }
  if (p.remaining !== 0)
    throw sbError('FRAME_MALFORMED', `${frame.type} frame has ${p.remaining} trailing bytes`)
  return frame
}

/** Decodes every frame of a complete record plaintext (after the record flags byte). */
export function readFrames(buf: Uint8Array, start = 0, end = buf.length): Frame[] {
  const cur = new Cursor(buf, start, end)
  const frames: Frame[] = []
  while (cur.remaining > 0) frames.push(readFrame(cur))
  return frames
}

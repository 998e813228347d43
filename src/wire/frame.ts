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
  /** Connection credit only (channel 0): messages the sender has accepted so far, cumulative. */
  processed?: number | undefined
}
export interface PingFrame {
  type: 'ping' | 'pong'
  /** Exactly 8 opaque bytes. */
  data: Uint8Array
}
export interface GoawayFrame {
  type: 'goaway'
  /**
   * How many messages (MSG frames and OPENs other than RESPONSE, counted from 1 in arrival order)
   * the sender accepted from the receiver of this frame; later ones were refused unprocessed.
   */
  lastProcessed: number
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
  /** The name's UTF-8 bytes, when the sender already has them (encoded once, not per pass). */
  bytes?: Uint8Array | undefined
}
/** A whole message in one frame (no channel): the hot path of small messages. */
export interface MsgFrame {
  type: 'msg'
  /** MessageKind | BodyFlag bits; opaque to wire/. */
  kind: number
  method: number
  messageId: number
  deadlineMs?: number | undefined
  trace?: Uint8Array | undefined
  data: Uint8Array
}
/** The whole response to a request in one frame. */
export interface ReplyFrame {
  type: 'reply'
  /** The request's message id. */
  messageId: number
  /** 0 = ok (data is the result), else a wire error code (data is the UTF-8 JSON error detail). */
  status: number
  /** The result is raw bytes, not a codec-encoded value. */
  raw: boolean
  data: Uint8Array
}
/** The caller gives up on a request. */
export interface CancelFrame {
  type: 'cancel'
  messageId: number
  code: number
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
  | MsgFrame
  | ReplyFrame
  | CancelFrame
  | UnknownFrame

const utf8 = new TextEncoder()
const EMPTY = new Uint8Array(0)
const payloadCursor = new Cursor(EMPTY)
// ignoreBOM: a leading U+FEFF is part of the name, not a byte-order mark to strip.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function nameBytes(frame: NameFrame): Uint8Array {
  return frame.bytes ?? utf8.encode(frame.name)
}

/** Bytes of the frame's payload, excluding the trailing body of OPEN/DATA/MSG/REPLY. */
export function fixedPayloadSize(frame: Frame): number {
  switch (frame.type) {
    case 'msg':
    case 'open': {
      let n = varintSize(frame.kind) + varintSize(frame.method) + varintSize(frame.messageId)
      if (frame.deadlineMs !== undefined) n += varintSize(frame.deadlineMs)
      if (frame.trace !== undefined) n += varintSize(frame.trace.length) + frame.trace.length
      if (frame.type === 'open' && frame.totalSize !== undefined) n += varintSize(frame.totalSize)
      return n
    }
    case 'data':
      return 0
    case 'reply':
      return varintSize(frame.messageId) + varintSize(frame.status)
    case 'cancel':
      return varintSize(frame.messageId) + varintSize(frame.code)
    case 'end':
      return varintSize(frame.status) + frame.detail.length
    case 'reset':
      return varintSize(frame.code)
    case 'credit':
      return varintSize(frame.increment) + (frame.channel === 0 ? varintSize(frame.processed ?? 0) : 0)
    case 'ping':
    case 'pong':
      return 8
    case 'goaway':
      return varintSize(frame.lastProcessed) + varintSize(frame.code)
    case 'settings': {
      let n = 0
      for (const [k, v] of frame.values) n += varintSize(k) + varintSize(v)
      return n
    }
    case 'name':
      return varintSize(frame.id) + nameBytes(frame).length
    case 'unknown':
      return frame.payload.length
  }
}

const typeBytes: Record<Exclude<Frame['type'], 'unknown'>, number> = {
  open: FrameType.OPEN,
  data: FrameType.DATA,
  end: FrameType.END,
  reset: FrameType.RESET,
  credit: FrameType.CREDIT,
  ping: FrameType.PING,
  pong: FrameType.PONG,
  goaway: FrameType.GOAWAY,
  settings: FrameType.SETTINGS,
  name: FrameType.NAME,
  msg: FrameType.MSG,
  reply: FrameType.REPLY,
  cancel: FrameType.CANCEL,
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
    case 'msg':
      return (
        (frame.deadlineMs !== undefined ? FrameFlag.HAS_DEADLINE : 0) |
        (frame.trace !== undefined ? FrameFlag.HAS_TRACE : 0)
      )
    case 'reply':
      return frame.raw ? FrameFlag.RAW : 0
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

/** The trailing message bytes of OPEN, DATA, MSG and REPLY (written after the fixed fields). */
export function bodyOf(frame: Frame): Uint8Array | undefined {
  switch (frame.type) {
    case 'open':
    case 'data':
    case 'msg':
    case 'reply':
      return frame.data
    default:
      return undefined
  }
}

/**
 * Size of the frame's header: everything except the trailing body. Pass `fixed` when the caller
 * already has `fixedPayloadSize(frame)`, so a frame is sized once per flush.
 */
export function frameHeaderSize(frame: Frame, fixed = fixedPayloadSize(frame)): number {
  const payload = fixed + (bodyOf(frame)?.length ?? 0)
  return 2 + varintSize(channelOf(frame)) + varintSize(payload) + fixed
}

/** Total encoded size of the frame. */
export function frameSize(frame: Frame): number {
  return frameHeaderSize(frame) + (bodyOf(frame)?.length ?? 0)
}

/**
 * Writes the frame's header (and every field except the trailing body) at `offset`; returns the
 * offset after it. The caller appends `bodyOf(frame)` itself, which lets a record reference large
 * bodies without copying them. `fixed` as for frameHeaderSize.
 */
export function writeFrameHeader(
  frame: Frame,
  buf: Uint8Array,
  offset: number,
  fixed = fixedPayloadSize(frame),
): number {
  const body = bodyOf(frame)
  let pos = offset
  buf[pos++] = frame.type === 'unknown' ? frame.typeByte : typeBytes[frame.type]
  buf[pos++] = flagsOf(frame)
  pos = writeVarint(buf, pos, channelOf(frame))
  pos = writeVarint(buf, pos, fixed + (body?.length ?? 0))
  switch (frame.type) {
    case 'msg':
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
      if (frame.type === 'open' && frame.totalSize !== undefined) pos = writeVarint(buf, pos, frame.totalSize)
      break
    case 'data':
      break
    case 'reply':
      pos = writeVarint(buf, pos, frame.messageId)
      pos = writeVarint(buf, pos, frame.status)
      break
    case 'cancel':
      pos = writeVarint(buf, pos, frame.messageId)
      pos = writeVarint(buf, pos, frame.code)
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
      if (frame.channel === 0) pos = writeVarint(buf, pos, frame.processed ?? 0)
      break
    case 'ping':
    case 'pong':
      if (frame.data.length !== 8) throw sbError('INVALID_ARGUMENT', 'ping data must be 8 bytes')
      buf.set(frame.data, pos)
      pos += 8
      break
    case 'goaway':
      pos = writeVarint(buf, pos, frame.lastProcessed)
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
      const bytes = nameBytes(frame)
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
  // One payload cursor for every frame: readFrame does not re-enter, and a frame keeps views of
  // the buffer, never the cursor.
  const p = payloadCursor.reset(cur.buf, cur.pos, end)
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
    case FrameType.MSG: {
      requireNoFlags('MSG', flags, FrameFlag.HAS_DEADLINE | FrameFlag.HAS_TRACE)
      requireConnectionLevel('MSG', channel)
      const kind = p.varint()
      const method = p.varint()
      const messageId = p.varint()
      const msg: MsgFrame = { type: 'msg', kind, method, messageId, data: EMPTY }
      if (flags & FrameFlag.HAS_DEADLINE) msg.deadlineMs = p.varint()
      if (flags & FrameFlag.HAS_TRACE) msg.trace = p.bytes(p.length(WireLimits.maxTraceBytes, 'trace'))
      msg.data = p.bytes(p.remaining)
      return msg
    }
    case FrameType.REPLY: {
      requireNoFlags('REPLY', flags, FrameFlag.RAW)
      requireConnectionLevel('REPLY', channel)
      const messageId = p.varint()
      const status = p.varint()
      if (status !== 0 && p.remaining > WireLimits.maxDetailBytes)
        throw sbError('FRAME_TOO_LARGE', 'REPLY error detail too large')
      return {
        type: 'reply',
        messageId,
        status,
        raw: (flags & FrameFlag.RAW) !== 0,
        data: p.bytes(p.remaining),
      }
    }
    case FrameType.CANCEL:
      requireNoFlags('CANCEL', flags, 0)
      requireConnectionLevel('CANCEL', channel)
      frame = { type: 'cancel', messageId: p.varint(), code: p.varint() }
      break
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
      if (channel === 0) {
        frame = { type: 'credit', channel, increment, processed: p.varint() }
        break
      }
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
      frame = { type: 'goaway', lastProcessed: p.varint(), code: p.varint() }
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

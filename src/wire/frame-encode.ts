/**
 * Encoding frames: each frame's size is computed once per pass (`fixedPayloadSize`, then passed
 * to `frameHeaderSize` and `writeFrameHeader`), and bodies are appended by the caller so a record
 * can reference a large one instead of copying it.
 */
import { sbError } from '../errors.ts'
import { FrameFlag, FrameType } from './constants.ts'
import type { Frame, NameFrame } from './frame.ts'
import { encodeOffer } from './hello.ts'
import { varintSize, writeVarint } from './varint.ts'

const utf8 = new TextEncoder()

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
    case 'offer':
      return encodeOffer(frame.offer).length
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
  offer: FrameType.OFFER,
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
  switch (frame.type) {
    case 'open':
    case 'data':
    case 'end':
    case 'reset':
    case 'credit':
    case 'unknown':
      return frame.channel
    default:
      return 0 // connection-level frames
  }
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
    case 'offer': {
      const bytes = encodeOffer(frame.offer)
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

/**
 * Decoding frames from a complete record plaintext (STYLE.md practice 2: a frame, or a typed
 * fatal error; running past the end is FRAME_MALFORMED, never "need more bytes", because frames
 * never span records). Byte views in the result point into the record; a record is never reused,
 * so they may be kept (keeping one keeps the record's memory).
 */
import { sbError } from '../errors.ts'
import { FrameFlag, FrameType, WireLimits } from './constants.ts'
import { Cursor } from './cursor.ts'
import type { Frame, MsgFrame } from './frame.ts'
import { readOffer } from './hello.ts'

const EMPTY = new Uint8Array(0)
const payloadCursor = new Cursor(EMPTY)
// ignoreBOM: a leading U+FEFF is part of the name, not a byte-order mark to strip.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

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
    case FrameType.OFFER:
      requireNoFlags('OFFER', flags, 0)
      requireConnectionLevel('OFFER', channel)
      frame = { type: 'offer', offer: readOffer(p) }
      break
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

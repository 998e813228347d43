/**
 * An independent switchboard peer, written only from docs/protocol.md (version 3.0): its own
 * varints, frames, hello, records and a small msgpack writer. It imports nothing from src/, so a
 * test that runs it against the real server (spec-peer.test.ts) checks the spec and the
 * implementation against each other, not the implementation against itself.
 *
 * Scope: plaintext records (security `none`, compression `none`), the dialer role, and as much
 * of the session rules as the conformance test exercises: SETTINGS/ACK, PING/PONG, NAME,
 * MSG/REPLY/CANCEL, request and RESPONSE channels with channel and connection credit (including
 * the prepaid CREDIT of §10), subscriptions with event credit, message counting and GOAWAY.
 *
 * Anything the server sends that breaks a rule the peer checks is recorded in `violations`
 * (and fails the wait in progress) instead of being thrown from a socket callback.
 */
import { connect as netConnect, type Socket } from 'node:net'

// ---------------------------------------------------------------- §1 conventions

/** A protocol error seen while decoding, with the §16 code name the spec gives it. */
export class SpecError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(`${code}: ${message}`)
    this.code = code
  }
}

const MAX_SAFE = 2 ** 53 - 1

/** Appends the unsigned LEB128 encoding of `value` (0..2^53 − 1). */
export function pushVarint(out: number[], value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_SAFE) throw new RangeError(`varint ${value}`)
  let rest = value
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  out.push(rest)
}

export function varintBytes(value: number): number[] {
  const out: number[] = []
  pushVarint(out, value)
  return out
}

/** Reads one complete unit (a record plaintext, a frame payload, a hello body). */
export class Reader {
  pos: number
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start
  }

  get remaining(): number {
    return this.end - this.pos
  }

  u8(): number {
    if (this.pos >= this.end) throw new SpecError('FRAME_MALFORMED', 'unit ends inside a field')
    return this.buf[this.pos++]!
  }

  /** §1: at most 8 bytes, at most 2^53 − 1, minimal encoding. */
  varint(): number {
    let value = 0
    let scale = 1
    for (let i = 0; i < 8; i++) {
      const byte = this.u8()
      value += (byte & 0x7f) * scale
      if ((byte & 0x80) === 0) {
        if (i > 0 && byte === 0) throw new SpecError('FRAME_MALFORMED', 'varint not minimal')
        if (value > MAX_SAFE) throw new SpecError('FRAME_MALFORMED', 'varint above 2^53 - 1')
        return value
      }
      scale *= 0x80
    }
    throw new SpecError('FRAME_MALFORMED', 'varint longer than 8 bytes')
  }

  bytes(n: number): Uint8Array {
    if (n > this.remaining) throw new SpecError('FRAME_MALFORMED', 'field overruns its unit')
    const out = this.buf.slice(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  /** A length varint with a limit (FRAME_TOO_LARGE above it) that must fit in the unit. */
  length(limit: number): number {
    const n = this.varint()
    if (n > limit) throw new SpecError('FRAME_TOO_LARGE', `length ${n} above ${limit}`)
    if (n > this.remaining) throw new SpecError('FRAME_MALFORMED', 'length overruns its unit')
    return n
  }
}

const utf8 = new TextEncoder()
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

export function unhex(text: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(text)) throw new Error(`not lowercase hex: ${text}`)
  return new Uint8Array(Buffer.from(text, 'hex'))
}

// ---------------------------------------------------------------- §8 frames

/** Frame type bytes (§8). */
export const T = {
  OPEN: 0x01,
  DATA: 0x02,
  END: 0x03,
  RESET: 0x04,
  CREDIT: 0x05,
  PING: 0x06,
  PONG: 0x07,
  GOAWAY: 0x08,
  SETTINGS: 0x09,
  NAME: 0x0a,
  MSG: 0x0b,
  REPLY: 0x0c,
  CANCEL: 0x0d,
  OFFER: 0x0e,
} as const

/** Frame flag bits (§8). */
export const F = {
  FIN: 0x01,
  HAS_DEADLINE: 0x02,
  HAS_TRACE: 0x04,
  HAS_SIZE: 0x08,
  ONE_WAY: 0x10,
  RAW: 0x20,
  ACK: 0x01,
} as const

/** Message kinds and body flags of the `kind` field (§9). */
export const K = {
  REQUEST: 0,
  NOTIFY: 1,
  EVENT: 2,
  SUBSCRIBE: 3,
  RESPONSE: 4,
  MASK: 0x0f,
  RAW: 0x10,
  STREAM: 0x20,
  IDEMPOTENT: 0x40,
} as const

/** Wire error codes used here (§16). */
export const W = {
  PROTOCOL_ERROR: 1,
  CANCELLED: 30,
  DEADLINE: 31,
  METHOD_NOT_FOUND: 32,
  MESSAGE_TOO_LARGE: 34,
  PAIR_FULL: 39,
  GOING_AWAY: 40,
  INPUT_INVALID: 52,
} as const

/** The frame model of the golden vectors (§20): field names and which fields are optional. */
export type SpecFrame =
  | {
      type: 'open'
      channel: number
      fin: boolean
      oneWay: boolean
      kind: number
      method: number
      messageId: number
      deadlineMs?: number
      trace?: Uint8Array
      totalSize?: number
      data: Uint8Array
    }
  | { type: 'data'; channel: number; fin: boolean; data: Uint8Array }
  | { type: 'end'; channel: number; status: number; detail: Uint8Array }
  | { type: 'reset'; channel: number; code: number }
  | { type: 'credit'; channel: number; increment: number; processed?: number }
  | { type: 'ping' | 'pong'; data: Uint8Array }
  | { type: 'goaway'; lastProcessed: number; code: number }
  | { type: 'settings'; ack: boolean; values: [number, number][] }
  | { type: 'name'; id: number; name: string }
  | {
      type: 'msg'
      kind: number
      method: number
      messageId: number
      deadlineMs?: number
      trace?: Uint8Array
      data: Uint8Array
    }
  | { type: 'reply'; messageId: number; status: number; raw: boolean; data: Uint8Array }
  | { type: 'cancel'; messageId: number; code: number }
  | { type: 'offer'; offer: SpecOffer }
  | { type: 'unknown'; typeByte: number; flags: number; channel: number; payload: Uint8Array }

export type FrameOf<N extends SpecFrame['type']> = Extract<SpecFrame, { type: N }>

/** Fields of each frame type that hold bytes, written as lowercase hex in the golden JSON (§20). */
export const BYTE_FIELDS: Record<string, readonly string[]> = {
  open: ['data', 'trace'],
  data: ['data'],
  end: ['detail'],
  ping: ['data'],
  pong: ['data'],
  msg: ['data', 'trace'],
  reply: ['data'],
  unknown: ['payload'],
}

/** A golden JSON frame (§20) as a SpecFrame: hex strings become bytes. */
export function frameFromGolden(json: Record<string, unknown>): SpecFrame {
  const out: Record<string, unknown> = { ...json }
  for (const field of BYTE_FIELDS[String(json['type'])] ?? []) {
    const value = json[field]
    if (typeof value === 'string') out[field] = unhex(value)
  }
  return out as SpecFrame
}

/** A SpecFrame as golden JSON (§20): bytes become hex strings. */
export function frameToGolden(frame: SpecFrame): Record<string, unknown> {
  const out: Record<string, unknown> = { ...frame }
  for (const field of BYTE_FIELDS[frame.type] ?? []) {
    const value = out[field]
    if (value instanceof Uint8Array) out[field] = hex(value)
  }
  return out
}

function headerFields(f: FrameOf<'open'> | FrameOf<'msg'>, p: number[]): number {
  pushVarint(p, f.kind)
  pushVarint(p, f.method)
  pushVarint(p, f.messageId)
  let flags = 0
  if (f.deadlineMs !== undefined) {
    flags |= F.HAS_DEADLINE
    pushVarint(p, f.deadlineMs)
  }
  if (f.trace !== undefined) {
    flags |= F.HAS_TRACE
    pushVarint(p, f.trace.length)
    p.push(...f.trace)
  }
  return flags
}

/** Encodes one frame: u8 type, u8 flags, varint channel, varint length, payload (§8). */
export function encodeFrame(f: SpecFrame): Uint8Array {
  const p: number[] = []
  let type: number
  let flags = 0
  let channel = 0
  let body: Uint8Array | undefined
  switch (f.type) {
    case 'open':
      type = T.OPEN
      channel = f.channel
      flags = headerFields(f, p)
      if (f.totalSize !== undefined) {
        flags |= F.HAS_SIZE
        pushVarint(p, f.totalSize)
      }
      if (f.fin) flags |= F.FIN
      if (f.oneWay) flags |= F.ONE_WAY
      body = f.data
      break
    case 'msg':
      type = T.MSG
      flags = headerFields(f, p)
      body = f.data
      break
    case 'data':
      type = T.DATA
      channel = f.channel
      flags = f.fin ? F.FIN : 0
      body = f.data
      break
    case 'end':
      type = T.END
      channel = f.channel
      pushVarint(p, f.status)
      body = f.detail
      break
    case 'reset':
      type = T.RESET
      channel = f.channel
      pushVarint(p, f.code)
      break
    case 'credit':
      type = T.CREDIT
      channel = f.channel
      pushVarint(p, f.increment)
      if (f.channel === 0) pushVarint(p, f.processed ?? 0)
      break
    case 'ping':
    case 'pong':
      type = f.type === 'ping' ? T.PING : T.PONG
      if (f.data.length !== 8) throw new RangeError('PING/PONG data is 8 bytes')
      body = f.data
      break
    case 'goaway':
      type = T.GOAWAY
      pushVarint(p, f.lastProcessed)
      pushVarint(p, f.code)
      break
    case 'settings':
      type = T.SETTINGS
      flags = f.ack ? F.ACK : 0
      for (const [k, v] of f.values) {
        pushVarint(p, k)
        pushVarint(p, v)
      }
      break
    case 'name':
      type = T.NAME
      pushVarint(p, f.id)
      body = utf8.encode(f.name)
      break
    case 'reply':
      type = T.REPLY
      flags = f.raw ? F.RAW : 0
      pushVarint(p, f.messageId)
      pushVarint(p, f.status)
      body = f.data
      break
    case 'cancel':
      type = T.CANCEL
      pushVarint(p, f.messageId)
      pushVarint(p, f.code)
      break
    case 'offer':
      type = T.OFFER
      p.push(...offerBytes(f.offer))
      break
    case 'unknown':
      type = f.typeByte
      flags = f.flags
      channel = f.channel
      body = f.payload
      break
  }
  const head: number[] = [type, flags]
  pushVarint(head, channel)
  pushVarint(head, p.length + (body?.length ?? 0))
  const out = new Uint8Array(head.length + p.length + (body?.length ?? 0))
  out.set(head, 0)
  out.set(p, head.length)
  if (body !== undefined) out.set(body, head.length + p.length)
  return out
}

function allowFlags(name: string, flags: number, allowed: number): void {
  if ((flags & ~allowed) !== 0)
    throw new SpecError('FRAME_MALFORMED', `${name} with flags 0x${flags.toString(16)}`)
}

function onChannelZero(name: string, channel: number): void {
  if (channel !== 0) throw new SpecError('FRAME_MALFORMED', `${name} on channel ${channel}`)
}

function offChannelZero(name: string, channel: number): void {
  if (channel === 0) throw new SpecError('FRAME_MALFORMED', `${name} on channel 0`)
}

/** Decodes the next frame of a record plaintext (§8). */
export function decodeFrame(r: Reader): SpecFrame {
  const typeByte = r.u8()
  const flags = r.u8()
  const channel = r.varint()
  const length = r.varint()
  if (length > r.remaining) throw new SpecError('FRAME_MALFORMED', 'frame runs past its record')
  const p = new Reader(r.buf, r.pos, r.pos + length)
  r.pos += length
  let frame: SpecFrame
  switch (typeByte) {
    case T.OPEN: {
      allowFlags('OPEN', flags, F.FIN | F.HAS_DEADLINE | F.HAS_TRACE | F.HAS_SIZE | F.ONE_WAY)
      offChannelZero('OPEN', channel)
      const open: FrameOf<'open'> = {
        type: 'open',
        channel,
        fin: (flags & F.FIN) !== 0,
        oneWay: (flags & F.ONE_WAY) !== 0,
        kind: p.varint(),
        method: p.varint(),
        messageId: p.varint(),
        data: new Uint8Array(0),
      }
      if (flags & F.HAS_DEADLINE) open.deadlineMs = p.varint()
      if (flags & F.HAS_TRACE) open.trace = p.bytes(p.length(512))
      if (flags & F.HAS_SIZE) open.totalSize = p.varint()
      open.data = p.bytes(p.remaining)
      frame = open
      break
    }
    case T.MSG: {
      allowFlags('MSG', flags, F.HAS_DEADLINE | F.HAS_TRACE)
      onChannelZero('MSG', channel)
      const msg: FrameOf<'msg'> = {
        type: 'msg',
        kind: p.varint(),
        method: p.varint(),
        messageId: p.varint(),
        data: new Uint8Array(0),
      }
      if (flags & F.HAS_DEADLINE) msg.deadlineMs = p.varint()
      if (flags & F.HAS_TRACE) msg.trace = p.bytes(p.length(512))
      msg.data = p.bytes(p.remaining)
      frame = msg
      break
    }
    case T.DATA:
      allowFlags('DATA', flags, F.FIN)
      offChannelZero('DATA', channel)
      frame = { type: 'data', channel, fin: (flags & F.FIN) !== 0, data: p.bytes(p.remaining) }
      break
    case T.END: {
      allowFlags('END', flags, 0)
      offChannelZero('END', channel)
      const status = p.varint()
      if (p.remaining > 16384) throw new SpecError('FRAME_TOO_LARGE', 'END detail above 16384 bytes')
      frame = { type: 'end', channel, status, detail: p.bytes(p.remaining) }
      break
    }
    case T.RESET:
      allowFlags('RESET', flags, 0)
      offChannelZero('RESET', channel)
      frame = { type: 'reset', channel, code: p.varint() }
      break
    case T.CREDIT: {
      allowFlags('CREDIT', flags, 0)
      const increment = p.varint()
      if (channel === 0) {
        frame = { type: 'credit', channel, increment, processed: p.varint() }
      } else {
        if (increment === 0) throw new SpecError('FRAME_MALFORMED', 'channel CREDIT of 0')
        frame = { type: 'credit', channel, increment }
      }
      break
    }
    case T.PING:
    case T.PONG:
      allowFlags('PING/PONG', flags, 0)
      onChannelZero('PING/PONG', channel)
      if (p.remaining !== 8) throw new SpecError('FRAME_MALFORMED', 'PING/PONG data is not 8 bytes')
      frame = { type: typeByte === T.PING ? 'ping' : 'pong', data: p.bytes(8) }
      break
    case T.GOAWAY:
      allowFlags('GOAWAY', flags, 0)
      onChannelZero('GOAWAY', channel)
      frame = { type: 'goaway', lastProcessed: p.varint(), code: p.varint() }
      break
    case T.SETTINGS: {
      allowFlags('SETTINGS', flags, F.ACK)
      onChannelZero('SETTINGS', channel)
      const values: [number, number][] = []
      while (p.remaining > 0) values.push([p.varint(), p.varint()])
      frame = { type: 'settings', ack: (flags & F.ACK) !== 0, values }
      break
    }
    case T.NAME: {
      allowFlags('NAME', flags, 0)
      onChannelZero('NAME', channel)
      const id = p.varint()
      if (p.remaining > 1024) throw new SpecError('FRAME_TOO_LARGE', 'name above 1024 bytes')
      let name: string
      try {
        name = utf8Strict.decode(p.bytes(p.remaining))
      } catch {
        throw new SpecError('FRAME_MALFORMED', 'name is not UTF-8')
      }
      frame = { type: 'name', id, name }
      break
    }
    case T.REPLY: {
      allowFlags('REPLY', flags, F.RAW)
      onChannelZero('REPLY', channel)
      const messageId = p.varint()
      const status = p.varint()
      if (status !== 0 && p.remaining > 16384)
        throw new SpecError('FRAME_TOO_LARGE', 'REPLY detail above 16384 bytes')
      frame = { type: 'reply', messageId, status, raw: (flags & F.RAW) !== 0, data: p.bytes(p.remaining) }
      break
    }
    case T.CANCEL:
      allowFlags('CANCEL', flags, 0)
      onChannelZero('CANCEL', channel)
      frame = { type: 'cancel', messageId: p.varint(), code: p.varint() }
      break
    case T.OFFER:
      allowFlags('OFFER', flags, 0)
      onChannelZero('OFFER', channel)
      frame = { type: 'offer', offer: readOffer(p) }
      break
    default:
      // §18 rule 1: an unknown type is skipped whatever its flags and channel.
      return { type: 'unknown', typeByte, flags, channel, payload: p.bytes(p.remaining) }
  }
  if (p.remaining !== 0) throw new SpecError('FRAME_MALFORMED', `${frame.type} has trailing bytes`)
  return frame
}

/** Decodes every frame of a record plaintext after its flags byte (or of a bare frame sequence). */
export function decodeFrames(bytes: Uint8Array): SpecFrame[] {
  const r = new Reader(bytes)
  const out: SpecFrame[] = []
  while (r.remaining > 0) out.push(decodeFrame(r))
  return out
}

// ---------------------------------------------------------------- §7 records (plaintext)

/** One plaintext record: u16 length, flags 0, the frames. */
export function record(frames: readonly SpecFrame[]): Uint8Array {
  const parts = frames.map(encodeFrame)
  const size = 1 + parts.reduce((n, p) => n + p.length, 0)
  if (size > 0xffff) throw new RangeError('record too large')
  const out = new Uint8Array(2 + size)
  out[0] = size >> 8
  out[1] = size & 0xff
  out[2] = 0
  let pos = 3
  for (const p of parts) {
    out.set(p, pos)
    pos += p.length
  }
  return out
}

/** Record plaintext capacity: 65535 bytes minus the flags byte. */
const RECORD_FRAMES_MAX = 0xffff - 1

// ---------------------------------------------------------------- §3 preamble, §4 hello

export const PREAMBLE = Uint8Array.of(0x53, 0x57, 0x42, 0x44, 3, 0)

/** Setting keys (§17). */
export const S = {
  CHANNEL_WINDOW: 1,
  CONNECTION_WINDOW: 2,
  CHUNK_BYTES: 3,
  MAX_CHANNELS: 4,
  MAX_MESSAGE_BYTES: 5,
  KEEPALIVE_MS: 6,
} as const

export const SETTING_DEFAULTS: Record<number, number> = {
  [S.CHANNEL_WINDOW]: 262144,
  [S.CONNECTION_WINDOW]: 1048576,
  [S.CHUNK_BYTES]: 16384,
  [S.MAX_CHANNELS]: 1024,
  [S.MAX_MESSAGE_BYTES]: 67108864,
  [S.KEEPALIVE_MS]: 30000,
}

const SETTING_BOUNDS: Record<number, [number, number]> = {
  [S.CHANNEL_WINDOW]: [1024, 2 ** 31 - 1],
  [S.CONNECTION_WINDOW]: [1024, 2 ** 31 - 1],
  [S.CHUNK_BYTES]: [512, 32768],
  [S.MAX_CHANNELS]: [1, 2 ** 31 - 1],
  [S.MAX_MESSAGE_BYTES]: [1024, MAX_SAFE],
  [S.KEEPALIVE_MS]: [50, 86400000],
}

export interface SpecHello {
  versions: number[]
  /** 0 = dialer, 1 = listener. */
  role: number
  linkId: Uint8Array
  codecs: string[]
  compression: string[]
  security: string[]
  /** LIMITS pairs in the order sent. */
  limits: [number, number][]
  /** PROTOCOLS entries; undefined when the field is absent. */
  protocols?: SpecOffer[]
}

/** One PROTOCOLS entry of a hello, and the payload of OFFER (§4, §8). */
export interface SpecOffer {
  name: string
  /** major × 65536 + minor. */
  version: number
  methods: string[]
  events: string[]
}

function offerBytes(o: SpecOffer): number[] {
  const out: number[] = []
  pushString(out, o.name)
  pushVarint(out, o.version)
  out.push(...stringList(o.methods), ...stringList(o.events))
  return out
}

function readOffer(f: Reader): SpecOffer {
  const [name] = readStrings(f, 1)
  return { name: name!, version: f.varint(), methods: readStringList(f), events: readStringList(f) }
}

function pushString(out: number[], s: string): void {
  const b = utf8.encode(s)
  pushVarint(out, b.length)
  out.push(...b)
}

function pushField(out: number[], key: number, value: number[]): void {
  pushVarint(out, key)
  pushVarint(out, value.length)
  out.push(...value)
}

function stringList(list: readonly string[]): number[] {
  const v: number[] = []
  pushVarint(v, list.length)
  for (const s of list) pushString(v, s)
  return v
}

/** The hello body (§4): TLV fields in ascending key order. */
export function encodeHello(h: SpecHello): Uint8Array {
  const out: number[] = []
  pushField(out, 1, h.versions)
  pushField(out, 2, varintBytes(h.role))
  pushField(out, 3, [...h.linkId])
  pushField(out, 4, stringList(h.codecs))
  pushField(out, 5, stringList(h.compression))
  pushField(out, 6, stringList(h.security))
  const limits: number[] = []
  for (const [k, v] of h.limits) {
    pushVarint(limits, k)
    pushVarint(limits, v)
  }
  pushField(out, 7, limits)
  if (h.protocols !== undefined) {
    const v = varintBytes(h.protocols.length)
    for (const o of h.protocols) v.push(...offerBytes(o))
    pushField(out, 8, v)
  }
  return Uint8Array.from(out)
}

/** u32 length + body. */
export function frameHello(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length)
  new DataView(out.buffer).setUint32(0, body.length)
  out.set(body, 4)
  return out
}

function readStringList(f: Reader): string[] {
  const count = f.varint()
  if (count > f.remaining) throw new SpecError('FRAME_MALFORMED', 'string list count overruns its field')
  return readStrings(f, count)
}

function readStrings(f: Reader, count: number): string[] {
  const out: string[] = []
  for (let i = 0; i < count; i++) {
    const n = f.length(1024)
    try {
      out.push(utf8Strict.decode(f.bytes(n)))
    } catch (err) {
      if (err instanceof SpecError) throw err
      throw new SpecError('FRAME_MALFORMED', 'hello string is not UTF-8')
    }
  }
  return out
}

/** Decodes a hello body (§4). */
export function decodeHello(body: Uint8Array): SpecHello {
  const r = new Reader(body)
  const h: Partial<SpecHello> & { limits: [number, number][] } = { limits: [] }
  let last = 0
  while (r.remaining > 0) {
    const key = r.varint()
    if (key <= last) throw new SpecError('FRAME_MALFORMED', `hello key ${key} out of order`)
    last = key
    const len = r.varint()
    if (len > r.remaining) throw new SpecError('FRAME_MALFORMED', 'hello field overruns the body')
    const f = new Reader(r.buf, r.pos, r.pos + len)
    r.pos += len
    switch (key) {
      case 1:
        h.versions = [...f.bytes(f.remaining)]
        break
      case 2:
        h.role = f.varint()
        if (h.role > 1) throw new SpecError('FRAME_MALFORMED', 'bad role')
        break
      case 3:
        if (f.remaining !== 16) throw new SpecError('FRAME_MALFORMED', 'link id is not 16 bytes')
        h.linkId = f.bytes(16)
        break
      case 4:
        h.codecs = readStringList(f)
        break
      case 5:
        h.compression = readStringList(f)
        break
      case 6:
        h.security = readStringList(f)
        break
      case 7:
        while (f.remaining > 0) h.limits.push([f.varint(), f.varint()])
        break
      case 8: {
        const count = f.varint()
        if (count > f.remaining) throw new SpecError('FRAME_MALFORMED', 'PROTOCOLS count overruns its field')
        h.protocols = []
        for (let i = 0; i < count; i++) h.protocols.push(readOffer(f))
        break
      }
      default:
        continue // unknown key: skipped
    }
    if (f.remaining !== 0) throw new SpecError('FRAME_MALFORMED', `hello field ${key} has trailing bytes`)
  }
  if (!h.versions?.length || h.role === undefined || !h.linkId || !h.codecs || !h.compression || !h.security)
    throw new SpecError('FRAME_MALFORMED', 'hello lacks a required field')
  return h as SpecHello
}

/** The value of setting `key` in a hello's LIMITS: default when absent, clamped into its bounds (§17). */
export function limitOf(hello: SpecHello, key: number): number {
  let value = SETTING_DEFAULTS[key]!
  for (const [k, v] of hello.limits) if (k === key) value = v
  const [lo, hi] = SETTING_BOUNDS[key]!
  return Math.min(hi, Math.max(lo, value))
}

// ---------------------------------------------------------------- §21 a few msgpack values, by hand

/** MessagePack encodings written by hand (only the small forms the tests need). */
export const mp = {
  nil: Uint8Array.of(0xc0),
  true: Uint8Array.of(0xc3),
  false: Uint8Array.of(0xc2),
  /** Positive fixint 0..127. */
  int(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 0 || n > 127) throw new RangeError('only positive fixint')
    return Uint8Array.of(n)
  },
  /** fixstr (up to 31 bytes of UTF-8). */
  str(s: string): Uint8Array {
    const b = utf8.encode(s)
    if (b.length > 31) throw new RangeError('only fixstr')
    return Uint8Array.of(0xa0 | b.length, ...b)
  },
  /** fixarray (up to 15 items). */
  arr(...items: Uint8Array[]): Uint8Array {
    if (items.length > 15) throw new RangeError('only fixarray')
    return Uint8Array.from([0x90 | items.length, ...items.flatMap((i) => [...i])])
  },
  /** fixmap with string keys (up to 15 entries). */
  map(entries: [string, Uint8Array][]): Uint8Array {
    if (entries.length > 15) throw new RangeError('only fixmap')
    return Uint8Array.from([0x80 | entries.length, ...entries.flatMap(([k, v]) => [...mp.str(k), ...v])])
  },
}

// ---------------------------------------------------------------- the peer: a dialer over a socket

export interface PeerOptions {
  /** Unix socket path of the listener. */
  path: string
  /** Our receive limits, announced in the hello (LIMITS). */
  limits?: [number, number][]
  /** Default timeout of every wait, ms. */
  timeoutMs?: number
  /**
   * Use the names the server's hello binds (§14, since 2.1). Default true; false acts as a 2.0
   * peer: every name is bound with NAME, from id 1.
   */
  helloBound?: boolean
}

interface Waiter {
  check(): boolean
  fail(err: Error): void
}

/** One plaintext connection to a switchboard listener, driven frame by frame by a test. */
export class SpecPeer {
  readonly socket: Socket
  readonly linkId = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i)
  readonly ourLimits: [number, number][]
  readonly timeoutMs: number
  /** Everything the server sent, in order, that a test has not taken yet. */
  readonly inbox: SpecFrame[] = []
  /** Every frame received (for the record; never taken from). */
  readonly received: SpecFrame[] = []
  /** Rules the server broke, as seen by this peer. */
  readonly violations: string[] = []
  serverPreamble: Uint8Array | undefined
  serverHello: SpecHello | undefined
  /** A refusal sent in the hello slot (§4): its wire code. */
  helloRefusal: number | undefined
  /** The socket reached its end (the server closed its direction), or closed. */
  ended = false
  closed = false
  /** The transport error that ended the socket, if any. */
  socketError: Error | undefined

  // Counts and ids (§1 identifiers)
  /** Our messages (MSG frames, OPENs other than RESPONSE) written, in wire order. */
  sentCount = 0
  /** The server's messages received. */
  receivedCount = 0
  private ackedCount = 0
  private nextChannelId = 1
  private nextMessageIdValue = 1
  private readonly ourNames = new Map<string, number>()
  /** The last id bound in our table (by the server's hello or by our NAME frames). */
  private lastNameId = 0
  private readonly helloBound: boolean
  /** The server's name table (its NAME frames). */
  readonly serverNames = new Map<number, string>()

  // Flow control (§10)
  sendConnCredit = 0
  readonly channelSendCredit = new Map<number, number>()
  private recvConnRemaining = 0
  private connOwed = 0
  /** Channels the server opened, with what we owe back and whether we prepaid them. */
  private readonly remoteChannels = new Map<
    number,
    { kind: number; owed: number; remaining: number; prepaid: boolean }
  >()

  private buf = new Uint8Array(0)
  private phase: 'preamble' | 'hello' | 'records' | 'done' = 'preamble'
  private readonly waiters = new Set<Waiter>()

  constructor(options: PeerOptions) {
    this.helloBound = options.helloBound ?? true
    this.ourLimits = options.limits ?? []
    this.timeoutMs = options.timeoutMs ?? 5000
    this.recvConnRemaining = this.ourLimit(S.CONNECTION_WINDOW)
    this.socket = netConnect(options.path)
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk))
    this.socket.on('end', () => {
      this.ended = true
      this.poke()
    })
    this.socket.on('close', () => {
      this.ended = true
      this.closed = true
      this.poke()
    })
    // A transport error (EPIPE after the server closed, ECONNRESET) is a lost connection, not a
    // broken rule: waits whose condition is unmet then fail as "connection closed".
    this.socket.on('error', (err) => {
      this.socketError = err
    })
  }

  /** The hello this peer sends (dialer, msgpack, no compression, security none). */
  get hello(): SpecHello {
    return {
      versions: [3],
      role: 0,
      linkId: this.linkId,
      codecs: ['msgpack'],
      compression: [],
      security: ['none'],
      limits: this.ourLimits,
      protocols: [],
    }
  }

  ourLimit(key: number): number {
    const own = this.hello.limits.find(([k]) => k === key)
    return own?.[1] ?? SETTING_DEFAULTS[key]!
  }

  serverLimit(key: number): number {
    if (this.serverHello === undefined) throw new Error('no server hello yet')
    return limitOf(this.serverHello, key)
  }

  /**
   * Sends the preamble and hello at once (§2: no waiting), reads the server's, then sends our
   * first frame, an empty SETTINGS (§15).
   */
  async start(): Promise<void> {
    this.socket.write(Buffer.concat([PREAMBLE, frameHello(encodeHello(this.hello))]))
    await this.until(() => this.phase === 'records', 'the server preamble and hello')
    this.send([{ type: 'settings', ack: false, values: [] }])
  }

  /** start(), then waits for the ACK of our SETTINGS: the server processed our hello (§15). */
  async establish(): Promise<void> {
    await this.start()
    await this.take((f) => f.type === 'settings' && f.ack, 'the ACK of our SETTINGS')
  }

  // ---- receiving -----------------------------------------------------------------------------

  private violation(text: string): void {
    this.violations.push(text)
    const err = new Error(`server broke the spec: ${text}`)
    for (const w of [...this.waiters]) w.fail(err)
  }

  private onData(chunk: Buffer): void {
    const next = new Uint8Array(this.buf.length + chunk.length)
    next.set(this.buf, 0)
    next.set(chunk, this.buf.length)
    this.buf = next
    try {
      this.parse()
    } catch (err) {
      this.phase = 'done'
      this.violation(err instanceof Error ? err.message : String(err))
    }
    this.poke()
  }

  private takeBytes(n: number): Uint8Array | undefined {
    if (this.buf.length < n) return undefined
    const out = this.buf.slice(0, n)
    this.buf = this.buf.slice(n)
    return out
  }

  private parse(): void {
    for (;;) {
      if (this.phase === 'preamble') {
        if (this.buf.length < 6) return
        const pre = this.takeBytes(6)!
        if (hex(pre.subarray(0, 4)) !== '53574244') throw new SpecError('BAD_PREAMBLE', hex(pre))
        this.serverPreamble = pre
        this.phase = 'hello'
      } else if (this.phase === 'hello') {
        if (this.buf.length < 4) return
        const length = new DataView(this.buf.buffer, this.buf.byteOffset).getUint32(0)
        if (length === 0) {
          if (this.buf.length < 6) return
          this.helloRefusal = (this.buf[4]! << 8) | this.buf[5]!
          this.takeBytes(6)
          this.phase = 'done'
          return
        }
        if (length > 65536) throw new SpecError('HELLO_TOO_LARGE', String(length))
        if (this.buf.length < 4 + length) return
        const body = this.takeBytes(4 + length)!.subarray(4)
        this.serverHello = decodeHello(body)
        this.onHello(this.serverHello)
        this.phase = 'records'
      } else if (this.phase === 'records') {
        if (this.buf.length < 2) return
        const length = (this.buf[0]! << 8) | this.buf[1]!
        if (length === 0) throw new SpecError('FRAME_MALFORMED', 'record of length 0')
        if (this.buf.length < 2 + length) return
        const body = this.takeBytes(2 + length)!.subarray(2)
        if (body[0] !== 0)
          throw new SpecError('FRAME_MALFORMED', `record flags ${body[0]} (nothing was negotiated)`)
        const frames = decodeFrames(body.subarray(1))
        if (frames.length === 0) throw new SpecError('FRAME_MALFORMED', 'record without frames')
        for (const f of frames) this.onFrame(f)
        this.afterRecord()
      } else {
        return
      }
    }
  }

  private onHello(h: SpecHello): void {
    if (!h.versions.includes(3)) throw new SpecError('VERSION_MISMATCH', `server offers ${h.versions}`)
    if (h.role !== 1) throw new SpecError('PROTOCOL_ERROR', 'server hello does not claim the listener role')
    if (!h.codecs.includes('msgpack')) throw new SpecError('NEGOTIATION_FAILED', 'no msgpack')
    if (!h.security.includes('none')) throw new SpecError('NEGOTIATION_FAILED', 'no security none')
    this.sendConnCredit = limitOf(h, S.CONNECTION_WINDOW)
    // §14: the server's PROTOCOLS bind ids 1..N of our table toward it: methods, then events.
    if (!this.helloBound) return
    for (const p of h.protocols ?? []) {
      for (const n of [...p.methods, ...p.events]) {
        const id = ++this.lastNameId
        if (!this.ourNames.has(`${p.name}/${n}`)) this.ourNames.set(`${p.name}/${n}`, id)
      }
    }
  }

  private onFrame(f: SpecFrame): void {
    this.received.push(f)
    switch (f.type) {
      case 'ping':
        this.send([{ type: 'pong', data: f.data }])
        break
      case 'settings':
        if (!f.ack) this.send([{ type: 'settings', ack: true, values: [] }])
        break
      case 'name':
        if (this.serverNames.has(f.id)) this.violation(`server bound its name id ${f.id} twice`)
        this.serverNames.set(f.id, f.name)
        break
      case 'msg': {
        this.receivedCount++
        const cost = encodeFrame(f).length - frameHeaderLength(f)
        this.useConnCredit(cost)
        if ((f.kind & K.MASK) === K.SUBSCRIBE || (f.kind & K.MASK) === K.RESPONSE)
          this.violation(`MSG of kind ${f.kind & K.MASK}`)
        if (!this.serverNames.has(f.method)) this.violation(`MSG uses unbound server name id ${f.method}`)
        this.connOwed += cost // taken at once: the test reads it from the inbox
        break
      }
      case 'open': {
        if (f.channel % 2 !== 0) this.violation(`server opened odd channel ${f.channel}`)
        const kind = f.kind & K.MASK
        if (kind !== K.RESPONSE) this.receivedCount++
        this.useConnCredit(f.data.length)
        const window = this.ourLimit(S.CHANNEL_WINDOW)
        if (f.data.length > window) this.violation(`OPEN ${f.channel} carries more than the channel window`)
        const state = { kind, owed: 0, remaining: window - f.data.length, prepaid: false }
        this.remoteChannels.set(f.channel, state)
        // §10: a body of announced size above the channel window (and within our
        // MAX_MESSAGE_BYTES) gets its whole size as channel credit at once.
        const size = f.totalSize
        if (
          size !== undefined &&
          (f.kind & K.STREAM) === 0 &&
          size > window &&
          size <= this.ourLimit(S.MAX_MESSAGE_BYTES)
        ) {
          state.prepaid = true
          state.remaining += size - window
          this.send([{ type: 'credit', channel: f.channel, increment: size - window }])
        }
        this.consumeChannel(f.channel, f.data.length)
        break
      }
      case 'data': {
        this.useConnCredit(f.data.length)
        const state = this.remoteChannels.get(f.channel)
        if (state !== undefined) {
          state.remaining -= f.data.length
          if (state.remaining < 0) this.violation(`channel ${f.channel} exceeded its window`)
        }
        this.consumeChannel(f.channel, f.data.length)
        break
      }
      case 'credit':
        if (f.channel === 0) {
          if ((f.processed ?? 0) > this.sentCount)
            this.violation(`CREDIT counts ${f.processed} messages, we sent ${this.sentCount}`)
          this.sendConnCredit += f.increment
        } else {
          this.channelSendCredit.set(f.channel, (this.channelSendCredit.get(f.channel) ?? 0) + f.increment)
        }
        break
      case 'goaway':
        if (f.lastProcessed > this.sentCount)
          this.violation(`GOAWAY counts ${f.lastProcessed} messages, we sent ${this.sentCount}`)
        break
      default:
        break
    }
    this.inbox.push(f)
  }

  private useConnCredit(bytes: number): void {
    this.recvConnRemaining -= bytes
    if (this.recvConnRemaining < 0) this.violation('server exceeded our connection window')
  }

  /** Body bytes of a channel were consumed (we buffer everything at once). */
  private consumeChannel(channel: number, bytes: number): void {
    this.connOwed += bytes
    const state = this.remoteChannels.get(channel)
    // §10: never byte credit on a SUBSCRIBE channel (CREDIT there counts events), nor on a
    // prepaid channel.
    if (state === undefined || state.prepaid || state.kind === K.SUBSCRIBE || bytes === 0) return
    state.owed += bytes
    if (state.owed >= this.ourLimit(S.CHANNEL_WINDOW) / 4) {
      state.remaining += state.owed
      this.send([{ type: 'credit', channel, increment: state.owed }])
      state.owed = 0
    }
  }

  /** After each record: acknowledge messages and return connection credit in one CREDIT (§10). */
  private afterRecord(): void {
    if (this.phase !== 'records' || this.closed) return
    if (this.connOwed === 0 && this.receivedCount === this.ackedCount) return
    this.recvConnRemaining += this.connOwed
    this.send([{ type: 'credit', channel: 0, increment: this.connOwed, processed: this.receivedCount }])
    this.connOwed = 0
    this.ackedCount = this.receivedCount
  }

  private poke(): void {
    for (const w of [...this.waiters]) w.check()
  }

  /** Resolves when `cond` holds (checked after every record and socket event), else rejects. */
  until(cond: () => boolean, what: string, timeoutMs = this.timeoutMs): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          if (!cond()) {
            if (this.closed) {
              const why = this.socketError === undefined ? '' : ` (${this.socketError.message})`
              waiter.fail(new Error(`connection closed${why}`))
            }
            return false
          }
          this.waiters.delete(waiter)
          clearTimeout(timer)
          resolve()
          return true
        },
        fail: (err) => {
          this.waiters.delete(waiter)
          clearTimeout(timer)
          reject(new Error(`${err.message} (while waiting for ${what})`, { cause: err }))
        },
      }
      const timer = setTimeout(() => {
        waiter.fail(new Error(`timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiters.add(waiter)
      if (this.violations.length > 0) waiter.fail(new Error(`server broke the spec: ${this.violations[0]}`))
      else waiter.check()
    })
  }

  /** Removes and returns the first frame in the inbox that matches (waiting for it if needed). */
  async take<N extends SpecFrame['type']>(
    match: (f: SpecFrame) => f is FrameOf<N>,
    what: string,
    timeoutMs?: number,
  ): Promise<FrameOf<N>>
  async take(match: (f: SpecFrame) => boolean, what: string, timeoutMs?: number): Promise<SpecFrame>
  async take(match: (f: SpecFrame) => boolean, what: string, timeoutMs?: number): Promise<SpecFrame> {
    let index = -1
    await this.until(
      () => {
        index = this.inbox.findIndex(match)
        return index >= 0
      },
      what,
      timeoutMs,
    )
    return this.inbox.splice(index, 1)[0]!
  }

  // ---- sending -------------------------------------------------------------------------------

  /** Writes frames in as few records as fit. */
  send(frames: readonly SpecFrame[]): void {
    if (this.socket.destroyed || this.socket.writableEnded) return
    let batch: SpecFrame[] = []
    let size = 0
    for (const f of frames) {
      const n = encodeFrame(f).length
      if (size + n > RECORD_FRAMES_MAX && batch.length > 0) {
        this.socket.write(record(batch))
        batch = []
        size = 0
      }
      batch.push(f)
      size += n
    }
    if (batch.length > 0) this.socket.write(record(batch))
  }

  nextMessageId(): number {
    return this.nextMessageIdValue++
  }

  /** The NAME frame needed before `name` is first used (or none), and its id in our table (§14). */
  name(name: string): { id: number; frames: SpecFrame[] } {
    const known = this.ourNames.get(name)
    if (known !== undefined) return { id: known, frames: [] }
    const id = ++this.lastNameId
    this.ourNames.set(name, id)
    return { id, frames: [{ type: 'name', id, name }] }
  }

  /** Sends one message as a MSG frame (after its NAME when new); returns its message id. */
  message(
    kind: number,
    method: string,
    data: Uint8Array,
    extra: { deadlineMs?: number; trace?: Uint8Array; messageId?: number } = {},
  ): number {
    const { id, frames } = this.name(method)
    const messageId = extra.messageId ?? this.nextMessageId()
    const msg: FrameOf<'msg'> = { type: 'msg', kind, method: id, messageId, data }
    if (extra.deadlineMs !== undefined) msg.deadlineMs = extra.deadlineMs
    if (extra.trace !== undefined) msg.trace = extra.trace
    const cost = encodeFrame(msg).length - frameHeaderLength(msg)
    if (cost > this.sendConnCredit)
      throw new Error('this peer sends MSG frames only within connection credit')
    this.sendConnCredit -= cost
    this.sentCount++
    this.send([...frames, msg])
    return messageId
  }

  /** The REPLY to our request `messageId`. */
  reply(messageId: number, what = `the REPLY to message ${messageId}`): Promise<FrameOf<'reply'>> {
    return this.take((f): f is FrameOf<'reply'> => f.type === 'reply' && f.messageId === messageId, what)
  }

  /**
   * Opens a channel of ours (odd ids) and sends `body` on it under channel and connection credit,
   * ending with FIN. Returns the channel id once the last byte is written.
   */
  async channel(
    header: { kind: number; method: number; messageId: number; oneWay: boolean; totalSize?: number },
    body: Uint8Array,
    fin = true,
  ): Promise<number> {
    const channel = this.nextChannelId
    this.nextChannelId += 2
    if ((header.kind & K.MASK) !== K.RESPONSE) this.sentCount++
    this.channelSendCredit.set(channel, this.serverLimit(S.CHANNEL_WINDOW))
    const chunk = Math.min(this.ourLimit(S.CHUNK_BYTES), this.serverLimit(S.CHUNK_BYTES))
    let pos = 0
    let opened = false
    while (!opened || pos < body.length) {
      const credit = Math.min(this.channelSendCredit.get(channel)!, this.sendConnCredit)
      if (credit <= 0 && pos < body.length) {
        await this.until(
          () => Math.min(this.channelSendCredit.get(channel)!, this.sendConnCredit) > 0,
          `credit to send on channel ${channel} (${pos} of ${body.length} bytes sent)`,
        )
        continue
      }
      const n = Math.min(chunk, credit, body.length - pos)
      const data = body.subarray(pos, pos + n)
      pos += n
      this.channelSendCredit.set(channel, this.channelSendCredit.get(channel)! - n)
      this.sendConnCredit -= n
      const last = fin && pos === body.length
      if (!opened) {
        opened = true
        const open: FrameOf<'open'> = { type: 'open', channel, fin: last, ...header, data }
        if (header.totalSize === undefined) delete open.totalSize
        this.send([open])
      } else {
        this.send([{ type: 'data', channel, fin: last, data }])
      }
    }
    return channel
  }

  /** Collects a channel's body from the server: DATA frames until FIN (or END / RESET). */
  async collect(channel: number, first: Uint8Array): Promise<{ body: Uint8Array; end: SpecFrame }> {
    const parts: Uint8Array[] = [first]
    for (;;) {
      const f = await this.take(
        (x) => (x.type === 'data' || x.type === 'end' || x.type === 'reset') && x.channel === channel,
        `the rest of channel ${channel}`,
      )
      if (f.type === 'data') {
        parts.push(f.data)
        if (f.fin) return { body: Buffer.concat(parts), end: f }
      } else {
        return { body: Buffer.concat(parts), end: f }
      }
    }
  }

  /** Half-closes our side of the socket. */
  end(): void {
    this.socket.end()
  }

  /** Waits for the server to end the socket. */
  waitEnd(what = 'the server to close the connection', timeoutMs?: number): Promise<void> {
    return this.until(() => this.ended, what, timeoutMs)
  }

  destroy(): void {
    for (const w of [...this.waiters]) w.fail(new Error('peer destroyed'))
    this.socket.destroy()
  }
}

/** Bytes of a frame before its payload: type, flags, varint channel, varint length. */
function frameHeaderLength(f: SpecFrame): number {
  const encoded = encodeFrame(f)
  const r = new Reader(encoded)
  r.u8()
  r.u8()
  r.varint()
  r.varint()
  return r.pos
}

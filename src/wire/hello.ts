/**
 * Byte layout of the preamble and the hello (docs/protocol.md §Connection). Negotiation, which
 * interprets two hellos, lives in handshake/.
 */
import { sbError } from '../errors.ts'
import { HelloKey, LINK_ID_BYTES, PREAMBLE_BYTES, PREAMBLE_MAGIC, WireLimits } from './constants.ts'
import { Cursor } from './cursor.ts'
import { varintSize, writeVarint } from './varint.ts'

export interface Preamble {
  major: number
  minor: number
}

export function encodePreamble(p: Preamble): Uint8Array {
  return Uint8Array.of(...PREAMBLE_MAGIC, p.major, p.minor)
}

/** Parses exactly PREAMBLE_BYTES bytes; a wrong magic is BAD_PREAMBLE. */
export function decodePreamble(bytes: Uint8Array): Preamble {
  if (bytes.length !== PREAMBLE_BYTES) throw sbError('BAD_PREAMBLE', 'preamble has the wrong length')
  for (let i = 0; i < PREAMBLE_MAGIC.length; i++) {
    if (bytes[i] !== PREAMBLE_MAGIC[i]) throw sbError('BAD_PREAMBLE')
  }
  return { major: bytes[4]!, minor: bytes[5]! }
}

export interface ProtocolOffer {
  name: string
  version: number
  methods: readonly string[]
  events: readonly string[]
}

/** The decoded hello. Field order on the wire follows HelloKey. */
export interface Hello {
  versions: readonly number[]
  role: 'dialer' | 'listener'
  linkId: Uint8Array
  codecs: readonly string[]
  compression: readonly string[]
  security: readonly string[]
  /** SettingKey -> value: the sender's receive limits. */
  limits: ReadonlyMap<number, number>
  protocols: readonly ProtocolOffer[]
}

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** A growable byte writer for the (cold) hello path. */
class Writer {
  private parts: Uint8Array[] = []
  size = 0
  bytes(b: Uint8Array): void {
    this.parts.push(b)
    this.size += b.length
  }
  varint(v: number): void {
    const b = new Uint8Array(varintSize(v))
    writeVarint(b, 0, v)
    this.bytes(b)
  }
  string(s: string): void {
    const b = utf8.encode(s)
    if (b.length > WireLimits.maxNameBytes)
      throw sbError('INVALID_ARGUMENT', `name too long: ${s.slice(0, 40)}…`)
    this.varint(b.length)
    this.bytes(b)
  }
  strings(list: readonly string[]): void {
    this.varint(list.length)
    for (const s of list) this.string(s)
  }
  field(key: number, fill: (w: Writer) => void): void {
    const inner = new Writer()
    fill(inner)
    this.varint(key)
    this.varint(inner.size)
    for (const p of inner.parts) this.bytes(p)
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.size)
    let pos = 0
    for (const p of this.parts) {
      out.set(p, pos)
      pos += p.length
    }
    return out
  }
}

/** Encodes a hello body (without its u32 length header). */
export function encodeHello(h: Hello): Uint8Array {
  if (h.linkId.length !== LINK_ID_BYTES) throw sbError('INVALID_ARGUMENT', 'link id must be 16 bytes')
  const w = new Writer()
  w.field(HelloKey.VERSIONS, (f) => f.bytes(Uint8Array.from(h.versions)))
  w.field(HelloKey.ROLE, (f) => f.varint(h.role === 'dialer' ? 0 : 1))
  w.field(HelloKey.LINK_ID, (f) => f.bytes(h.linkId))
  w.field(HelloKey.CODECS, (f) => f.strings(h.codecs))
  w.field(HelloKey.COMPRESSION, (f) => f.strings(h.compression))
  w.field(HelloKey.SECURITY, (f) => f.strings(h.security))
  w.field(HelloKey.LIMITS, (f) => {
    for (const [k, v] of [...h.limits].sort((a, b) => a[0] - b[0])) {
      f.varint(k)
      f.varint(v)
    }
  })
  w.field(HelloKey.PROTOCOLS, (f) => {
    f.varint(h.protocols.length)
    for (const p of h.protocols) writeOffer(f, p)
  })
  return w.finish()
}

function writeOffer(w: Writer, p: ProtocolOffer): void {
  w.string(p.name)
  w.varint(p.version)
  w.strings(p.methods)
  w.strings(p.events)
}

/** One protocol offer as the hello's PROTOCOLS field and the OFFER frame carry it. */
export function encodeOffer(p: ProtocolOffer): Uint8Array {
  const w = new Writer()
  writeOffer(w, p)
  return w.finish()
}

/** Reads one protocol offer (name, version, methods, events) at the cursor. */
export function readOffer(c: Cursor): ProtocolOffer {
  return { name: readString(c), version: c.varint(), methods: readStrings(c), events: readStrings(c) }
}

/** Prefixes a hello body with its u32 big-endian length, as sent. */
export function frameHello(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length)
  new DataView(out.buffer).setUint32(0, body.length)
  out.set(body, 4)
  return out
}

function readString(c: Cursor): string {
  const n = c.length(WireLimits.maxNameBytes, 'name')
  try {
    return utf8Decoder.decode(c.bytes(n))
  } catch (cause) {
    throw sbError('FRAME_MALFORMED', 'hello string is not valid UTF-8', { cause })
  }
}

function readStrings(c: Cursor): string[] {
  const count = c.varint()
  // Each string takes at least one byte, so a count above the remaining bytes is a lie.
  if (count > c.remaining) throw sbError('FRAME_MALFORMED', 'hello list count overruns its field')
  const out: string[] = []
  for (let i = 0; i < count; i++) out.push(readString(c))
  return out
}

/** Decodes a hello body. Unknown keys are skipped; keys out of order or repeated are malformed. */
export function decodeHello(body: Uint8Array): Hello {
  const c = new Cursor(body)
  const hello: {
    versions?: number[]
    role?: 'dialer' | 'listener'
    linkId?: Uint8Array
    codecs?: string[]
    compression?: string[]
    security?: string[]
    limits: Map<number, number>
    protocols: ProtocolOffer[]
  } = { limits: new Map(), protocols: [] }
  let lastKey = 0
  while (c.remaining > 0) {
    const key = c.varint()
    if (key <= lastKey) throw sbError('FRAME_MALFORMED', `hello key ${key} out of order or repeated`)
    lastKey = key
    const len = c.length(c.remaining, 'hello field')
    const f = new Cursor(body, c.pos, c.pos + len)
    c.pos += len
    switch (key) {
      case HelloKey.VERSIONS:
        hello.versions = [...f.bytes(f.remaining)]
        break
      case HelloKey.ROLE: {
        const r = f.varint()
        if (r > 1) throw sbError('FRAME_MALFORMED', `unknown role ${r}`)
        hello.role = r === 0 ? 'dialer' : 'listener'
        break
      }
      case HelloKey.LINK_ID:
        if (f.remaining !== LINK_ID_BYTES) throw sbError('FRAME_MALFORMED', 'link id must be 16 bytes')
        hello.linkId = f.bytes(LINK_ID_BYTES).slice()
        break
      case HelloKey.CODECS:
        hello.codecs = readStrings(f)
        break
      case HelloKey.COMPRESSION:
        hello.compression = readStrings(f)
        break
      case HelloKey.SECURITY:
        hello.security = readStrings(f)
        break
      case HelloKey.LIMITS:
        while (f.remaining > 0) hello.limits.set(f.varint(), f.varint())
        break
      case HelloKey.PROTOCOLS: {
        const count = f.varint()
        if (count > f.remaining) throw sbError('FRAME_MALFORMED', 'protocol count overruns its field')
        for (let i = 0; i < count; i++) hello.protocols.push(readOffer(f))
        break
      }
      default:
        continue // unknown key from a newer peer: skipped
    }
    if (f.remaining !== 0) throw sbError('FRAME_MALFORMED', `hello field ${key} has trailing bytes`)
  }
  const { versions, role, linkId, codecs, compression, security } = hello
  if (!versions || versions.length === 0 || !role || !linkId || !codecs || !compression || !security) {
    throw sbError('FRAME_MALFORMED', 'hello lacks a required field')
  }
  return {
    versions,
    role,
    linkId,
    codecs,
    compression,
    security,
    limits: hello.limits,
    protocols: hello.protocols,
  }
}

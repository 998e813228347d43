/**
 * Shared helpers for the wire tests: hex conversion, the golden frame vectors, record wrapping,
 * error assertions and fast-check arbitraries for valid frames.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { type ErrorCode, SwitchboardError } from '../../../src/errors.ts'
import type { Frame } from '../../../src/wire/frame.ts'

export function fromHex(hex: string): Uint8Array {
  assert.match(hex, /^(?:[0-9a-f]{2})*$/, `not lowercase hex: ${hex}`)
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}

export function toHex(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let pos = 0
  for (const p of parts) {
    out.set(p, pos)
    pos += p.length
  }
  return out
}

/** A plaintext record on the wire: u16 BE length, then body = record flags (0) + frames. */
export function record(frames: Uint8Array, recordFlags = 0): Uint8Array {
  const length = frames.length + 1
  assert.ok(length <= 0xffff, 'record too large')
  return concat(Uint8Array.of(length >> 8, length & 0xff, recordFlags), frames)
}

/** Runs `fn` and asserts it throws a SwitchboardError with `code`. */
export function assertCode(fn: () => unknown, code: ErrorCode, context = ''): void {
  let thrown: unknown
  try {
    fn()
  } catch (err) {
    thrown = err
  }
  assert.ok(thrown !== undefined, `expected ${code}, nothing was thrown ${context}`)
  assert.ok(thrown instanceof SwitchboardError, `expected SwitchboardError, got ${String(thrown)} ${context}`)
  assert.equal(thrown.code, code, `${thrown.message} ${context}`)
}

export interface GoldenVector {
  name: string
  /** Frame as JSON: byte fields are lowercase hex strings. */
  frame: Record<string, unknown>
  hex: string
  notes: string[]
}

export function loadGolden(): GoldenVector[] {
  const url = new URL('../../fixtures/golden/frames.json', import.meta.url)
  return JSON.parse(readFileSync(url, 'utf8')) as GoldenVector[]
}

/** Byte fields of each frame type, written as hex in the golden file. */
const byteFields: Record<string, readonly string[]> = {
  open: ['data', 'trace'],
  msg: ['data', 'trace'],
  reply: ['data'],
  data: ['data'],
  end: ['detail'],
  ping: ['data'],
  pong: ['data'],
  unknown: ['payload'],
}

/** Turns a golden JSON frame description into a Frame (hex strings become Uint8Arrays). */
export function frameFromJson(json: Record<string, unknown>): Frame {
  const out: Record<string, unknown> = { ...json }
  for (const field of byteFields[String(json['type'])] ?? []) {
    const value = json[field]
    if (typeof value === 'string') out[field] = fromHex(value)
  }
  return out as unknown as Frame
}

/**
 * The hex bytes a note annotates: leading tokens "ab" or "ab*N" (N repetitions), up to the first
 * word that is not such a token.
 */
export function noteBytes(note: string): string {
  let hex = ''
  for (const token of note.split(' ')) {
    const m = /^([0-9a-f]{2})(?:\*(\d+))?$/.exec(token)
    if (m === null) break
    hex += m[1]!.repeat(m[2] === undefined ? 1 : Number(m[2]))
  }
  return hex
}

// ---------------------------------------------------------------- fast-check arbitraries

const u53 = fc.maxSafeNat()
/** Mostly small numbers (1-2 byte varints) with the occasional large one. */
const num = fc.oneof({ weight: 4, arbitrary: fc.nat(300) }, { weight: 1, arbitrary: u53 })
const channel = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 300 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) },
)
const body = fc.uint8Array({ maxLength: 200 })
const encoder = new TextEncoder()
/** fc.record makes null-prototype objects by default; decoded frames are plain objects. */
const plain = { noNullPrototype: true }

const openFrame: fc.Arbitrary<Frame> = fc
  .record(
    {
      type: fc.constant('open' as const),
      channel,
      fin: fc.boolean(),
      oneWay: fc.boolean(),
      kind: fc.nat(3),
      method: num,
      messageId: num,
      deadlineMs: num,
      trace: fc.uint8Array({ maxLength: 512 }),
      totalSize: num,
      data: body,
    },
    {
      requiredKeys: ['type', 'channel', 'fin', 'oneWay', 'kind', 'method', 'messageId', 'data'],
      noNullPrototype: true,
    },
  )
  .map((f) => f as Frame)

/** Any frame this implementation can encode and decode, within every wire limit. */
export const arbitraryFrame: fc.Arbitrary<Frame> = fc.oneof(
  openFrame,
  fc.record({ type: fc.constant('data' as const), channel, fin: fc.boolean(), data: body }, plain),
  fc.record(
    {
      type: fc.constant('end' as const),
      channel,
      status: num,
      detail: fc.uint8Array({ maxLength: 64 }),
    },
    plain,
  ),
  fc.record({ type: fc.constant('reset' as const), channel, code: num }, plain),
  fc.record(
    {
      type: fc.constant('credit' as const),
      channel,
      increment: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    },
    plain,
  ),
  fc.record(
    {
      type: fc.constant('credit' as const),
      channel: fc.constant(0),
      increment: num,
      processed: num,
    },
    plain,
  ),
  fc
    .record(
      {
        type: fc.constant('msg' as const),
        kind: fc.nat(0x7f),
        method: num,
        messageId: num,
        deadlineMs: num,
        trace: fc.uint8Array({ maxLength: 512 }),
        data: body,
      },
      { requiredKeys: ['type', 'kind', 'method', 'messageId', 'data'], noNullPrototype: true },
    )
    .map((f) => f as Frame),
  fc.record(
    { type: fc.constant('reply' as const), messageId: num, status: num, raw: fc.boolean(), data: body },
    plain,
  ),
  fc.record({ type: fc.constant('cancel' as const), messageId: num, code: num }, plain),
  fc.record(
    {
      type: fc.constantFrom('ping' as const, 'pong' as const),
      data: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    },
    plain,
  ),
  fc.record({ type: fc.constant('goaway' as const), lastProcessed: num, code: num }, plain),
  fc.record(
    {
      type: fc.constant('settings' as const),
      ack: fc.boolean(),
      values: fc.array(fc.tuple(num, num), { maxLength: 8 }),
    },
    plain,
  ),
  fc.record(
    {
      type: fc.constant('name' as const),
      id: num,
      name: fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => encoder.encode(s).length <= 1024),
    },
    plain,
  ),
  fc.record(
    {
      type: fc.constant('offer' as const),
      offer: fc.record(
        {
          name: fc.string({ maxLength: 20 }),
          version: num,
          methods: fc.array(fc.string({ maxLength: 20 }), { maxLength: 4 }),
          events: fc.array(fc.string({ maxLength: 20 }), { maxLength: 4 }),
        },
        plain,
      ),
    },
    plain,
  ),
  fc.record(
    {
      type: fc.constant('unknown' as const),
      typeByte: fc.oneof(fc.constant(0), fc.integer({ min: 0x0f, max: 0xff })),
      flags: fc.integer({ min: 0, max: 0xff }),
      channel: fc.oneof(fc.constant(0), channel),
      payload: fc.uint8Array({ maxLength: 64 }),
    },
    plain,
  ),
)

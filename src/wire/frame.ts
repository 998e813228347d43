/**
 * Frames: the units a record carries (their shapes; frame-encode.ts and frame-decode.ts turn
 * them into bytes and back). Layout (docs/protocol.md §Frames):
 *
 *   u8 type | u8 flags | varint channel | varint length | payload[length]
 *
 * Frames never span records, so a frame is decoded from a complete record plaintext: running
 * past the end is FRAME_MALFORMED, not "need more bytes".
 */
import type { ProtocolOffer } from './hello.ts'

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
/** The sender now implements one more protocol (docs/protocol.md, OFFER). */
export interface OfferFrame {
  type: 'offer'
  offer: ProtocolOffer
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
  | OfferFrame
  | UnknownFrame

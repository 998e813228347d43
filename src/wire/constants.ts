/**
 * Protocol constants. docs/protocol.md is the normative description; each member here has the
 * doc line a reader of the code needs. `as const` tables rather than enums so the code also runs
 * under Node's type stripping.
 */

/** First bytes on every connection, from both sides: ASCII "SWBD", then major and minor version. */
export const PREAMBLE_MAGIC = [0x53, 0x57, 0x42, 0x44] as const
/** Length of the preamble: 4 magic bytes, u8 major, u8 minor. */
export const PREAMBLE_BYTES = 6
/** Protocol major version this implementation speaks. Peers with no common major refuse. */
export const PROTOCOL_MAJOR = 3
/** Protocol minor version: additions a peer may ignore. */
export const PROTOCOL_MINOR = 0

/** Records: u16 big-endian length, then that many bytes. */
export const RECORD_HEADER_BYTES = 2
/** Largest record body on the wire. */
export const MAX_RECORD_BODY = 0xffff
/** AEAD tag bytes added to each encrypted record. */
export const AEAD_TAG_BYTES = 16
/** Largest record plaintext (flags byte + frames) that still fits once encrypted. */
export const MAX_RECORD_PLAINTEXT = MAX_RECORD_BODY - AEAD_TAG_BYTES

/** Record flags: the first plaintext byte of every record. */
export const RecordFlag = {
  /** The rest of the record is compressed with the negotiated algorithm. */
  COMPRESSED: 0x01,
} as const

/** Frame types (u8). Unknown types are skipped by a receiver (their length is known). */
export const FrameType = {
  /** Opens a channel: message header fields, then the first bytes of the body. */
  OPEN: 0x01,
  /** A chunk of a channel's body in one direction. */
  DATA: 0x02,
  /** Ends one direction of a channel with a status (0 = ok) and optional detail bytes. */
  END: 0x03,
  /** Aborts both directions of a channel with a reason code. */
  RESET: 0x04,
  /**
   * Grants more send credit on a channel (bytes; events on a subscription), or on the connection
   * when channel is 0, where it also carries how many messages the sender has processed.
   */
  CREDIT: 0x05,
  /** Liveness probe with 8 opaque bytes; answered by PONG with the same bytes. */
  PING: 0x06,
  /** Answer to PING. */
  PONG: 0x07,
  /** The sender takes no more messages: those after the first `lastProcessed` it received are refused. */
  GOAWAY: 0x08,
  /** Changes negotiated values (never selects features). */
  SETTINGS: 0x09,
  /** Interns a name (method, topic) under a small id in the sender's name table. */
  NAME: 0x0a,
  /** A whole message in one frame, no channel: header fields, then the body (the hot path). */
  MSG: 0x0b,
  /** The whole response to a request, in one frame: its message id, a status, the body. */
  REPLY: 0x0c,
  /** The caller gives up on a request (cancelled, deadline): its message id and a code. */
  CANCEL: 0x0d,
  /**
   * The sender now also implements one more protocol (or another version of one it offered):
   * the layout of one PROTOCOLS entry of the hello.
   */
  OFFER: 0x0e,
} as const
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType]

/** Frame flags (u8). Meaning depends on the frame type; unknown bits must be zero. */
export const FrameFlag = {
  /** OPEN, DATA: this frame ends the sender's direction of the channel (status ok). */
  FIN: 0x01,
  /** OPEN: a remaining-deadline field is present. */
  HAS_DEADLINE: 0x02,
  /** OPEN: an opaque trace-context field is present. */
  HAS_TRACE: 0x04,
  /** OPEN: a total-size field is present. */
  HAS_SIZE: 0x08,
  /** OPEN: one-way; the receiver's direction is closed from the start (it sends no reply). */
  ONE_WAY: 0x10,
  /** REPLY: the body is raw bytes, not a codec-encoded value. */
  RAW: 0x20,
  /** SETTINGS: acknowledges the peer's settings. */
  ACK: 0x01,
} as const

/**
 * Message kinds carried in MSG and OPEN (the low 4 bits of `kind`; BodyFlag bits above). The
 * mux interprets them only to count messages (a RESPONSE is not one); rpc/ handles them.
 */
export const MessageKind = {
  /** Expects a response: a REPLY frame, or a RESPONSE channel, carrying its message id. */
  REQUEST: 0,
  /** One-way: the receiver sends nothing back. */
  NOTIFY: 1,
  /** A published event on a topic (method = the topic's id). */
  EVENT: 2,
  /** Starts a subscription to a topic (OPEN only); the channel stays open while it lasts. */
  SUBSCRIBE: 3,
  /** OPEN only: a response too big for one REPLY frame, or a stream; message id = the request's. */
  RESPONSE: 4,
} as const

/** Mask of the MessageKind bits of a `kind` field. */
export const KIND_MASK = 0x0f

/** Bits ORed into an OPEN's kind that say how its body is encoded (low 4 bits: MessageKind). */
export const BodyFlag = {
  /** The body is raw bytes, not a codec-encoded value. */
  RAW: 0x10,
  /** The body is a byte stream of unknown length (no size limit; FIN ends it). */
  STREAM: 0x20,
  /**
   * REQUEST and NOTIFY: the caller may send this message id again after a reconnect; the receiver
   * dedupes by (peer identity, link id, message id) and answers a repeat with the first result.
   */
  IDEMPOTENT: 0x40,
} as const

/** Setting keys (SETTINGS frame and hello limits). Unknown keys are ignored. */
export const SettingKey = {
  /** Initial per-channel receive window in bytes. */
  CHANNEL_WINDOW: 1,
  /** Connection-wide receive window in bytes. */
  CONNECTION_WINDOW: 2,
  /** Largest chunk the scheduler sends at a time, in bytes. */
  CHUNK_BYTES: 3,
  /** Most channels the sender accepts open at once. */
  MAX_CHANNELS: 4,
  /** Largest non-streamed message body the sender accepts, in bytes. */
  MAX_MESSAGE_BYTES: 5,
  /** Keepalive timeout in ms: the sender pings when idle at half of it. */
  KEEPALIVE_MS: 6,
} as const

/** Default limits. Every one is an option; docs/limits.md documents them. */
export const WireLimits = {
  /** Largest varint value accepted (2^53 - 1). */
  maxVarint: Number.MAX_SAFE_INTEGER,
  /** Largest name (method, topic, codec) in a NAME frame or hello, in bytes. */
  maxNameBytes: 1024,
  /** Largest trace-context field in an OPEN frame, in bytes. */
  maxTraceBytes: 512,
  /** Largest END detail in bytes. */
  maxDetailBytes: 16 * 1024,
} as const

/** Hello field keys (TLV: varint key, varint length, value). Unknown keys are skipped. */
export const HelloKey = {
  /** u8 per protocol major version supported. */
  VERSIONS: 1,
  /** varint: 0 = dialer, 1 = listener. */
  ROLE: 2,
  /** 16 random bytes; a dialer keeps its link id across reconnects. */
  LINK_ID: 3,
  /** String list: payload codecs, in preference order. */
  CODECS: 4,
  /** String list: record compression algorithms, in preference order ("none" is implicit). */
  COMPRESSION: 5,
  /** String list: security modes offered, in preference order. */
  SECURITY: 6,
  /** Sequence of (varint SettingKey, varint value): the sender's receive limits. */
  LIMITS: 7,
  /** Protocols offered: varint count, then per protocol: name, varint version, method list, event list. */
  PROTOCOLS: 8,
} as const

/** Length of a link id in bytes. */
export const LINK_ID_BYTES = 16

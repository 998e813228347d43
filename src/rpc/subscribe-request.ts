/**
 * The body of a SUBSCRIBE channel in each direction (docs/protocol.md §Subscriptions).
 *
 * Subscriber → publisher, carried in the OPEN:
 *   varint window | u8 policy | u8 flags | varint resumeAfter | varint labelLength | label (UTF-8)
 * flags bit 0 (RESUME): the subscription is carried on from an earlier connection of this link,
 * and `resumeAfter` is the highest sequence number it has received (0: none yet). Without it,
 * this is a new subscription and `resumeAfter` is 0. `label` names the subscriber in the
 * publisher's reports.
 *
 * Publisher → subscriber, one byte once it has the subscription: NEW (numbering starts at 1) or
 * RESUMED (it sends again every event after `resumeAfter` it still holds, then new ones).
 */
import { sbError } from '../errors.ts'
import { Cursor } from '../wire/cursor.ts'
import { varintSize, writeVarint } from '../wire/varint.ts'

/** What happens to events a subscriber cannot take in time (its subscription's choice). */
export type SubscriptionPolicy = 'block' | 'drop-oldest' | 'drop-newest' | 'disconnect'

const POLICY_CODES: readonly SubscriptionPolicy[] = ['block', 'drop-oldest', 'drop-newest', 'disconnect']

/** Longest label, in bytes. */
export const MAX_SUBSCRIBER_LABEL_BYTES = 256

export const SubscribeAck = { NEW: 1, RESUMED: 2 } as const

const FLAG_RESUME = 0x01

export interface SubscribeRequest {
  /** Events the publisher may send ahead of returned credit (at least 1). */
  window: number
  policy: SubscriptionPolicy
  /** Carried on from an earlier connection of the same link. */
  resume: boolean
  /** With `resume`: the highest sequence number received (0: none yet). */
  resumeAfter: number
  label: string
}

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

export function encodeSubscribeRequest(req: SubscribeRequest): Uint8Array {
  let label = utf8.encode(req.label)
  if (label.length > MAX_SUBSCRIBER_LABEL_BYTES) label = utf8.encode(truncateLabel(req.label))
  const size =
    varintSize(req.window) + 2 + varintSize(req.resumeAfter) + varintSize(label.length) + label.length
  const out = new Uint8Array(size)
  let at = writeVarint(out, 0, req.window)
  out[at++] = POLICY_CODES.indexOf(req.policy)
  out[at++] = req.resume ? FLAG_RESUME : 0
  at = writeVarint(out, at, req.resumeAfter)
  at = writeVarint(out, at, label.length)
  out.set(label, at)
  return out
}

/** Decodes a subscriber's request; a malformed one throws PROTOCOL_ERROR (the channel is reset). */
export function decodeSubscribeRequest(body: Uint8Array): SubscribeRequest {
  try {
    const c = new Cursor(body)
    const window = c.varint()
    const policy = POLICY_CODES[c.u8()]
    const flags = c.u8()
    const resumeAfter = c.varint()
    const label = strictUtf8.decode(c.bytes(c.length(MAX_SUBSCRIBER_LABEL_BYTES, 'subscriber label')))
    if (window < 1) throw new Error('a window of 0 would stall forever')
    if (policy === undefined) throw new Error('unknown policy')
    if ((flags & ~FLAG_RESUME) !== 0) throw new Error('unknown flags')
    if (!(flags & FLAG_RESUME) && resumeAfter !== 0) throw new Error('resumeAfter without RESUME')
    if (c.remaining !== 0) throw new Error('bytes after the label')
    return { window, policy, resume: (flags & FLAG_RESUME) !== 0, resumeAfter, label }
  } catch (err) {
    throw sbError('PROTOCOL_ERROR', `malformed SUBSCRIBE body: ${(err as Error).message}`)
  }
}

/** Cuts a label to at most MAX_SUBSCRIBER_LABEL_BYTES of UTF-8, on a character boundary. */
function truncateLabel(label: string): string {
  let out = ''
  let bytes = 0
  for (const ch of label) {
    const n = utf8.encode(ch).length
    if (bytes + n > MAX_SUBSCRIBER_LABEL_BYTES) break
    out += ch
    bytes += n
  }
  return out
}

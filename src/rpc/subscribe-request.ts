/**
 * The body of a SUBSCRIBE channel in each direction (docs/protocol.md §Subscriptions).
 *
 * Subscriber → publisher, carried in the OPEN:
 *   varint window | u8 policy | varint resumeAfter | varint labelLength | label (UTF-8)
 * `resumeAfter` is 0 for a new subscription, else the highest sequence number the subscriber
 * has received on this link (a resume after a reconnect). `label` names the subscriber in the
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

export interface SubscribeRequest {
  /** Events the publisher may send ahead of returned credit (at least 1). */
  window: number
  policy: SubscriptionPolicy
  /** 0: a new subscription; else the last sequence number received (resume). */
  resumeAfter: number
  label: string
}

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

export function encodeSubscribeRequest(req: SubscribeRequest): Uint8Array {
  let label = utf8.encode(req.label)
  if (label.length > MAX_SUBSCRIBER_LABEL_BYTES) label = utf8.encode(truncateLabel(req.label))
  const size = varintSize(req.window) + 1 + varintSize(req.resumeAfter) + varintSize(label.length) + label.length
  const out = new Uint8Array(size)
  let at = writeVarint(out, 0, req.window)
  out[at++] = POLICY_CODES.indexOf(req.policy)
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
    const resumeAfter = c.varint()
    const label = strictUtf8.decode(c.bytes(c.length(MAX_SUBSCRIBER_LABEL_BYTES, 'subscriber label')))
    if (window < 1) throw new Error('a window of 0 would stall forever')
    if (policy === undefined) throw new Error('unknown policy')
    if (c.remaining !== 0) throw new Error('bytes after the label')
    return { window, policy, resumeAfter, label }
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

/**
 * A structural check of a MessagePack body before msgpackr decodes it: exactly one value, and no
 * extension but the timestamp (type -1 with 4, 8 or 12 bytes, protocol.md §21). msgpackr's own
 * extensions (Error objects, Sets, typed arrays, big integers, `undefined`) live in one table
 * shared by every user of msgpackr in the process, so they are refused here instead of being
 * switched off there. One pass over the bytes, no allocation.
 */
import { sbError } from '../errors.ts'

/** Bytes after the type byte that a fixed-size item carries (0xc0–0xdf), -1 when variable. */
function fixedTail(b: number): number {
  switch (b) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
      return 0
    case 0xcc:
    case 0xd0:
      return 1
    case 0xcd:
    case 0xd1:
      return 2
    case 0xca:
    case 0xce:
    case 0xd2:
      return 4
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return 8
    default:
      return -1
  }
}

function invalid(why: string): never {
  throw sbError('CODEC_ERROR', `payload is not valid MessagePack for this protocol: ${why}`)
}

/** Throws CODEC_ERROR unless `buf` is exactly one MessagePack value the protocol allows. */
export function checkMsgpack(buf: Uint8Array): void {
  const end = buf.length
  let pos = 0
  // Values still to read: one, plus each array's items and each map's keys and values.
  let pending = 1
  const need = (n: number): void => {
    if (pos + n > end) invalid('it ends inside a value')
  }
  const u16 = (): number => {
    need(2)
    const v = (buf[pos]! << 8) | buf[pos + 1]!
    pos += 2
    return v
  }
  const u32 = (): number => {
    need(4)
    const v = buf[pos]! * 0x1000000 + ((buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!)
    pos += 4
    return v
  }
  while (pending > 0) {
    pending--
    need(1)
    const b = buf[pos++]!
    if (b <= 0x7f || b >= 0xe0) continue // fixints
    if (b <= 0x8f) {
      pending += 2 * (b & 0x0f)
      continue
    }
    if (b <= 0x9f) {
      pending += b & 0x0f
      continue
    }
    if (b <= 0xbf) {
      need(b & 0x1f)
      pos += b & 0x1f
      continue
    }
    const tail = fixedTail(b)
    if (tail >= 0) {
      need(tail)
      pos += tail
      continue
    }
    let length: number
    switch (b) {
      case 0xc4: // bin 8
      case 0xd9: // str 8
        need(1)
        length = buf[pos++]!
        break
      case 0xc5:
      case 0xda:
        length = u16()
        break
      case 0xc6:
      case 0xdb:
        length = u32()
        break
      case 0xdc:
        pending += u16()
        continue
      case 0xdd:
        pending += u32()
        continue
      case 0xde:
        pending += 2 * u16()
        continue
      case 0xdf:
        pending += 2 * u32()
        continue
      case 0xd6: // fixext 4: timestamp 32 (seconds)
        need(5)
        if (buf[pos] !== 0xff) invalid(`extension type ${(buf[pos]! << 24) >> 24}`)
        length = 5
        break
      case 0xd7: // fixext 8: timestamp 64 (30-bit nanoseconds, 34-bit seconds)
        need(9)
        if (buf[pos] !== 0xff) invalid(`extension type ${(buf[pos]! << 24) >> 24}`)
        if (
          (buf[pos + 1]! << 22) + (buf[pos + 2]! << 14) + (buf[pos + 3]! << 6) + (buf[pos + 4]! >> 2) >=
          1e9
        )
          invalid('timestamp nanoseconds out of range')
        length = 9
        break
      case 0xc7: {
        // ext 8: only the timestamp's 12-byte form (32-bit nanoseconds, 64-bit signed seconds)
        need(14)
        if (buf[pos + 1] !== 0xff) invalid(`extension type ${(buf[pos + 1]! << 24) >> 24}`)
        if (buf[pos] !== 12) invalid(`a timestamp of ${buf[pos]} bytes`)
        const at = pos + 2
        const nanos = buf[at]! * 0x1000000 + ((buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!)
        const high = (buf[at + 4]! << 24) | (buf[at + 5]! << 16) | (buf[at + 6]! << 8) | buf[at + 7]!
        const low = buf[at + 8]! * 0x1000000 + ((buf[at + 9]! << 16) | (buf[at + 10]! << 8) | buf[at + 11]!)
        // A Date holds ±8.64e15 ms: seconds beyond ±8.64e12 have no Date to read into.
        if (nanos >= 1e9 || Math.abs(high * 0x100000000 + low) > 8.64e12) invalid('timestamp out of range')
        length = 14
        break
      }
      case 0xc1:
        return invalid('byte 0xc1 is never used')
      default:
        // fixext 1, 2 and 16, ext 16 and 32: no extension of this protocol takes those forms.
        return invalid(`extension form 0x${b.toString(16)}`)
    }
    need(length)
    pos += length
  }
  if (pos !== end) invalid(`${end - pos} bytes after the value`)
}

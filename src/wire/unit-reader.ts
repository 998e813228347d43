/**
 * The stream decoder: bytes in (in any split), length-prefixed units out. One contract for every
 * unit on the wire: a complete unit, `undefined` for "need more bytes" (never an exception), or a
 * typed SwitchboardError for a violation. Limits are checked when the length header is read,
 * before any byte of the body is buffered.
 *
 * Units are parsed from the socket's chunks without concatenating them: a unit that lies inside
 * one chunk is returned as a view of it; only a unit split across chunks is copied, once.
 */
import { sbError } from '../errors.ts'

export class UnitReader {
  private chunks: Uint8Array[] = []
  /** Read position inside chunks[0]. */
  private head = 0
  private total = 0

  /** Bytes received and not yet consumed. */
  get buffered(): number {
    return this.total
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.total += chunk.length
  }

  /** Takes exactly `n` bytes, or returns undefined when fewer are buffered. */
  take(n: number): Uint8Array | undefined {
    if (n > this.total) return undefined
    return this.consume(n)
  }

  /**
   * Takes one unit made of a big-endian length header of `headerBytes` (2 or 4) and a body of that
   * many bytes. A length above `limit` throws `code` before the body is buffered.
   */
  takeUnit(
    headerBytes: 2 | 4,
    limit: number,
    code: 'FRAME_TOO_LARGE' | 'HELLO_TOO_LARGE',
  ): Uint8Array | undefined {
    if (this.total < headerBytes) return undefined
    const length = headerBytes === 2 ? this.peekU16() : this.peekU32()
    if (length > limit) throw sbError(code, `unit of ${length} bytes exceeds the limit of ${limit}`)
    if (length === 0) throw sbError('FRAME_MALFORMED', 'empty unit')
    if (this.total < headerBytes + length) return undefined
    this.consume(headerBytes)
    return this.consume(length)
  }

  /**
   * Like takeUnit, but a length of 0 is a refusal (docs/protocol.md §6): returns the u16 wire
   * code that follows it as `{ refusal }` once those 2 bytes have arrived.
   */
  takeUnitOrRefusal(
    headerBytes: 2 | 4,
    limit: number,
    code: 'FRAME_TOO_LARGE' | 'HELLO_TOO_LARGE',
  ): Uint8Array | { refusal: number } | undefined {
    if (this.total < headerBytes) return undefined
    const length = headerBytes === 2 ? this.peekU16() : this.peekU32()
    if (length !== 0) return this.takeUnit(headerBytes, limit, code)
    if (this.total < headerBytes + 2) return undefined
    this.consume(headerBytes)
    const wire = this.consume(2)
    return { refusal: (wire[0]! << 8) | wire[1]! }
  }

  private peekByte(index: number): number {
    let i = this.head + index
    for (const chunk of this.chunks) {
      if (i < chunk.length) return chunk[i]!
      i -= chunk.length
    }
    throw sbError('INTERNAL', 'peek past buffered bytes')
  }

  private peekU16(): number {
    const first = this.chunks[0]!
    if (this.head + 2 <= first.length) return (first[this.head]! << 8) | first[this.head + 1]!
    return (this.peekByte(0) << 8) | this.peekByte(1)
  }

  private peekU32(): number {
    return (
      ((this.peekByte(0) << 24) >>> 0) +
      ((this.peekByte(1) << 16) | (this.peekByte(2) << 8) | this.peekByte(3))
    )
  }

  private consume(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0)
    const first = this.chunks[0]!
    this.total -= n
    if (this.head + n <= first.length) {
      const view = first.subarray(this.head, this.head + n)
      this.head += n
      if (this.head === first.length) {
        this.chunks.shift()
        this.head = 0
      }
      return view
    }
    const out = new Uint8Array(n)
    let filled = 0
    while (filled < n) {
      const chunk = this.chunks[0]!
      const take = Math.min(chunk.length - this.head, n - filled)
      out.set(chunk.subarray(this.head, this.head + take), filled)
      filled += take
      this.head += take
      if (this.head === chunk.length) {
        this.chunks.shift()
        this.head = 0
      }
    }
    return out
  }
}

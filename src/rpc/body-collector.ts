/**
 * Gathers a message body that arrives on a channel in chunks. A body of announced size (the
 * OPEN's total size) gets one buffer of that size up front and each chunk is copied in as it
 * arrives: no list of chunks, no record kept alive, no second copy at the end. A body of unknown
 * size keeps its chunks and joins them once. Either way the result is the receiver's own copy.
 */
export class BodyCollector {
  private buf: Uint8Array | undefined
  private parts: Uint8Array[] | undefined
  size = 0

  /** `announced`: the sender's total size (already checked against the receiver's limit). */
  constructor(private readonly announced: number | undefined) {
    if (announced !== undefined && announced > 0) this.buf = Buffer.allocUnsafe(announced)
  }

  /** Adds a chunk (a view the caller may not keep); false when it runs past the announced size. */
  add(data: Uint8Array): boolean {
    if (data.length === 0) return true
    const at = this.size
    this.size += data.length
    if (this.announced !== undefined) {
      if (this.size > this.announced) return false
      this.buf!.set(data, at)
      return true
    }
    ;(this.parts ??= []).push(data.slice())
    return true
  }

  /** The whole body; undefined when it ended short of its announced size. */
  finish(): Uint8Array | undefined {
    if (this.announced !== undefined) {
      if (this.size !== this.announced) return undefined
      return this.buf ?? new Uint8Array(0)
    }
    const parts = this.parts ?? []
    this.parts = undefined
    if (parts.length === 1) return parts[0]!
    const out = Buffer.allocUnsafe(this.size)
    let pos = 0
    for (const p of parts) {
      out.set(p, pos)
      pos += p.length
    }
    return out
  }
}

/**
 * Prints a call's result as one line of JSON. Values JSON lacks are mapped, not dropped:
 * undefined → null, BigInt → its decimal string, Map → an object, Set → an array, raw bytes →
 * { "base64": "…" } (Dates become ISO strings through their own toJSON).
 */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value, replacer) ?? 'null'
}

function replacer(this: unknown, key: string, value: unknown): unknown {
  // Look at the holder's original value: Buffer.prototype.toJSON has already run on `value`.
  const original = (this as Record<string, unknown>)[key]
  if (original instanceof Uint8Array) {
    return { base64: Buffer.from(original.buffer, original.byteOffset, original.length).toString('base64') }
  }
  if (typeof original === 'bigint') return original.toString()
  if (original instanceof Map) return Object.fromEntries(original)
  if (original instanceof Set) return [...original]
  return value
}

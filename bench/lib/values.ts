/**
 * Value encodings the adapters share: MessagePack through msgpackr (plain maps, no records: the
 * same library and settings switchboard's codec uses) and base64 for bytes inside JSON.
 */
import { Packr } from 'msgpackr'

const packr = new Packr({ useRecords: false })

export function packValue(value: unknown): Buffer {
  return packr.pack(value)
}

export function unpackValue(bytes: Uint8Array): unknown {
  return packr.unpack(bytes)
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

export function fromBase64(text: string): Buffer {
  return Buffer.from(text, 'base64')
}

/** The first byte of a base64 text, decoding only its first 4 characters (fan-out kinds). */
export function firstByteOfBase64(text: string): number {
  return Buffer.from(text.slice(0, 4), 'base64')[0] ?? -1
}

/**
 * Record compression: the algorithms a side can offer in its hello, by name. Built-ins come
 * from node:zlib; users add their own by passing `Compressor` objects in the options (no
 * global registry: each session gets its own list).
 */
import * as zlib from 'node:zlib'
import { sbError } from '../errors.ts'

export interface Compressor {
  /** Name offered in the hello (must match on both sides). */
  readonly name: string
  compress(data: Uint8Array): Uint8Array
  /** Must refuse output above `maxBytes` (a decompression bomb) by throwing. */
  decompress(data: Uint8Array, maxBytes: number): Uint8Array
}

function zlibCompressor(
  name: string,
  compress: (d: Uint8Array) => Uint8Array,
  decompress: (d: Uint8Array, o: { maxOutputLength: number }) => Uint8Array,
): Compressor {
  return {
    name,
    compress,
    decompress: (data, maxBytes) => decompress(data, { maxOutputLength: maxBytes }),
  }
}

/** The built-in algorithms, by name. */
export const builtinCompressors: ReadonlyMap<string, Compressor> = new Map(
  [
    zlibCompressor(
      'deflate',
      (d) => zlib.deflateRawSync(d, { level: 1 }),
      (d, o) => zlib.inflateRawSync(d, o),
    ),
    zlibCompressor(
      'gzip',
      (d) => zlib.gzipSync(d, { level: 1 }),
      (d, o) => zlib.gunzipSync(d, o),
    ),
    zlibCompressor(
      'brotli',
      (d) => zlib.brotliCompressSync(d, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } }),
      (d, o) => zlib.brotliDecompressSync(d, o),
    ),
  ].map((c) => [c.name, c]),
)

/** Resolves a preference list of names and user compressors into a name → compressor map. */
export function resolveCompressors(list: ReadonlyArray<string | Compressor>): Map<string, Compressor> {
  const out = new Map<string, Compressor>()
  for (const entry of list) {
    if (typeof entry !== 'string') {
      out.set(entry.name, entry)
      continue
    }
    if (entry === 'none') continue
    const builtin = builtinCompressors.get(entry)
    if (builtin === undefined) throw sbError('INVALID_ARGUMENT', `unknown compression algorithm '${entry}'`)
    out.set(entry, builtin)
  }
  return out
}

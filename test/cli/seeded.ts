/**
 * Seeded pseudo-random bytes for the stream tests: SHA-256 in counter mode, so the same seed
 * gives the same bytes in every process and run, and a test can name its input by its seed.
 */
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'

export function seededBytes(seed: string, length: number): Buffer {
  const out = Buffer.allocUnsafe(length)
  for (let offset = 0, block = 0; offset < length; block++) {
    const digest = createHash('sha256').update(`${seed}:${block}`).digest()
    offset += digest.copy(out, offset)
  }
  return out
}

/** Writes `length` seeded bytes to `path`; returns their SHA-256 (hex). */
export async function writeSeededFile(path: string, seed: string, length: number): Promise<string> {
  const bytes = seededBytes(seed, length)
  await writeFile(path, bytes)
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * Temporary runtime directories for tests: owner-only (0700), as the library expects of its
 * runtime directory, under os.tmpdir(). Keep the prefix short: a unix socket path must fit in
 * about 104-108 bytes, and macOS's tmpdir is already long.
 *
 *   const dir = await makeRuntimeDir()
 *   after(() => dir.cleanup())
 */
import { chmod, mkdtemp, realpath, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RuntimeDir {
  /** Absolute, symlink-free path of the new directory (mode 0700). */
  readonly path: string
  /** Removes the directory and everything in it; safe to call more than once. */
  cleanup(): Promise<void>
}

/** Creates a fresh 0700 directory under os.tmpdir(). */
export async function makeRuntimeDir(prefix = 'sb-'): Promise<RuntimeDir> {
  const created = await mkdtemp(join(tmpdir(), prefix))
  await chmod(created, 0o700)
  const path = await realpath(created)
  let removed: Promise<void> | undefined
  return {
    path,
    cleanup() {
      removed ??= rm(path, { recursive: true, force: true, maxRetries: 3 })
      return removed
    },
  }
}

/**
 * The daemon's static key pair: read from its key file (0600), or made and written there on the
 * first start, so a restart keeps the key clients pinned. The public key is also written to a
 * world-readable file beside the socket, where local clients read it before they dial.
 */
import { existsSync } from 'node:fs'
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { KeyPair } from '../handshake/crypto.ts'
import { formatPublicKey, generateKeyPair, readKeyPairFile, writeKeyPairFile } from '../session/key-files.ts'

/** The key pair in `path`, made (0600, in a 0700 directory made if missing) when there is none. */
export async function loadOrCreateKeyPair(path: string): Promise<KeyPair> {
  if (existsSync(path)) return readKeyPairFile(path)
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const pair = generateKeyPair()
  writeKeyPairFile(path, pair, { force: true, comment: 'switchboard daemon' })
  return pair
}

/** Writes the public key line to `path` (0644), replacing it atomically. */
export async function writePublicKeyFile(path: string, publicKey: Uint8Array): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`
  await writeFile(temp, `${formatPublicKey(publicKey, 'switchboard daemon')}\n`, { mode: 0o644 })
  await chmod(temp, 0o644)
  await rename(temp, path)
}

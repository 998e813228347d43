/**
 * The package version, read from package.json: two levels above this file both in src/cli/
 * (run through tsx) and in dist/cli/ (the built bin).
 */
import { readFileSync } from 'node:fs'

export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8')
  const version: unknown = (JSON.parse(text) as { version?: unknown }).version
  return typeof version === 'string' ? version : 'unknown'
}

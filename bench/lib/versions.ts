/**
 * What was measured: the switchboard commit, and the exact version of each peer package as
 * installed in bench/node_modules (pinned in bench/package.json) and of nats-server.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BENCH = fileURLToPath(new URL('..', import.meta.url))

function run(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, {
      cwd: BENCH,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
  } catch {
    return undefined
  }
}

function installed(pkg: string): string {
  try {
    const json = JSON.parse(readFileSync(join(BENCH, 'node_modules', pkg, 'package.json'), 'utf8')) as {
      version: string
    }
    return json.version
  } catch {
    return 'not installed'
  }
}

export function versions(): Record<string, string> {
  const manifest = JSON.parse(readFileSync(join(BENCH, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>
  }
  const commit = run('git', ['rev-parse', '--short', 'HEAD']) ?? 'unknown'
  const dirty =
    (run('git', ['status', '--porcelain', '--', '../src']) ?? '') !== '' ? ' + uncommitted src/ changes' : ''
  const out: Record<string, string> = { switchboard: `${commit}${dirty}` }
  for (const pkg of Object.keys(manifest.dependencies)) out[pkg] = installed(pkg)
  out['nats-server'] = run('nats-server', ['--version'])?.replace(/^nats-server: /, '') ?? 'not installed'
  return out
}

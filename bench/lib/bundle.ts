/**
 * Bundles the agent and every adapter with esbuild (bench/'s own devDependency) before a run, so
 * each of the many agent processes starts in about a quarter of a second instead of paying tsx's
 * per-process compile (over a second each). The code is the same TypeScript, transformed by the
 * same esbuild tsx uses; npm packages stay external and load from bench/node_modules and the
 * root's node_modules. Shared modules go to common chunks (code splitting), so an agent loads
 * only its own system's adapter.
 */
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BENCH = fileURLToPath(new URL('..', import.meta.url))
/** Under node_modules: ignored by git and biome, and bare imports resolve from bench/node_modules. */
export const BUNDLE_DIR = join(BENCH, 'node_modules', '.bench-build')

interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ errors: unknown[] }>
}

/** Builds the bundle; resolves with the path of the bundled agent. */
export async function bundleAgent(): Promise<string> {
  // A computed specifier: the root typecheck runs before bench/node_modules exists.
  const specifier = 'esbuild'
  const esbuild = (await import(specifier)) as Esbuild
  const peers = readdirSync(join(BENCH, 'peers'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(BENCH, 'peers', f))
  rmSync(BUNDLE_DIR, { recursive: true, force: true })
  await esbuild.build({
    entryPoints: [
      join(BENCH, 'agent.ts'),
      join(BENCH, 'lib', 'raw.ts'),
      join(BENCH, 'lib', 'switchboard.ts'),
      ...peers,
    ],
    outdir: BUNDLE_DIR,
    outbase: BENCH,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  })
  return join(BUNDLE_DIR, 'agent.mjs')
}

/**
 * The published declarations have no `any`: the package's .d.ts files (built as `npm run build`
 * builds them, into a temporary directory) are scanned for the `any` type, outside comments and
 * string literals, with an empty allow-list.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { promisify } from 'node:util'
import { makeRuntimeDir } from '../helpers/tmp.ts'

const run = promisify(execFile)
const root = new URL('../../', import.meta.url).pathname
const out = await makeRuntimeDir('sb-dts-')
after(() => out.cleanup())

/** Drops comments and the contents of string literals, so only type syntax is left. */
export function typeSyntax(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/\/\/[^\n]*/g, ' ')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, "''")
}

async function declarations(dir: string): Promise<string[]> {
  const files: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.d.ts')) files.push(join(entry.parentPath, entry.name))
  }
  return files
}

test('the scan finds an `any` in type syntax, and none in comments or strings', () => {
  assert.match(typeSyntax('export declare function f(x: any): void;'), /\bany\b/)
  assert.match(typeSyntax('type T = Array<any>'), /\bany\b/)
  assert.doesNotMatch(typeSyntax("/** takes any schema */ type T = 'any' // any"), /\bany\b/)
})

test('dist/**/*.d.ts as built has no `any` (empty allow-list)', async () => {
  const tsc = join(root, 'node_modules/typescript/bin/tsc')
  await run(
    process.execPath,
    [tsc, '-p', join(root, 'tsconfig.build.json'), '--emitDeclarationOnly', '--outDir', out.path],
    {
      cwd: root,
    },
  )
  const files = await declarations(out.path)
  assert.ok(
    files.some((f) => f.endsWith('index.d.ts')),
    'the build wrote index.d.ts',
  )
  assert.ok(
    files.some((f) => f.endsWith('contract.d.ts')),
    'the build wrote the contracts',
  )
  const found: string[] = []
  for (const file of files) {
    const lines = typeSyntax(await readFile(file, 'utf8')).split('\n')
    lines.forEach((line, i) => {
      if (/\bany\b/.test(line)) found.push(`${file.slice(out.path.length + 1)}:${i + 1}: ${line.trim()}`)
    })
  }
  assert.deepEqual(found, [])
})

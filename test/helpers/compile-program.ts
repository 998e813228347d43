/**
 * Compiles a fixture program and everything it imports to plain JavaScript in `outDir`, so a
 * test can run it on bare `node`, as the built package runs: no TypeScript loader in the
 * process (tsx alone adds about 50 MiB of RSS, which would drown a memory measurement).
 * Type checking is tsc's job elsewhere; here the files are only transpiled.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import ts from 'typescript'

const ROOT = resolve(import.meta.dirname, '../..')

/** Returns the path of the compiled entry file. */
export function compileProgram(entry: string, outDir: string): string {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
      },
    },
  )
  if (parsed === undefined) throw new Error('tsconfig.json could not be read')
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: false,
    noCheck: true,
    allowImportingTsExtensions: false,
    rewriteRelativeImportExtensions: true,
    declaration: false,
    sourceMap: false,
    rootDir: ROOT,
    outDir,
  }
  const program = ts.createProgram([resolve(ROOT, entry)], options)
  const result = program.emit()
  const errors = result.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error)
  if (errors.length > 0)
    throw new Error(
      ts.formatDiagnostics(errors, {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => ROOT,
        getNewLine: () => '\n',
      }),
    )
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n')
  symlinkSync(join(ROOT, 'node_modules'), join(outDir, 'node_modules'))
  return join(outDir, relative(ROOT, resolve(ROOT, entry))).replace(/\.ts$/, '.js')
}

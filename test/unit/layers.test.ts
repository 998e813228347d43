/**
 * The layer check of DESIGN.md §2 is dependency-cruiser's (.dependency-cruiser.cjs: the import
 * graph) and biome's (biome.json overrides: the pure folders' globals, literal dynamic imports).
 * It passes on the real src/, and fails on small fake trees that each break one part of the rule
 * — so the check is proven to bite.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { cruise, type ICruiseResult } from 'dependency-cruiser'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const depcruiseConfig = createRequire(import.meta.url)(join(repoRoot, '.dependency-cruiser.cjs'))
const biomeBin = join(repoRoot, 'node_modules/.bin/biome')
const depcruiseBin = join(repoRoot, 'node_modules/.bin/depcruise')
/** The files that make up the check, copied into each fake tree. */
const CONFIG_FILES = ['.dependency-cruiser.cjs', 'biome.json', 'scripts/lint/literal-dynamic-import.grit']

type ViolationRule =
  | 'layer'
  | 'testing'
  | 'node-import'
  | 'package-import'
  | 'impure'
  | 'cycle'
  | 'unknown-folder'
  | 'unresolved'
  | 'outside-src'
  | 'dynamic-import'

interface Violation {
  rule: ViolationRule
  file: string
  message: string
}

/** A minimal clean tree every fake case starts from. */
const BASE: Record<string, string> = {
  'src/errors.ts': "export const E = 'E'\n",
  'src/index.ts': "export { E } from './errors.ts'\nexport { wire } from './wire/a.ts'\n",
  'src/protocol.ts': "export * from './wire/a.ts'\n",
  'src/wire/a.ts': "import { E } from '../errors.ts'\nexport const wire = E\n",
  'src/internal/util.ts': 'export const id = <T>(x: T): T => x\n',
}

let tmp: RuntimeDir
let counter = 0

before(async () => {
  tmp = await makeRuntimeDir('sb-layers-')
})
after(() => tmp.cleanup())

/** dependency-cruiser's and biome's findings on the tree at `root`, as (rule, file) pairs. */
async function checkLayers(root: string): Promise<Violation[]> {
  const { options, ...ruleSet } = depcruiseConfig
  const result = await cruise(['src'], { ...options, baseDir: root, validate: true, ruleSet })
  const violations: Violation[] = (result.output as ICruiseResult).summary.violations.map((v) => ({
    rule: v.rule.name as ViolationRule,
    file: v.from,
    message: v.cycle ? [v.from, ...v.cycle.map((c) => c.name)].join(' -> ') : `-> ${v.to}`,
  }))
  const lint = spawnSync(biomeBin, ['lint', '--reporter=github', '--max-diagnostics=none', 'src'], {
    cwd: root,
    encoding: 'utf8',
  })
  for (const m of lint.stdout.matchAll(/^::error title=([^,]+),file=([^,]+),[^:]*::(.*)$/gm)) {
    const [, title, file, message] = m as unknown as [string, string, string, string]
    const rule: ViolationRule | undefined = title.endsWith('noRestrictedGlobals')
      ? 'impure'
      : message.startsWith('dynamic-import')
        ? 'dynamic-import'
        : undefined
    assert.ok(rule, `unexpected biome finding in a fake tree: ${title} ${file}: ${message}`)
    violations.push({ rule, file: relative(root, file), message })
  }
  return violations
}

/** Writes BASE plus `files` and the check's configuration into a fresh directory and checks it. */
async function check(files: Record<string, string>): Promise<Violation[]> {
  const root = join(tmp.path, `tree${counter++}`)
  for (const [path, text] of Object.entries({ ...BASE, ...files })) {
    const full = join(root, path)
    mkdirSync(dirname(full), { recursive: true })
    writeFileSync(full, text)
  }
  for (const file of CONFIG_FILES) {
    mkdirSync(dirname(join(root, file)), { recursive: true })
    copyFileSync(join(repoRoot, file), join(root, file))
  }
  return checkLayers(root)
}

function show(violations: Violation[]): string {
  return violations.map((v) => `${v.file} [${v.rule}] ${v.message}`).join('\n') || '(none)'
}

/** Asserts exactly the given (rule, file) pairs were reported, in any order. */
function expectViolations(violations: Violation[], expected: [ViolationRule, string][]): void {
  const got = violations.map((v) => `${v.rule} ${v.file}`).sort()
  const want = expected.map(([rule, file]) => `${rule} ${file}`).sort()
  assert.deepEqual(got, want, `violations:\n${show(violations)}`)
}

test('the real src/ follows the import rule', async () => {
  const violations = await checkLayers(repoRoot)
  assert.equal(violations.length, 0, `DESIGN.md §2 violations in src/:\n${show(violations)}`)
})

test('npm run check:layers (depcruise) passes the real tree and exits non-zero with a report on a bad one', async () => {
  const args = ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err']
  const ok = spawnSync(depcruiseBin, args, { cwd: repoRoot, encoding: 'utf8' })
  assert.equal(ok.status, 0, ok.stdout + ok.stderr)
  assert.match(ok.stdout, /no dependency violations found/)

  await check({ 'src/mux/m.ts': "import '../record/r.ts'\n", 'src/record/r.ts': '' })
  const badRoot = join(tmp.path, `tree${counter - 1}`)
  const bad = spawnSync(depcruiseBin, args, { cwd: badRoot, encoding: 'utf8' })
  assert.notEqual(bad.status, 0)
  assert.match(bad.stdout, /error layer: src\/mux\/m\.ts → src\/record\/r\.ts/)
})

describe('fake trees', async () => {
  test('the clean base tree passes', async () => {
    expectViolations(await check({}), [])
  })

  test('a well-layered stack passes', async () => {
    const v = await check({
      'src/handshake/h.ts':
        "import { wire } from '../wire/a.ts'\nimport '../internal/util.ts'\nexport { wire }\n",
      'src/record/r.ts': "import { gzipSync } from 'node:zlib'\nimport '../wire/a.ts'\nexport { gzipSync }\n",
      'src/mux/m.ts': "import type { E } from '../errors.ts'\nexport type X = E\n",
      'src/session/s.ts':
        "import '../handshake/h.ts'\nimport '../record/r.ts'\nimport '../mux/m.ts'\nimport '../transport/t.ts'\nimport { setTimeout } from 'node:timers'\nexport const now = Date.now()\n",
      'src/transport/t.ts': "import { connect } from 'node:net'\nimport '../errors.ts'\nexport { connect }\n",
      'src/rpc/r.ts': "import '../session/s.ts'\nimport 'msgpackr'\n",
      'src/link/l.ts': "import '../rpc/r.ts'\nimport '../transport/t.ts'\n",
      'src/discovery/d.ts': "import '../link/l.ts'\n",
      'src/peer/p.ts': "import '../discovery/d.ts'\nimport '../transport/t.ts'\n",
      'src/daemon/d.ts': "import '../peer/p.ts'\nimport '../wire/a.ts'\n",
      'src/cli/main.ts': "import '../daemon/d.ts'\nconst m = await import(process.argv[2]!)\nexport { m }\n",
      'src/testing/index.ts': "import '../index.ts'\nimport '../cli/main.ts'\n",
      // a timed helper (named in .dependency-cruiser.cjs TIMED_HELPERS) is for session/ and above
      'src/internal/deadline-sweep.ts': 'export const now = (): number => performance.now()\n',
      'src/link/uses-clock.ts': "import '../internal/deadline-sweep.ts'\n",
    })
    expectViolations(v, [])
  })

  test('handshake/, record/ and mux/ do not import each other, not even types', async () => {
    const v = await check({
      'src/mux/m.ts': "import { r } from '../record/r.ts'\nexport { r }\n",
      'src/record/r.ts': "export const r = 1\nexport type { H } from '../handshake/h.ts'\n",
      'src/handshake/h.ts': "import type { M } from '../mux/types.ts'\nexport type H = M\n",
      'src/mux/types.ts': 'export type M = number\n',
    })
    expectViolations(v, [
      ['layer', 'src/mux/m.ts'],
      ['layer', 'src/record/r.ts'],
      ['layer', 'src/handshake/h.ts'],
    ])
  })

  test('upward imports are refused at every level', async () => {
    const v = await check({
      'src/wire/up.ts': "import '../handshake/h.ts'\n",
      'src/handshake/h.ts': '',
      'src/session/s.ts': "import '../rpc/r.ts'\n",
      'src/rpc/r.ts': "export * from '../link/l.ts'\n",
      'src/link/l.ts': "const x = await import('../peer/p.ts')\nexport { x }\n",
      'src/peer/p.ts': "import '../daemon/d.ts'\n",
      'src/daemon/d.ts': "import '../cli/c.ts'\n",
      'src/cli/c.ts': '',
    })
    expectViolations(v, [
      ['layer', 'src/wire/up.ts'],
      ['layer', 'src/session/s.ts'],
      ['layer', 'src/rpc/r.ts'],
      ['layer', 'src/link/l.ts'],
      ['layer', 'src/peer/p.ts'],
      ['layer', 'src/daemon/d.ts'],
    ])
  })

  test('transport/ is only for session/, link/, peer/, daemon/, cli/, and is itself a leaf', async () => {
    const v = await check({
      'src/transport/t.ts': "import '../wire/a.ts'\nimport 'node:net'\n",
      'src/transport/u.ts': "import '../session/s.ts'\n",
      'src/session/s.ts': '',
      'src/rpc/r.ts': "import '../transport/t.ts'\n",
      'src/discovery/d.ts': "import '../transport/t.ts'\n",
      'src/mux/m.ts': "import '../transport/t.ts'\n",
      'src/transport/pkg.ts': "import 'socks'\n",
    })
    expectViolations(v, [
      ['layer', 'src/transport/t.ts'],
      ['layer', 'src/transport/u.ts'],
      ['layer', 'src/rpc/r.ts'],
      ['layer', 'src/discovery/d.ts'],
      ['layer', 'src/mux/m.ts'],
      ['package-import', 'src/transport/pkg.ts'],
    ])
  })

  test('pure folders import no node: module or package; record/ only node:zlib', async () => {
    const v = await check({
      'src/mux/m.ts': "import { EventEmitter } from 'node:events'\nexport { EventEmitter }\n",
      'src/wire/b.ts': "import { readFileSync } from 'fs'\nexport { readFileSync }\n",
      'src/handshake/h.ts': "import type { KeyObject } from 'node:crypto'\nexport type K = KeyObject\n",
      'src/record/r.ts': "import 'node:zlib'\nimport 'node:crypto'\n",
      'src/wire/p.ts': "import { pack } from 'msgpackr'\nexport { pack }\n",
    })
    expectViolations(v, [
      ['node-import', 'src/mux/m.ts'],
      ['node-import', 'src/wire/b.ts'],
      ['node-import', 'src/handshake/h.ts'],
      ['node-import', 'src/record/r.ts'],
      ['package-import', 'src/wire/p.ts'],
    ])
  })

  test('pure folders use no timers, Date, performance or process', async () => {
    const v = await check({
      'src/mux/t1.ts': 'export const a = setTimeout(async () => {}, 1)\n',
      'src/mux/t2.ts': 'export const b = () => Date.now()\n',
      'src/mux/t3.ts': 'export const c = performance.now()\n',
      'src/wire/t4.ts': "export const d = process.env['X']\n",
      'src/handshake/t5.ts': 'export const e = globalThis.setImmediate\n',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: source text of a fake file
      'src/handshake/t6.ts': 'export const f = `${setInterval}`\n',
      'src/wire/t7.ts': 'export const g = new Date()\n',
    })
    expectViolations(v, [
      ['impure', 'src/mux/t1.ts'],
      ['impure', 'src/mux/t2.ts'],
      ['impure', 'src/mux/t3.ts'],
      ['impure', 'src/wire/t4.ts'],
      ['impure', 'src/handshake/t5.ts'],
      ['impure', 'src/handshake/t6.ts'],
      ['impure', 'src/wire/t7.ts'],
    ])
  })

  test('the purity scan ignores comments, strings, regexes, properties and keys', async () => {
    const v = await check({
      'src/mux/ok.ts': [
        '// setTimeout(async () => {}, 1) in a comment',
        '/* Date.now() and process.exit() in a block comment */',
        "export const s = 'setTimeout Date performance process.env'",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: source text of a fake file
        'export const t = `Date ${1 + 1} process.exit()`',
        'export const r = /\'setTimeout\\/"/g',
        'export const o = { Date: 1, performance: 2 }',
        'export interface I {',
        '  setTimeout: number',
        '  performance?: number',
        '}',
        'export class P {',
        '  process(x: number): number { return x }',
        '  run(): number { return this.process(1) + o.Date + this.timers.setTimeout }',
        '  timers = { setTimeout: 0 }',
        '}',
      ].join('\n'),
    })
    expectViolations(v, [])
  })

  test('internal/ helpers are pure (so whatever a pure folder reaches is), but the named timed ones', async () => {
    const v = await check({
      'src/internal/clock.ts': 'export const now = (): number => Date.now()\n',
      'src/internal/outer.ts': "export { now } from './clock.ts'\n",
      'src/mux/m.ts': "import { now } from '../internal/outer.ts'\nexport { now }\n",
      'src/internal/fsy.ts': "import 'node:fs'\n",
      'src/record/r.ts': "import '../internal/fsy.ts'\n",
      'src/internal/diagnostics.ts': "import 'node:fs'\nexport const t = setTimeout\n",
      'src/session/s.ts': "import '../internal/diagnostics.ts'\n",
      'src/mux/timed.ts': "import '../internal/diagnostics.ts'\n",
    })
    expectViolations(v, [
      ['impure', 'src/internal/clock.ts'],
      ['node-import', 'src/internal/fsy.ts'],
      ['impure', 'src/mux/timed.ts'],
    ])
  })

  test('errors.ts must stay pure, and internal/ imports no layer', async () => {
    const v = await check({
      'src/errors.ts': "export const E = 'E'\nexport const t = setTimeout\n",
      'src/internal/bad.ts': "import '../session/s.ts'\n",
      'src/session/s.ts': '',
    })
    expectViolations(v, [
      ['impure', 'src/errors.ts'],
      ['layer', 'src/internal/bad.ts'],
    ])
  })

  test('nothing in src/ imports testing/, not even the entry points', async () => {
    const v = await check({
      'src/testing/index.ts': 'export const fake = 1\n',
      'src/session/s.ts': "import '../testing/index.ts'\n",
      'src/index.ts': "export * from './testing/index.ts'\n",
      'src/cli/c.ts': "const t = await import('../testing/index.ts')\nexport { t }\n",
    })
    expectViolations(v, [
      ['testing', 'src/session/s.ts'],
      ['testing', 'src/index.ts'],
      ['testing', 'src/cli/c.ts'],
    ])
  })

  test('layers do not import the entry points', async () => {
    const v = await check({ 'src/cli/c.ts': "import '../index.ts'\n" })
    expectViolations(v, [['layer', 'src/cli/c.ts']])
  })

  test('import cycles are reported with their path; type-only cycles are not', async () => {
    const v = await check({
      'src/wire/x.ts': "import { y } from './y.ts'\nexport const x = y\n",
      'src/wire/y.ts': "import { z } from './z.ts'\nexport const y = 1\nexport { z }\n",
      'src/wire/z.ts': "import { x } from './x.ts'\nexport const z = () => x\n",
      'src/mux/p.ts': "import type { Q } from './q.ts'\nexport type P = Q\n",
      'src/mux/q.ts': "import type { P } from './p.ts'\nexport type Q = { p?: P }\n",
    })
    expectViolations(v, [['cycle', 'src/wire/x.ts']])
    assert.match(
      v[0]!.message,
      /src\/wire\/x\.ts -> src\/wire\/y\.ts -> src\/wire\/z\.ts -> src\/wire\/x\.ts/,
    )
  })

  test('unknown folders and top-level files are errors', async () => {
    const v = await check({ 'src/utils/u.ts': 'export const u = 1\n', 'src/helpers.ts': '' })
    expectViolations(v, [
      ['unknown-folder', 'src/utils/u.ts'],
      ['unknown-folder', 'src/helpers.ts'],
    ])
  })

  test('unresolved imports, imports outside src/ and opaque dynamic imports are errors', async () => {
    const v = await check({
      'src/wire/u.ts': "import './missing.ts'\n",
      'src/rpc/o.ts': "import '../../test/budget.ts'\nimport '../../test/missing.ts'\n",
      'test/budget.ts': 'export const budget = {}\n',
      'src/rpc/d.ts': "const name = './x.ts'\nexport const m = await import(name)\n",
    })
    expectViolations(v, [
      ['unresolved', 'src/wire/u.ts'],
      ['outside-src', 'src/rpc/o.ts'],
      ['unresolved', 'src/rpc/o.ts'],
      ['dynamic-import', 'src/rpc/d.ts'],
    ])
  })

  test('every import form is seen', async () => {
    const forms = [
      "import a from '../rpc/r.ts'",
      "import * as b from '../rpc/r.ts'",
      "import { c, type D } from '../rpc/r.ts'",
      "import type E from '../rpc/r.ts'",
      "import '../rpc/r.ts'",
      "export * from '../rpc/r.ts'",
      "export * as f from '../rpc/r.ts'",
      "export { g } from '../rpc/r.ts'",
      "export type { H } from '../rpc/r.ts'",
      "const i = await import('../rpc/r.ts')",
      'const j = await import(`../rpc/r.ts`)',
      "import {\n  k,\n  l,\n} from '../rpc/r.ts'",
      "import m from '../rpc/r.js'",
    ]
    for (const form of forms) {
      const v = await check({ 'src/mux/m.ts': `${form}\n`, 'src/rpc/r.ts': 'export default 1\n' })
      expectViolations(v, [['layer', 'src/mux/m.ts']])
    }
  })
})

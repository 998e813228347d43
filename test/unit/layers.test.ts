/**
 * The layer check (scripts/check-layers.ts) passes on the real src/, and fails on small fake
 * trees that each break one part of DESIGN.md §2 — so the check is proven to bite.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { checkLayers, type Violation, type ViolationRule } from '../../scripts/check-layers.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

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

/** Writes BASE plus `files` into a fresh directory and runs the check on it. */
function check(files: Record<string, string>): Violation[] {
  const root = join(tmp.path, `tree${counter++}`)
  for (const [path, text] of Object.entries({ ...BASE, ...files })) {
    const full = join(root, path)
    mkdirSync(dirname(full), { recursive: true })
    writeFileSync(full, text)
  }
  return checkLayers(root)
}

function show(violations: Violation[]): string {
  return violations.map((v) => `${v.file}:${v.line} [${v.rule}] ${v.message}`).join('\n') || '(none)'
}

/** Asserts exactly the given (rule, file) pairs were reported, in any order. */
function expectViolations(violations: Violation[], expected: [ViolationRule, string][]): void {
  const got = violations.map((v) => `${v.rule} ${v.file}`).sort()
  const want = expected.map(([rule, file]) => `${rule} ${file}`).sort()
  assert.deepEqual(got, want, `violations:\n${show(violations)}`)
}

test('the real src/ follows the import rule', () => {
  const violations = checkLayers(repoRoot)
  assert.equal(violations.length, 0, `DESIGN.md §2 violations in src/:\n${show(violations)}`)
})

test('the CLI prints OK on the real tree and a report with exit 1 on a bad one', () => {
  const script = join(repoRoot, 'scripts/check-layers.ts')
  const ok = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, encoding: 'utf8' })
  assert.equal(ok.status, 0, ok.stderr)
  assert.match(ok.stdout, /^check-layers: OK \(\d+ files in src\/\)\n$/)

  check({ 'src/mux/m.ts': "import '../record/r.ts'\n", 'src/record/r.ts': '' })
  const badRoot = join(tmp.path, `tree${counter - 1}`)
  const bad = spawnSync(process.execPath, ['--import', 'tsx', script, badRoot], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
  assert.equal(bad.status, 1)
  assert.match(bad.stderr, /src\/mux\/m\.ts:1 {2}\[layer\] {2}mux\/ must not import record\//)
})

describe('fake trees', () => {
  test('the clean base tree passes', () => {
    expectViolations(check({}), [])
  })

  test('a well-layered stack passes', () => {
    const v = check({
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
      'src/internal/clock.ts': 'export const now = (): number => performance.now()\n',
      'src/link/uses-clock.ts': "import '../internal/clock.ts'\n",
    })
    expectViolations(v, [])
  })

  test('handshake/, record/ and mux/ do not import each other, not even types', () => {
    const v = check({
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

  test('upward imports are refused at every level', () => {
    const v = check({
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

  test('transport/ is only for session/, link/, peer/, daemon/, cli/, and is itself a leaf', () => {
    const v = check({
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

  test('pure folders import no node: module or package; record/ only node:zlib', () => {
    const v = check({
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

  test('pure folders use no timers, Date, performance or process', () => {
    const v = check({
      'src/mux/t1.ts': 'export const a = setTimeout(() => {}, 1)\n',
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

  test('the purity scan ignores comments, strings, regexes, properties and keys', () => {
    const v = check({
      'src/mux/ok.ts': [
        '// setTimeout(() => {}, 1) in a comment',
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

  test('internal/ helpers reached from a pure folder must be pure, transitively', () => {
    const v = check({
      'src/internal/clock.ts': 'export const now = (): number => Date.now()\n',
      'src/internal/outer.ts': "export { now } from './clock.ts'\n",
      'src/mux/m.ts': "import { now } from '../internal/outer.ts'\nexport { now }\n",
      'src/internal/fsy.ts': "import 'node:fs'\n",
      'src/record/r.ts': "import '../internal/fsy.ts'\n",
      'src/internal/only-session.ts': "import 'node:fs'\nexport const t = setTimeout\n",
      'src/session/s.ts': "import '../internal/only-session.ts'\n",
    })
    expectViolations(v, [
      ['impure', 'src/internal/clock.ts'],
      ['node-import', 'src/internal/fsy.ts'],
    ])
    assert.match(
      v.find((x) => x.file === 'src/internal/clock.ts')!.message,
      /via src\/mux\/m\.ts -> src\/internal\/outer\.ts -> src\/internal\/clock\.ts/,
    )
  })

  test('errors.ts must stay pure, and internal/ imports no layer', () => {
    const v = check({
      'src/errors.ts': "export const E = 'E'\nexport const t = setTimeout\n",
      'src/internal/bad.ts': "import '../session/s.ts'\n",
      'src/session/s.ts': '',
    })
    expectViolations(v, [
      ['impure', 'src/errors.ts'],
      ['layer', 'src/internal/bad.ts'],
    ])
  })

  test('nothing in src/ imports testing/, not even the entry points', () => {
    const v = check({
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

  test('layers do not import the entry points', () => {
    const v = check({ 'src/cli/c.ts': "import '../index.ts'\n" })
    expectViolations(v, [['layer', 'src/cli/c.ts']])
  })

  test('import cycles are reported with their path; type-only cycles are not', () => {
    const v = check({
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

  test('unknown folders and top-level files are errors', () => {
    const v = check({ 'src/utils/u.ts': 'export const u = 1\n', 'src/helpers.ts': '' })
    expectViolations(v, [
      ['unknown-folder', 'src/utils'],
      ['unknown-folder', 'src/helpers.ts'],
    ])
  })

  test('unresolved imports, imports outside src/ and opaque dynamic imports are errors', () => {
    const v = check({
      'src/wire/u.ts': "import './missing.ts'\n",
      'src/rpc/o.ts': "import '../../test/budget.ts'\nimport '../../test/missing.ts'\n",
      'test/budget.ts': 'export const budget = {}\n',
      'src/rpc/d.ts': "const name = './x.ts'\nexport const m = await import(name)\n",
    })
    expectViolations(v, [
      ['unresolved', 'src/wire/u.ts'],
      ['outside-src', 'src/rpc/o.ts'],
      ['outside-src', 'src/rpc/o.ts'],
      ['dynamic-import', 'src/rpc/d.ts'],
    ])
  })

  test('every import form is seen', () => {
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
      const v = check({ 'src/mux/m.ts': `${form}\n`, 'src/rpc/r.ts': 'export default 1\n' })
      expectViolations(v, [['layer', 'src/mux/m.ts']])
    }
  })
})

/**
 * Enforces the import rule of DESIGN.md §2 over src/. No dependencies: a small tokenizer finds
 * every `import … from`, `export … from`, side-effect `import '…'` and `import('…')` in each .ts
 * file, resolves relative specifiers, and checks each edge against the layer table below.
 *
 *   node --import tsx scripts/check-layers.ts [repoRoot]     (exit 1 on violations)
 *
 * The rule, as enforced here:
 * - Layers, low to high: wire, handshake, record, mux, session, rpc, link, discovery, peer,
 *   daemon, cli. A folder may always import its own files.
 * - wire/ imports only errors.ts and internal/.
 * - handshake/, record/, mux/ import only wire/, errors.ts, internal/ (not each other, not even
 *   type-only). record/ may also import `node:zlib`; handshake/ and mux/ no `node:` module.
 * - session/ imports handshake/, record/, mux/, wire/, transport/, errors.ts, internal/.
 * - Each layer above session/ imports only layers below it, errors.ts and internal/; transport/
 *   only from session/, link/, peer/, daemon/, cli/ (not rpc/, not discovery/).
 * - transport/ imports only errors.ts, internal/ and `node:` modules.
 * - internal/ imports only internal/, errors.ts, `node:` modules and packages; errors.ts only internal/.
 * - wire/, handshake/, mux/ are pure: no `node:` module, no package, and no setTimeout,
 *   setInterval, setImmediate (nor their clear*), Date, performance, `process.` in code
 *   (comments and strings are ignored). record/ imports no package.
 * - internal/ files and errors.ts reached (transitively) from a restricted folder carry that
 *   folder's restrictions: pure when reached from wire/, handshake/ or mux/; only `node:zlib`
 *   and no package when reached from record/.
 * - testing/ may import anything; nothing in src/ imports testing/.
 * - src/index.ts and src/protocol.ts are entry points: they may import anything but testing/;
 *   only entry points and testing/ import them.
 * - Unknown top-level folders or files in src/ are errors, so a new folder must be added here.
 * - A relative import must resolve to a file inside src/.
 * - A dynamic import() must take a string literal, except in cli/ and testing/ (which may load
 *   user modules).
 * - No import cycles. Cycles are searched over value imports: `import type` / `export type`
 *   vanish at runtime and dynamic import() is lazy, so neither can cause an evaluation cycle.
 *   Both still count for the layer rules.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export type ViolationRule =
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

export interface Violation {
  rule: ViolationRule
  /** Path relative to the repo root, with forward slashes (src/mux/x.ts). */
  file: string
  /** 1-based line of the offending import or identifier (0 when not about one line). */
  line: number
  message: string
}

export interface LayerReport {
  violations: Violation[]
  fileCount: number
}

// ---------------------------------------------------------------------------------------------
// The rule table

const LAYERS = [
  'wire',
  'handshake',
  'record',
  'mux',
  'session',
  'rpc',
  'link',
  'discovery',
  'peer',
  'daemon',
  'cli',
] as const
const LEAF_FOLDERS = ['transport', 'internal', 'testing'] as const
const KNOWN_FOLDERS = new Set<string>([...LAYERS, ...LEAF_FOLDERS])
const ENTRY_FILES = new Set(['index.ts', 'protocol.ts'])

/** Where a file lives: a folder name, or one of the known top-level files. */
type Area = string // folder name | 'errors.ts' | 'entry' | '?' (unknown)

const TRANSPORT_USERS = new Set(['session', 'link', 'peer', 'daemon', 'cli'])
const SHARED_AREAS = new Set(['internal', 'errors.ts'])

interface Profile {
  /** `node:` modules allowed (by name without the prefix); undefined = any. */
  node: ReadonlySet<string> | undefined
  /** Bare package imports allowed. */
  packages: boolean
  /** No timers, Date, performance, process. */
  pure: boolean
}

/** Restrictions of the folders whose collaborators are injected; inherited by shared helpers they reach. */
const RESTRICTED: Record<string, Profile> = {
  wire: { node: new Set(), packages: false, pure: true },
  handshake: { node: new Set(), packages: false, pure: true },
  mux: { node: new Set(), packages: false, pure: true },
  record: { node: new Set(['zlib']), packages: false, pure: false },
  transport: { node: undefined, packages: false, pure: false },
}

/** The areas `from` may import (its own folder is always allowed). */
function allowedTargets(from: Area): ReadonlySet<Area> | 'any' | 'any-but-testing' {
  if (from === 'testing') return 'any'
  if (from === 'entry') return 'any-but-testing'
  if (from === 'errors.ts') return new Set(['internal'])
  if (from === 'internal') return new Set(['internal', 'errors.ts'])
  if (from === 'transport') return new Set(['transport', 'errors.ts', 'internal'])
  const index = (LAYERS as readonly string[]).indexOf(from)
  if (index < 0) return new Set()
  const base = new Set<Area>([from, 'errors.ts', 'internal'])
  if (from === 'wire') return base
  if (from === 'handshake' || from === 'record' || from === 'mux') return base.add('wire')
  if (from === 'session') {
    for (const l of ['handshake', 'record', 'mux', 'wire', 'transport']) base.add(l)
    return base
  }
  for (const l of LAYERS.slice(0, index)) base.add(l)
  if (TRANSPORT_USERS.has(from)) base.add('transport')
  return base
}

function describeArea(area: Area): string {
  if (area === 'errors.ts') return 'src/errors.ts'
  if (area === 'entry') return 'an entry point'
  return `${area}/`
}

function describeAllowed(from: Area): string {
  const allowed = allowedTargets(from)
  if (typeof allowed === 'string') return allowed
  const list = [...allowed].filter((a) => a !== from).map(describeArea)
  return list.length === 0 ? 'nothing else in src/' : list.join(', ')
}

// ---------------------------------------------------------------------------------------------
// Tokenizer: enough of TypeScript to tell code from comments, strings, templates and regexes.

interface Token {
  kind: 'id' | 'str' | 'tpl' | 'punct' | 'num' | 'regex'
  value: string
  line: number
  /** For 'tpl': true when the template has no `${…}` (so it is a literal). */
  plain?: boolean
}

const REGEX_AFTER_KEYWORDS = new Set([
  'return',
  'typeof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'instanceof',
  'yield',
  'await',
])

function isIdStart(c: string): boolean {
  return /[A-Za-z_$\u0080-\uffff]/.test(c)
}
function isIdPart(c: string): boolean {
  return /[A-Za-z0-9_$\u0080-\uffff]/.test(c)
}

export function tokenize(src: string): Token[] {
  const tokens: Token[] = []
  const n = src.length
  let i = 0
  let line = 1
  /** One entry per open `${`: how many `{` are open inside that substitution. */
  const templateDepth: number[] = []

  if (src.startsWith('#!')) while (i < n && src[i] !== '\n') i++

  const readTemplate = (startLine: number, continuation: boolean): void => {
    // i is just after '`' or after the '}' closing a substitution
    let text = ''
    while (i < n) {
      const c = src[i]!
      if (c === '\\') {
        text += src.slice(i, i + 2)
        if (src[i + 1] === '\n') line++
        i += 2
        continue
      }
      if (c === '`') {
        i++
        tokens.push({ kind: 'tpl', value: text, line: startLine, plain: !continuation })
        return
      }
      if (c === '$' && src[i + 1] === '{') {
        i += 2
        tokens.push({ kind: 'tpl', value: text, line: startLine, plain: false })
        templateDepth.push(0)
        return
      }
      if (c === '\n') line++
      text += c
      i++
    }
    tokens.push({ kind: 'tpl', value: text, line: startLine, plain: false })
  }

  const regexAllowed = (): boolean => {
    const prev = tokens[tokens.length - 1]
    if (prev === undefined) return true
    if (prev.kind === 'punct') return prev.value !== ')' && prev.value !== ']'
    if (prev.kind === 'id') return REGEX_AFTER_KEYWORDS.has(prev.value)
    return false
  }

  while (i < n) {
    const c = src[i]!
    if (c === '\n') {
      line++
      i++
      continue
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff') {
      i++
      continue
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++
      continue
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2)
      const stop = end < 0 ? n : end + 2
      for (let k = i; k < stop; k++) if (src[k] === '\n') line++
      i = stop
      continue
    }
    if (c === "'" || c === '"') {
      const startLine = line
      let value = ''
      i++
      while (i < n && src[i] !== c) {
        if (src[i] === '\\') {
          const next = src[i + 1] ?? ''
          if (next === '\n') line++
          value += next
          i += 2
          continue
        }
        if (src[i] === '\n') break // unterminated; let the compiler complain
        value += src[i]
        i++
      }
      i++
      tokens.push({ kind: 'str', value, line: startLine })
      continue
    }
    if (c === '`') {
      i++
      readTemplate(line, false)
      continue
    }
    if (c === '{') {
      if (templateDepth.length > 0) templateDepth[templateDepth.length - 1]!++
      tokens.push({ kind: 'punct', value: c, line })
      i++
      continue
    }
    if (c === '}') {
      if (templateDepth.length > 0) {
        if (templateDepth[templateDepth.length - 1] === 0) {
          templateDepth.pop()
          i++
          readTemplate(line, true)
          continue
        }
        templateDepth[templateDepth.length - 1]!--
      }
      tokens.push({ kind: 'punct', value: c, line })
      i++
      continue
    }
    if (c === '/' && regexAllowed()) {
      // regex literal: up to the unescaped '/' outside a class, on this line
      let k = i + 1
      let inClass = false
      let ok = false
      while (k < n && src[k] !== '\n') {
        const d = src[k]
        if (d === '\\') {
          k += 2
          continue
        }
        if (d === '[') inClass = true
        else if (d === ']') inClass = false
        else if (d === '/' && !inClass) {
          ok = true
          break
        }
        k++
      }
      if (ok) {
        k++
        while (k < n && isIdPart(src[k]!)) k++
        tokens.push({ kind: 'regex', value: src.slice(i, k), line })
        i = k
        continue
      }
    }
    if (isIdStart(c) || (c === '#' && i + 1 < n && isIdStart(src[i + 1]!))) {
      let k = i + 1
      while (k < n && isIdPart(src[k]!)) k++
      tokens.push({ kind: 'id', value: src.slice(i, k), line })
      i = k
      continue
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      let k = i + 1
      while (k < n && /[0-9A-Za-z_.]/.test(src[k]!)) k++
      tokens.push({ kind: 'num', value: src.slice(i, k), line })
      i = k
      continue
    }
    if (c === '?' && src[i + 1] === '.' && !/[0-9]/.test(src[i + 2] ?? '')) {
      tokens.push({ kind: 'punct', value: '?.', line })
      i += 2
      continue
    }
    if (c === '.' && src[i + 1] === '.' && src[i + 2] === '.') {
      tokens.push({ kind: 'punct', value: '...', line })
      i += 3
      continue
    }
    tokens.push({ kind: 'punct', value: c, line })
    i++
  }
  return tokens
}

// ---------------------------------------------------------------------------------------------
// Import extraction

export interface ImportRef {
  specifier: string
  line: number
  /** `import type` / `export type`: erased at runtime. */
  typeOnly: boolean
  dynamic: boolean
}

export interface ScannedFile {
  imports: ImportRef[]
  /** Dynamic imports whose argument is not a string literal (line numbers). */
  opaqueDynamic: number[]
  /** Uses of timers, Date, performance, process. (name and line). */
  impure: { name: string; line: number }[]
}

const IMPURE_NAMES = new Set([
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'clearImmediate',
  'Date',
  'performance',
])
const GLOBAL_OBJECTS = new Set(['globalThis', 'global', 'window', 'self'])

function isLiteral(t: Token | undefined): t is Token {
  return t !== undefined && (t.kind === 'str' || (t.kind === 'tpl' && t.plain === true))
}
function isPunct(t: Token | undefined, value: string): boolean {
  return t !== undefined && t.kind === 'punct' && t.value === value
}
function isId(t: Token | undefined, value: string): boolean {
  return t !== undefined && t.kind === 'id' && t.value === value
}

export function scanSource(src: string): ScannedFile {
  const t = tokenize(src)
  const imports: ImportRef[] = []
  const opaqueDynamic: number[] = []
  const impure: { name: string; line: number }[] = []

  /** From index j, skip to the `from 'x'` of this statement (stops at ';' or a string). */
  const findFrom = (j: number): Token | undefined => {
    let depth = 0
    for (; j < t.length; j++) {
      const tok = t[j]!
      if (tok.kind === 'punct') {
        if (tok.value === '{') depth++
        else if (tok.value === '}') depth--
        else if (tok.value === ';' && depth <= 0) return undefined
      }
      if (isLiteral(tok)) return isId(t[j - 1], 'from') ? tok : undefined
    }
    return undefined
  }

  for (let i = 0; i < t.length; i++) {
    const tok = t[i]!
    if (tok.kind !== 'id') continue
    const prev = t[i - 1]
    const afterDot = isPunct(prev, '.') || isPunct(prev, '?.')

    if (tok.value === 'import' && !afterDot) {
      const next = t[i + 1]
      if (isPunct(next, '(')) {
        const arg = t[i + 2]
        if (isLiteral(arg) && (isPunct(t[i + 3], ')') || isPunct(t[i + 3], ','))) {
          imports.push({ specifier: arg.value, line: tok.line, typeOnly: false, dynamic: true })
        } else {
          opaqueDynamic.push(tok.line)
        }
        continue
      }
      if (isPunct(next, '.')) continue // import.meta
      if (isLiteral(next)) {
        imports.push({ specifier: next.value, line: tok.line, typeOnly: false, dynamic: false })
        continue
      }
      // `import x = require('y')`
      if (isPunct(t[i + 2], '=') && isId(t[i + 3], 'require') && isLiteral(t[i + 5])) {
        imports.push({ specifier: t[i + 5]!.value, line: tok.line, typeOnly: false, dynamic: false })
        continue
      }
      const typeOnly =
        isId(next, 'type') &&
        !isPunct(t[i + 2], ',') &&
        !(isId(t[i + 2], 'from') && isLiteral(t[i + 3])) &&
        !isPunct(t[i + 2], '=')
      const from = findFrom(i + 1)
      if (from) imports.push({ specifier: from.value, line: tok.line, typeOnly, dynamic: false })
      continue
    }

    if (tok.value === 'export' && !afterDot) {
      let j = i + 1
      let typeOnly = false
      if (isId(t[j], 'type') && (isPunct(t[j + 1], '{') || isPunct(t[j + 1], '*'))) {
        typeOnly = true
        j++
      }
      if (isPunct(t[j], '{') || isPunct(t[j], '*')) {
        const from = findFrom(j)
        if (from) imports.push({ specifier: from.value, line: tok.line, typeOnly, dynamic: false })
      }
      continue
    }

    if (IMPURE_NAMES.has(tok.value) || tok.value === 'process') {
      const viaGlobal = afterDot && t[i - 2]?.kind === 'id' && GLOBAL_OBJECTS.has(t[i - 2]!.value)
      if (afterDot && !viaGlobal) continue
      // an object key or a member declaration named like a global ({ Date: 1 }, `performance?: X`)
      // is not a use; a ternary branch (`c ? Date : x`) is
      const keyLike = isPunct(t[i + 1], ':') || (isPunct(t[i + 1], '?') && isPunct(t[i + 2], ':'))
      if (keyLike && !isPunct(prev, '?')) continue
      if (tok.value === 'process') {
        const next = t[i + 1]
        if (!(isPunct(next, '.') || isPunct(next, '?.') || isPunct(next, '['))) continue
      }
      impure.push({ name: tok.value === 'process' ? 'process.' : tok.value, line: tok.line })
    }
  }
  return { imports, opaqueDynamic, impure }
}

// ---------------------------------------------------------------------------------------------
// The check

interface Edge {
  from: string // absolute
  to: string // absolute (resolved file) — only for src files
  ref: ImportRef
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) walk(full, out)
    else if (entry.isFile() && entry.name.endsWith('.ts')) out.push(full)
  }
}

function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/')
}

function nodeBuiltinName(specifier: string): string | undefined {
  if (specifier.startsWith('node:')) return specifier.slice(5).split('/')[0]
  const base = specifier.split('/')[0]!
  if (builtinModules.includes(specifier) || builtinModules.includes(base)) return base
  return undefined
}

function isOutside(dir: string, path: string): boolean {
  const r = relative(dir, path)
  return r === '' || r.startsWith('..') || isAbsolute(r)
}

/** Resolves an absolute import target (maybe without extension, or with .js) to an existing file. */
function resolveFile(raw: string): string | undefined {
  const clean = raw.replace(/[?#].*$/, '')
  const candidates: string[] = []
  if (/\.(ts|mts|cts)$/.test(clean)) candidates.push(clean)
  else if (/\.(js|mjs|cjs)$/.test(clean)) candidates.push(clean.replace(/js$/, 'ts'), clean)
  else candidates.push(clean, `${clean}.ts`, join(clean, 'index.ts'))
  for (const c of candidates) {
    if (existsSync(c) && statSync(c).isFile()) return c
  }
  return undefined
}

/** Checks DESIGN.md §2 over `rootDir/src`; returns the violations (empty when the tree is clean). */
export function checkLayers(rootDir: string): Violation[] {
  return checkLayersReport(rootDir).violations
}

export function checkLayersReport(rootDir: string): LayerReport {
  const root = resolve(rootDir)
  const srcDir = join(root, 'src')
  if (!existsSync(srcDir) || !statSync(srcDir).isDirectory()) {
    throw new Error(`check-layers: no src/ directory under ${root}`)
  }
  const violations: Violation[] = []
  const rel = (abs: string): string => toPosix(relative(root, abs))
  const add = (rule: ViolationRule, file: string, line: number, message: string): void => {
    violations.push({ rule, file: rel(file), line, message })
  }

  // top-level layout
  for (const entry of readdirSync(srcDir, { withFileTypes: true })) {
    if (entry.isDirectory() && !KNOWN_FOLDERS.has(entry.name)) {
      add(
        'unknown-folder',
        join(srcDir, entry.name),
        0,
        `unknown folder src/${entry.name}/: add it to the layer rule in scripts/check-layers.ts (DESIGN.md §2) first`,
      )
    }
    if (
      entry.isFile() &&
      entry.name.endsWith('.ts') &&
      entry.name !== 'errors.ts' &&
      !ENTRY_FILES.has(entry.name)
    ) {
      add(
        'unknown-folder',
        join(srcDir, entry.name),
        0,
        `unknown top-level file src/${entry.name}: only errors.ts, index.ts and protocol.ts live there`,
      )
    }
  }

  const files: string[] = []
  walk(srcDir, files)
  files.sort()

  const areaOf = (abs: string): Area => {
    const parts = toPosix(relative(srcDir, abs)).split('/')
    if (parts.length === 1) {
      if (parts[0] === 'errors.ts') return 'errors.ts'
      if (ENTRY_FILES.has(parts[0]!)) return 'entry'
      return '?'
    }
    return KNOWN_FOLDERS.has(parts[0]!) ? parts[0]! : '?'
  }

  const scans = new Map<string, ScannedFile>()
  const edges = new Map<string, Edge[]>()
  /** Non-relative imports per file: [name, ref, isNode]. */
  const externals = new Map<string, { name: string; ref: ImportRef; node: boolean }[]>()

  for (const file of files) {
    const scan = scanSource(readFileSync(file, 'utf8'))
    scans.set(file, scan)
    const from = areaOf(file)
    const fileEdges: Edge[] = []
    const fileExternals: { name: string; ref: ImportRef; node: boolean }[] = []
    edges.set(file, fileEdges)
    externals.set(file, fileExternals)

    if (from !== 'cli' && from !== 'testing') {
      for (const line of scan.opaqueDynamic) {
        add(
          'dynamic-import',
          file,
          line,
          'import() with a non-literal specifier cannot be checked; use a string literal',
        )
      }
    }

    for (const ref of scan.imports) {
      const spec = ref.specifier
      if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('file:')) {
        let raw: string
        try {
          raw = spec.startsWith('file:') ? fileURLToPath(spec) : resolve(dirname(file), spec)
        } catch {
          add('unresolved', file, ref.line, `import '${spec}' is not a valid file URL`)
          continue
        }
        if (isOutside(srcDir, raw.replace(/[?#].*$/, ''))) {
          add('outside-src', file, ref.line, `import '${spec}' reaches outside src/ (${rel(raw)})`)
          continue
        }
        const target = resolveFile(raw)
        if (target === undefined) {
          add('unresolved', file, ref.line, `import '${spec}' does not resolve to a file`)
          continue
        }
        fileEdges.push({ from: file, to: target, ref })
        continue
      }
      const builtin = nodeBuiltinName(spec)
      fileExternals.push({ name: builtin ?? spec, ref, node: builtin !== undefined })
    }
  }

  // layer rule over src edges
  for (const file of files) {
    const from = areaOf(file)
    if (from === '?') continue // already reported as unknown
    const allowed = allowedTargets(from)
    for (const edge of edges.get(file)!) {
      const to = areaOf(edge.to)
      const what = `${edge.ref.typeOnly ? 'type-only ' : ''}${edge.ref.dynamic ? 'dynamic ' : ''}import`
      if (to === 'testing' && from !== 'testing') {
        add('testing', file, edge.ref.line, `${what} of ${rel(edge.to)}: nothing in src/ imports testing/`)
        continue
      }
      if (to === from) continue
      if (allowed === 'any' || allowed === 'any-but-testing') continue
      if (to === 'entry' && from !== 'testing') {
        add(
          'layer',
          file,
          edge.ref.line,
          `${what} of ${rel(edge.to)}: entry points are imported by nothing inside src/`,
        )
        continue
      }
      if (!allowed.has(to)) {
        add(
          'layer',
          file,
          edge.ref.line,
          `${describeArea(from)} must not import ${describeArea(to)} (${what} of ${rel(edge.to)}); ` +
            `${describeArea(from)} may import only ${describeAllowed(from)}`,
        )
      }
    }
  }

  // restricted folders: node modules, packages, purity — on their own files and, inherited,
  // on the shared helpers (internal/, errors.ts) they reach
  const reported = new Set<string>()
  const checkProfile = (file: string, folder: string, profile: Profile, via: string[]): void => {
    const suffix =
      via.length > 1 ? ` (reached from ${folder}/ via ${via.map(rel).join(' -> ')})` : ` (${folder}/)`
    const once = (key: string, rule: ViolationRule, line: number, message: string): void => {
      const k = `${file}\0${key}\0${line}`
      if (reported.has(k)) return
      reported.add(k)
      add(rule, file, line, message)
    }
    for (const ext of externals.get(file)!) {
      if (ext.node) {
        if (profile.node !== undefined && !profile.node.has(ext.name)) {
          const allowedNode =
            profile.node.size === 0
              ? 'no node: module'
              : `only ${[...profile.node].map((m) => `node:${m}`).join(', ')}`
          once(
            `node:${ext.name}`,
            'node-import',
            ext.ref.line,
            `imports node:${ext.name}; ${folder}/ may import ${allowedNode}${suffix}`,
          )
        }
      } else if (!profile.packages) {
        once(
          `pkg:${ext.name}`,
          'package-import',
          ext.ref.line,
          `imports package '${ext.name}'; ${folder}/ imports no package${suffix}`,
        )
      }
    }
    if (profile.pure) {
      for (const use of scans.get(file)!.impure) {
        once(
          `impure:${use.name}`,
          'impure',
          use.line,
          `uses ${use.name}; ${folder}/ is pure (no timers, Date, performance, process): inject a clock or scheduler${suffix}`,
        )
      }
    }
  }

  for (const [folder, profile] of Object.entries(RESTRICTED)) {
    const start = files.filter((f) => areaOf(f) === folder)
    const chains = new Map<string, string[]>()
    const queue: string[] = []
    for (const f of start) {
      checkProfile(f, folder, profile, [f])
      chains.set(f, [f])
      queue.push(f)
    }
    while (queue.length > 0) {
      const f = queue.shift()!
      for (const edge of edges.get(f)!) {
        if (chains.has(edge.to) || !SHARED_AREAS.has(areaOf(edge.to))) continue
        const chain = [...chains.get(f)!, edge.to]
        chains.set(edge.to, chain)
        queue.push(edge.to)
        checkProfile(edge.to, folder, profile, chain)
      }
    }
  }

  // cycles over value imports (Tarjan's strongly connected components)
  const valueEdges = new Map<string, string[]>()
  for (const file of files) {
    const targets = edges
      .get(file)!
      .filter((e) => !e.ref.typeOnly && !e.ref.dynamic)
      .map((e) => e.to)
    valueEdges.set(file, [...new Set(targets)])
  }
  for (const component of stronglyConnected(files, valueEdges)) {
    const cycle = findCycle(component, valueEdges)
    const first = cycle[0]!
    const line =
      edges.get(first)!.find((e) => e.to === cycle[1] && !e.ref.typeOnly && !e.ref.dynamic)?.ref.line ?? 0
    add(
      'cycle',
      first,
      line,
      `import cycle: ${[...cycle].map(rel).join(' -> ')}` +
        (component.length > cycle.length - 1 ? ` (${component.length} files are entangled)` : ''),
    )
  }

  violations.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule))
  return { violations, fileCount: files.length }
}

function stronglyConnected(nodes: string[], graph: Map<string, string[]>): string[][] {
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const result: string[][] = []

  const visit = (v: string): void => {
    index.set(v, counter)
    low.set(v, counter)
    counter++
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!))
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      const selfLoop = component.length === 1 && (graph.get(v) ?? []).includes(v)
      if (component.length > 1 || selfLoop) result.push(component.sort())
    }
  }
  for (const v of nodes) if (!index.has(v)) visit(v)
  return result
}

/** One concrete cycle inside a strongly connected component, as [a, b, …, a]. */
function findCycle(component: string[], graph: Map<string, string[]>): string[] {
  const members = new Set(component)
  const start = component[0]!
  // BFS for the shortest path from start back to start
  const parent = new Map<string, string>()
  const queue = [start]
  const seen = new Set<string>()
  while (queue.length > 0) {
    const v = queue.shift()!
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue
      if (w === start) {
        const path = [start]
        for (let x = v; x !== start; x = parent.get(x)!) path.push(x)
        path.push(start)
        return [start, ...path.slice(1, -1).reverse(), start]
      }
      if (!seen.has(w)) {
        seen.add(w)
        parent.set(w, v)
        queue.push(w)
      }
    }
  }
  return [start, start]
}

// ---------------------------------------------------------------------------------------------
// CLI

export function formatReport(report: LayerReport): string {
  if (report.violations.length === 0) return `check-layers: OK (${report.fileCount} files in src/)`
  const lines = [
    `check-layers: ${report.violations.length} violation(s) of the import rule (DESIGN.md §2) in ${report.fileCount} files:`,
    '',
  ]
  for (const v of report.violations) {
    lines.push(`  ${v.file}${v.line > 0 ? `:${v.line}` : ''}  [${v.rule}]  ${v.message}`)
  }
  lines.push('', 'The rule is written out at the top of scripts/check-layers.ts.')
  return lines.join('\n')
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (invokedDirectly) {
  const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url))
  try {
    const report = checkLayersReport(root)
    const text = formatReport(report)
    if (report.violations.length > 0) {
      console.error(text)
      process.exitCode = 1
    } else {
      console.log(text)
    }
  } catch (err) {
    console.error(err instanceof Error ? err.message : err)
    process.exitCode = 2
  }
}

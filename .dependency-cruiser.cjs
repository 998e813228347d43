/**
 * The import rule of DESIGN.md §2, checked by dependency-cruiser over src/ (`npm run
 * check:layers`). The pure folders' other half (no timers, Date, performance, process) is
 * biome's noRestrictedGlobals in biome.json's overrides; a computed dynamic import() is
 * refused by biome's plugin scripts/lint/literal-dynamic-import.grit. test/unit/layers.test.ts
 * runs both on fake trees that each break one rule.
 *
 * - Layers, low to high: wire, handshake, record, mux, session, rpc, link, discovery, peer,
 *   daemon, cli. A folder may always import its own files, errors.ts and internal/.
 * - handshake/, record/, mux/ import only wire/ (not each other, not even type-only).
 * - session/ imports handshake/, record/, mux/, wire/, transport/.
 * - Each layer above session/ imports only layers below it; transport/ only from session/,
 *   link/, peer/, daemon/, cli/ (not rpc/, not discovery/). transport/ imports no layer.
 * - internal/ imports only internal/ and errors.ts; errors.ts only internal/.
 * - wire/, handshake/, mux/ import no `node:` module and no package; record/ only `node:zlib`;
 *   transport/ no package. Helpers in internal/ are pure (no `node:`, no package, and biome
 *   refuses their timers) except the timed ones named in TIMED_HELPERS, which pure code and
 *   record/ must not import: so whatever a pure folder reaches is pure.
 * - testing/ may import anything; nothing else in src/ imports it.
 * - src/index.ts and src/protocol.ts are entry points: only entry points and testing/ import them.
 * - Unknown top-level folders or files in src/ are errors; relative imports resolve inside src/.
 * - No cycles over value imports (`import type` vanishes at runtime, dynamic import() is lazy).
 */
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
]
const FOLDERS = [...LAYERS, 'transport', 'internal', 'testing']
const TRANSPORT_USERS = ['session', 'link', 'peer', 'daemon', 'cli']
/** internal/ helpers that use timers or node: modules: for session/ and above only. */
const TIMED_HELPERS = ['deadline-sweep.ts', 'diagnostics.ts']
const PURE = ['wire', 'handshake', 'mux']

const folder = (names) => `^src/(${names.join('|')})/`
const SHARED = '^src/(internal/|errors\\.ts$)'
const TIMED = `^src/internal/(${TIMED_HELPERS.join('|').replaceAll('.', '\\.')})$`
const PURE_INTERNAL = { path: '^src/internal/', pathNot: TIMED }
const PACKAGE = { path: '^(node_modules/|[^./])', pathNot: '^src/', dependencyTypesNot: ['core'] }

/** What each folder may import besides itself, errors.ts and internal/. */
function allowed(from) {
  if (from === 'wire' || from === 'transport') return []
  if (from === 'handshake' || from === 'record' || from === 'mux') return ['wire']
  if (from === 'session') return ['handshake', 'record', 'mux', 'wire', 'transport']
  const below = LAYERS.slice(0, LAYERS.indexOf(from))
  return TRANSPORT_USERS.includes(from) ? [...below, 'transport'] : below
}

const layerRules = [...LAYERS, 'transport'].map((from) => ({
  name: 'layer',
  comment: `${from}/ imports only ${
    allowed(from)
      .map((a) => `${a}/`)
      .join(', ') || 'nothing else in src/'
  } (besides errors.ts and internal/)`,
  severity: 'error',
  from: { path: `^src/${from}/` },
  to: { path: '^src/', pathNot: [`^src/(${[from, ...allowed(from)].join('|')})/`, SHARED, '^src/testing/'] },
}))

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'layer',
      comment: 'internal/ imports only internal/ and errors.ts; errors.ts only internal/',
      severity: 'error',
      from: { path: SHARED },
      to: { path: '^src/', pathNot: [SHARED, '^src/testing/'] },
    },
    {
      name: 'testing',
      comment: 'testing/ is for users\u2019 tests: nothing in src/ imports it',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/testing/' },
      to: { path: '^src/testing/' },
    },
    {
      name: 'layer',
      comment: 'only entry points and testing/ import the entry points',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/testing/', '^src/(index|protocol)\\.ts$'] },
      to: { path: '^src/(index|protocol)\\.ts$' },
    },
    {
      name: 'node-import',
      comment: 'wire/, handshake/, mux/, errors.ts and the pure internal/ helpers import no node: module',
      severity: 'error',
      from: { path: [folder(PURE), '^src/errors\\.ts$', PURE_INTERNAL.path], pathNot: TIMED },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'node-import',
      comment: 'record/ imports only node:zlib',
      severity: 'error',
      from: { path: '^src/record/' },
      to: { dependencyTypes: ['core'], pathNot: '^(node:)?zlib$' },
    },
    {
      name: 'package-import',
      comment: 'the pure folders, record/, transport/, errors.ts and pure helpers import no package',
      severity: 'error',
      from: {
        path: [folder([...PURE, 'record', 'transport']), '^src/errors\\.ts$', '^src/internal/'],
        pathNot: TIMED,
      },
      to: PACKAGE,
    },
    {
      name: 'impure',
      comment: 'the timed internal/ helpers are for session/ and above, not for pure code or record/',
      severity: 'error',
      from: { path: [folder([...PURE, 'record']), '^src/errors\\.ts$', '^src/internal/'], pathNot: TIMED },
      to: { path: TIMED },
    },
    {
      name: 'unknown-folder',
      comment: 'a new top-level folder or file in src/ must be added to the rules',
      severity: 'error',
      from: { path: '^src/', pathNot: [folder(FOLDERS), '^src/(errors|index|protocol)\\.ts$'] },
      to: {},
    },
    {
      name: 'unknown-folder',
      comment: 'a new top-level folder or file in src/ must be added to the rules',
      severity: 'error',
      from: { path: '^src/', pathNot: [folder(FOLDERS), '^src/(errors|index|protocol)\\.ts$'], orphan: true },
      to: {},
    },
    {
      name: 'unknown-folder',
      comment: 'a new top-level folder or file in src/ must be added to the rules',
      severity: 'error',
      from: {},
      to: { path: '^src/', pathNot: [folder(FOLDERS), '^src/(errors|index|protocol)\\.ts$'] },
    },
    {
      name: 'unresolved',
      comment: 'every relative import resolves (a missing package is npm ci\u2019s business)',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, path: '/', pathNot: '^@' },
    },
    {
      name: 'outside-src',
      comment: 'src/ imports nothing outside src/ but node: modules and packages',
      severity: 'error',
      from: { path: '^src/' },
      to: {
        path: '^[.]|^(?!src/|node_modules/)[^/]+/',
        dependencyTypesNot: ['core', 'npm', 'npm-dev', 'npm-no-pkg', 'npm-unknown'],
        couldNotResolve: false,
      },
    },
    {
      name: 'cycle',
      comment: 'no import cycles over value imports',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only', 'dynamic-import'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    reporterOptions: { text: { highlightFocused: true } },
  },
}

/**
 * Runs the test suite: every test/**\/*.test.ts, one `node --import tsx --test <file>` per file,
 * at most 2 at a time, each with a wall-clock budget (test/budget.ts perFileTimeoutMs, 60 s).
 *
 *   node --import tsx scripts/run-tests.ts [filter…]
 *
 * - filters: run only files whose path contains one of the given substrings.
 * - SWITCHBOARD_TEST_CONCURRENCY: files run in parallel (default 2).
 * - SWITCHBOARD_BUDGET=small: passed through to the tests (see test/budget.ts).
 *
 * Each file's TAP output is printed in one block when the file ends (so parallel files do not
 * interleave), then a summary in node:test's own form ("# pass N", "# fail N", …), the 10
 * slowest files, and last a line "N passed, N failed". The exit code is 1 when anything failed:
 * a failing test, a file that exits non-zero, or a file killed for running past its budget.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { budget } from '../test/budget.ts'

const repoRoot = fileURLToPath(new URL('..', import.meta.url))
const SUMMARY_KEYS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'] as const
type SummaryKey = (typeof SUMMARY_KEYS)[number]

interface FileResult {
  file: string
  durationMs: number
  exitCode: number | null
  signal: NodeJS.Signals | null
  timedOut: boolean
  /** Counts from the file's final "# key N" lines; undefined when it printed none. */
  summary: Partial<Record<SummaryKey, number>>
  /** Failures not visible in the counts (timeout, crash); each adds one to "failed". */
  extraFailures: string[]
}

function findTestFiles(dir: string, out: string[]): void {
  let entries: import('node:fs').Dirent[]
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return
  }
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    const full = join(dir, entry.name)
    if (entry.isDirectory()) findTestFiles(full, out)
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) out.push(full)
  }
}

function posix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/')
}

function parseConcurrency(): number {
  const raw = process.env['SWITCHBOARD_TEST_CONCURRENCY']
  if (raw === undefined || raw === '') return 2
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) {
    console.error(`SWITCHBOARD_TEST_CONCURRENCY must be a positive integer, got ${JSON.stringify(raw)}`)
    process.exit(2)
  }
  return n
}

function parseSummary(output: string): Partial<Record<SummaryKey, number>> {
  const summary: Partial<Record<SummaryKey, number>> = {}
  for (const match of output.matchAll(/^# (tests|suites|pass|fail|cancelled|skipped|todo) (\d+)$/gm)) {
    summary[match[1] as SummaryKey] = Number(match[2])
  }
  return summary
}

const running = new Set<ChildProcess>()

/** Kills the child's whole process group (node --test runs the file in a grandchild). */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    child.kill('SIGKILL')
  }
}

function runFile(file: string): Promise<FileResult> {
  const rel = posix(relative(repoRoot, file))
  const start = performance.now()
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', rel], {
    cwd: repoRoot,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: process.platform !== 'win32',
  })
  running.add(child)
  const chunks: Buffer[] = []
  child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk))
  child.stderr!.on('data', (chunk: Buffer) => chunks.push(chunk))

  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    killGroup(child)
  }, budget.perFileTimeoutMs)

  return new Promise((resolve) => {
    let spawnError: Error | undefined
    child.on('error', (err) => {
      spawnError = err
    })
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer)
      running.delete(child)
      const durationMs = performance.now() - start
      const output = Buffer.concat(chunks).toString('utf8')
      const summary = parseSummary(output)
      const extraFailures: string[] = []
      if (spawnError) extraFailures.push(`${rel}: could not start: ${spawnError.message}`)
      if (timedOut) {
        extraFailures.push(
          `${rel}: killed after ${budget.perFileTimeoutMs / 1000} s — over the per-file budget ` +
            '(test/budget.ts perFileTimeoutMs); split the file or find what hangs',
        )
      } else if (exitCode !== 0 && (summary.fail ?? 0) + (summary.cancelled ?? 0) === 0) {
        extraFailures.push(
          `${rel}: exited with ${signal ? `signal ${signal}` : `code ${exitCode}`} but reported no failing test`,
        )
      }
      printBlock(rel, output, durationMs, extraFailures)
      resolve({ file: rel, durationMs, exitCode, signal, timedOut, summary, extraFailures })
    })
  })
}

function printBlock(rel: string, output: string, durationMs: number, extraFailures: string[]): void {
  const lines = [`# ==== ${rel} (${(durationMs / 1000).toFixed(2)} s) ====`, output.trimEnd()]
  for (const failure of extraFailures) lines.push(`not ok - ${failure}`)
  process.stdout.write(`${lines.join('\n')}\n\n`)
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2)
  const all: string[] = []
  findTestFiles(join(repoRoot, 'test'), all)
  all.sort()
  const files = filters.length === 0 ? all : all.filter((f) => filters.some((s) => posix(f).includes(s)))
  if (files.length === 0) {
    console.error(
      filters.length === 0
        ? 'run-tests: no test/**/*.test.ts files found'
        : `run-tests: no test file matches ${filters.map((f) => JSON.stringify(f)).join(', ')}`,
    )
    process.exit(1)
  }

  const concurrency = Math.min(parseConcurrency(), files.length)
  console.log(
    `# run-tests: ${files.length} file(s), ${concurrency} at a time, ${budget.perFileTimeoutMs / 1000} s per file, budget ${budget.mode}`,
  )

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      for (const child of running) killGroup(child)
      process.exit(130)
    })
  }

  const started = performance.now()
  const results: FileResult[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++]!
      results.push(await runFile(file))
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const totalMs = performance.now() - started

  const totals: Record<SummaryKey, number> = {
    tests: 0,
    suites: 0,
    pass: 0,
    fail: 0,
    cancelled: 0,
    skipped: 0,
    todo: 0,
  }
  const extra: string[] = []
  for (const r of results) {
    for (const key of SUMMARY_KEYS) totals[key] += r.summary[key] ?? 0
    extra.push(...r.extraFailures)
  }
  const failedFiles = results.filter(
    (r) => r.extraFailures.length > 0 || (r.summary.fail ?? 0) + (r.summary.cancelled ?? 0) > 0,
  )

  const out: string[] = ['# ==== summary ====']
  for (const key of SUMMARY_KEYS) out.push(`# ${key} ${totals[key]}`)
  out.push(`# duration_ms ${totalMs.toFixed(0)}`)
  if (failedFiles.length > 0) {
    out.push('', `Failed files (${failedFiles.length}):`)
    for (const r of failedFiles) {
      const failing = (r.summary.fail ?? 0) + (r.summary.cancelled ?? 0)
      out.push(`  ${r.file}${failing > 0 ? `: ${failing} failing test(s)` : ''}`)
      for (const e of r.extraFailures) out.push(`    ${e}`)
    }
  }
  out.push('', `Slowest test files (of ${results.length}):`)
  const slowest = [...results].sort((a, b) => b.durationMs - a.durationMs).slice(0, 10)
  for (const r of slowest) {
    const seconds = `${(r.durationMs / 1000).toFixed(2)} s`.padStart(9)
    out.push(`  ${seconds}  ${r.file}${r.timedOut ? '  (killed: over budget)' : ''}`)
  }
  const passed = totals.pass
  const failed = totals.fail + totals.cancelled + extra.length
  out.push('', `${passed} passed, ${failed} failed`)
  console.log(out.join('\n'))
  process.exitCode = failed > 0 || failedFiles.length > 0 ? 1 : 0
}

await main()

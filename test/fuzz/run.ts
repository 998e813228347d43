/**
 * The fuzzer's command line.
 *
 *   node --import tsx test/fuzz/run.ts [options]        (npm run fuzz, npm run fuzz:smoke)
 *
 *   --inputs N         inputs per target (count mode)
 *   --seconds S        time mode: about S seconds of wall time over all targets
 *   --max-seconds S    bound on the whole run (count mode stops there and exits 2), default 900
 *   --targets a,b      only these targets (default: all of targets/index.ts)
 *   --workers N        worker threads (default: min(2, cores))
 *   --seed N           run seed (default: random, printed; the same seed makes the same inputs)
 *   --hang-ms N        per-input budget, ms (default 250): slower on 3 runs in a row is a hang
 *   --watchdog-ms N    an input still running after this long is killed as a hang (default 3000)
 *   --chunk N          inputs per unit of work in count mode (default 25000)
 *   --no-save          do not write failing inputs to corpus/pending/
 *   --strict           count failures already saved in corpus/pending/ as crashes too
 *   --replay FILE…     run saved inputs (hex files; the target is the parent folder's name) and
 *                      print each one's outcome and stack
 *
 * Each target reports inputs tried, crashes, hangs and seconds. A failing input is printed and
 * saved as corpus/pending/TARGET/KIND-HASH.hex (at most 2 per distinct failure); once the bug is
 * fixed, `git mv` it to corpus/regressions/TARGET/, which test/unit/fuzz/regressions.test.ts
 * replays on every test run. Until then the bug is "known": at start the pending inputs are
 * replayed, and later failures with the same signature are counted as known, not as crashes
 * (so CI's smoke run stays green while a reported bug waits for its fix; --strict counts them).
 * Exit code: 0 clean, 1 any new crash or hang (or a target that cannot load), 2 the time bound
 * ended a count-mode run early.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { basename, dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  type Failure,
  readCorpusDir,
  readHexFile,
  savedSignature,
  stackOf,
  TargetRunner,
} from './harness/engine.ts'
import { type FuzzReport, runFuzz, type TargetReport } from './harness/pool.ts'
import { isTargetName, loadTarget, TARGET_NAMES, type TargetName, targetRef } from './targets/index.ts'

export const CORPUS_DIR = fileURLToPath(new URL('./corpus/', import.meta.url))
const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

interface Args {
  inputs: number | undefined
  seconds: number | undefined
  maxSeconds: number
  targets: TargetName[]
  workers: number
  seed: number
  hangMs: number
  watchdogMs: number
  chunk: number
  save: boolean
  strict: boolean
  replay: string[]
}

function usage(message: string): never {
  console.error(
    `fuzz: ${message}\nusage: node --import tsx test/fuzz/run.ts [--inputs N | --seconds S] [--targets a,b] [--replay FILE…] (see the header of test/fuzz/run.ts)`,
  )
  process.exit(64)
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    inputs: undefined,
    seconds: undefined,
    maxSeconds: 900,
    targets: [...TARGET_NAMES],
    workers: Math.max(1, Math.min(2, availableParallelism())),
    seed: Math.floor(Math.random() * 0x7fffffff),
    hangMs: 250,
    watchdogMs: 3000,
    chunk: 25_000,
    save: true,
    strict: false,
    replay: [],
  }
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v)
    if (v === undefined || !Number.isFinite(n) || n < 0) usage(`${flag} needs a number`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    switch (a) {
      case '--inputs':
        args.inputs = num(a, argv[++i])
        break
      case '--seconds':
        args.seconds = num(a, argv[++i])
        break
      case '--max-seconds':
        args.maxSeconds = num(a, argv[++i])
        break
      case '--workers':
        args.workers = Math.max(1, Math.floor(num(a, argv[++i])))
        break
      case '--seed':
        args.seed = Math.floor(num(a, argv[++i]))
        break
      case '--hang-ms':
        args.hangMs = num(a, argv[++i])
        break
      case '--watchdog-ms':
        args.watchdogMs = num(a, argv[++i])
        break
      case '--chunk':
        args.chunk = Math.max(1, Math.floor(num(a, argv[++i])))
        break
      case '--no-save':
        args.save = false
        break
      case '--strict':
        args.strict = true
        break
      case '--targets': {
        const list = (argv[++i] ?? '').split(',').filter((s) => s !== '')
        for (const t of list)
          if (!isTargetName(t)) usage(`unknown target ${t} (targets: ${TARGET_NAMES.join(', ')})`)
        args.targets = list as TargetName[]
        break
      }
      case '--replay':
        while (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) args.replay.push(argv[++i]!)
        break
      default:
        usage(`unknown option ${a}`)
    }
  }
  if (args.inputs === undefined && args.seconds === undefined && args.replay.length === 0)
    usage('give --inputs or --seconds')
  return args
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')

function targetLine(r: TargetReport): string {
  const s = r.stats
  const cpu = s.ms / 1000
  const rate = cpu > 0 ? s.tried / cpu : 0
  const parts = [
    r.name.padEnd(18),
    `${fmt(s.tried).padStart(10)} inputs`,
    `${String(s.crashes).padStart(3)} crashes`,
    `${String(s.hangs).padStart(3)} hangs`,
    ...(s.known > 0 ? [`(+${s.known} known)`] : []),
    `${cpu.toFixed(1).padStart(6)} s`,
    `${fmt(rate).padStart(9)} inputs/s per worker`,
    `(${s.tried > 0 ? ((100 * s.accepted) / s.tried).toFixed(1) : '0.0'}% accepted${s.slowOnce > 0 ? `, ${s.slowOnce} slow once` : ''})`,
  ]
  if (r.goal !== undefined && s.tried < r.goal) parts.push(`SHORT of ${fmt(r.goal)}`)
  if (r.fatal !== undefined) parts.push(`CANNOT RUN: ${r.fatal.split('\n')[0]}`)
  if (r.stopped !== undefined) parts.push(`STOPPED: ${r.stopped}`)
  return parts.join('  ')
}

/** Saves a failing input under corpus/pending/TARGET/ unless it is already in the corpus. */
function save(f: Failure): string | undefined {
  const hash = createHash('sha256').update(f.hex).digest('hex').slice(0, 12)
  const name = `${f.kind}-${hash}.hex`
  for (const folder of ['regressions', 'pending']) {
    if (existsSync(join(CORPUS_DIR, folder, f.target, name))) return undefined
  }
  const dir = join(CORPUS_DIR, 'pending', f.target)
  mkdirSync(dir, { recursive: true })
  const file = join(dir, name)
  const comment = (text: string) =>
    text
      .split('\n')
      .slice(0, 30)
      .map((l) => `# ${l}`)
      .join('\n')
  const hexLines = f.hex.match(/.{1,64}/g) ?? []
  writeFileSync(
    file,
    `${comment(`target: ${f.target}\nkind: ${f.kind}\nsignature: ${f.signature}\n${f.message}\n\n${f.detail.split(repoRoot).join('')}`)}\n${hexLines.join('\n')}\n`,
  )
  return file
}

function printFailure(f: Failure, file: string | undefined): void {
  const shown =
    f.hex.length > 512 ? `${f.hex.slice(0, 512)}… (${f.hex.length / 2} bytes)` : f.hex || '(empty)'
  console.log(`\n!! ${f.kind.toUpperCase()} in ${f.target}: ${f.message}`)
  console.log(`   input: ${shown}`)
  if (file !== undefined) console.log(`   saved: ${relative(repoRoot, file)}`)
  const stack = f.detail.split('\n').slice(0, 12).join('\n     ')
  if (stack !== '') console.log(`     ${stack}`)
}

async function replay(files: string[]): Promise<number> {
  let bad = 0
  for (const file of files) {
    const name = basename(dirname(file))
    if (!isTargetName(name)) usage(`${file}: its folder ${name} is not a target`)
    const runner = new TargetRunner(await loadTarget(name))
    const { outcome, ms } = runner.runOne(readHexFile(file))
    const verdict =
      outcome.kind === 'crash'
        ? `CRASH: ${outcome.reason}`
        : outcome.kind === 'rejected'
          ? `rejected (${outcome.code})`
          : 'accepted'
    console.log(`${file}: ${verdict}, ${ms.toFixed(1)} ms`)
    if (outcome.kind === 'crash') {
      bad++
      console.log(stackOf(outcome.error))
    }
  }
  return bad > 0 ? 1 : 0
}

function summary(report: FuzzReport, args: Args): number {
  const totals = report.targets.reduce(
    (t, r) => ({
      tried: t.tried + r.stats.tried,
      crashes: t.crashes + r.stats.crashes,
      hangs: t.hangs + r.stats.hangs,
      known: t.known + r.stats.known,
    }),
    { tried: 0, crashes: 0, hangs: 0, known: 0 },
  )
  console.log('\n== fuzz summary ==')
  for (const r of report.targets) console.log(targetLine(r))
  const signatures = new Set(report.failures.map((f) => f.signature))
  console.log(
    `\n${report.targets.length} targets, ${fmt(totals.tried)} inputs in ${(report.elapsedMs / 1000).toFixed(1)} s on ${args.workers} worker(s) (seed ${args.seed}): ${totals.crashes} crashes, ${totals.hangs} hangs${signatures.size > 0 ? ` (${signatures.size} distinct)` : ''}${totals.known > 0 ? `; ${fmt(totals.known)} inputs hit known, pending failures (corpus/pending/)` : ''}`,
  )
  for (const s of signatures) console.log(`  failure: ${s}`)
  const fatal = report.targets.some((r) => r.fatal !== undefined)
  if (totals.crashes > 0 || totals.hangs > 0 || fatal) return 1
  if (report.timedOut) {
    console.log(
      `the time bound (${args.maxSeconds} s) ended the run before every target reached ${fmt(args.inputs ?? 0)} inputs`,
    )
    return 2
  }
  return 0
}

/** Signatures of the failures saved in corpus/pending/ that still fail (see the header). */
async function knownSignatures(targets: readonly TargetName[]): Promise<string[]> {
  const known = new Set<string>()
  for (const name of targets) {
    const files = readCorpusDir(join(CORPUS_DIR, 'pending', name))
    if (files.length === 0) continue
    const runner = new TargetRunner(await loadTarget(name))
    for (const { file, input } of files) {
      const sig = savedSignature(runner, file, input)
      const rel = relative(repoRoot, file)
      if (sig === undefined)
        console.log(`pending input ${rel} no longer fails: git mv it to corpus/regressions/${name}/`)
      else {
        if (!known.has(sig)) console.log(`known failure (pending, not counted as a crash): ${sig}  [${rel}]`)
        known.add(sig)
      }
    }
  }
  return [...known]
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  if (args.replay.length > 0) {
    process.exitCode = await replay(args.replay)
    return
  }
  const mode =
    args.inputs !== undefined
      ? `${fmt(args.inputs)} inputs per target, bounded at ${args.maxSeconds} s`
      : `about ${args.seconds} s over all targets`
  console.log(
    `fuzz: ${args.targets.length} targets, ${mode}, ${args.workers} worker(s), seed ${args.seed}, hang budget ${args.hangMs} ms`,
  )
  const known = args.strict ? [] : await knownSignatures(args.targets)
  const seen = new Map<string, number>()
  const report = await runFuzz({
    known,
    targets: args.targets.map(targetRef),
    inputsPerTarget: args.inputs,
    secondsPerTarget: args.seconds === undefined ? undefined : args.seconds / args.targets.length,
    maxSeconds: args.inputs === undefined ? (args.seconds ?? 0) * 2 + 60 : args.maxSeconds,
    workers: args.workers,
    seed: args.seed,
    hangMs: args.hangMs,
    watchdogMs: args.watchdogMs,
    chunkSize: args.chunk,
    corpusDir: CORPUS_DIR,
    onFailure: (f) => {
      // Each distinct failure is printed and saved twice at most (the summary counts them all).
      const n = (seen.get(f.signature) ?? 0) + 1
      seen.set(f.signature, n)
      if (n <= 2) printFailure(f, args.save ? save(f) : undefined)
    },
    onTargetDone: (r) => console.log(targetLine(r)),
  })
  process.exitCode = summary(report, args)
}

await main()

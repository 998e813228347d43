/**
 * The fuzz harness can fail: planted bugs (planted-targets.ts) are found and reported as
 * crashes or hangs, in the thread and through the worker pool's watchdog, and a clean target
 * reports none.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { type ChunkSpec, type Failure, readHexFile, TargetRunner } from '../../fuzz/harness/engine.ts'
import { mutate } from '../../fuzz/harness/mutate.ts'
import { runFuzz } from '../../fuzz/harness/pool.ts'
import { Rng } from '../../fuzz/harness/rng.ts'
import { clean, hiddenTypeError, internal, slow, typeError } from './planted-targets.ts'

const plantedModule = new URL('./planted-targets.ts', import.meta.url).href
const spec = (count: number, hangMs = 250): ChunkSpec => ({ seed: 7, count, deadline: 0, hangMs })

function runChunk(
  runner: TargetRunner,
  s: ChunkSpec,
): { stats: ReturnType<TargetRunner['runChunk']>; failures: Failure[] } {
  const failures: Failure[] = []
  const stats = runner.runChunk(s, (f) => failures.push(f))
  return { stats, failures }
}

test('a TypeError is a crash, reported with its input and stack', () => {
  const runner = new TargetRunner(typeError)
  const one = runner.runOne(Uint8Array.of(0x54))
  assert.equal(one.outcome.kind, 'crash')
  const { stats, failures } = runChunk(runner, spec(500))
  assert.ok(stats.crashes > 0, 'crashes counted')
  assert.ok(stats.rejected > 0, 'odd-length inputs are rejections, not crashes')
  const f = failures[0]!
  assert.equal(f.kind, 'crash')
  assert.match(f.signature, /TypeError/)
  assert.match(f.hex, /^54/)
  assert.match(f.detail, /planted-targets\.ts/, 'the stack says where')
  assert.ok(failures.length <= 3, 'one signature is reported at most 3 times per chunk')
})

test('INTERNAL, and a coded error hiding an engine error, are crashes; a coded rejection is not', () => {
  assert.equal(new TargetRunner(internal).runOne(Uint8Array.of(0x49)).outcome.kind, 'crash')
  assert.equal(new TargetRunner(hiddenTypeError).runOne(Uint8Array.of(0x48)).outcome.kind, 'crash')
  const rejected = new TargetRunner(clean).runOne(Uint8Array.of(1, 2, 3)).outcome
  assert.deepEqual(rejected, { kind: 'rejected', code: 'FRAME_MALFORMED' })
  const lenient = new TargetRunner({ ...hiddenTypeError, lenientCauses: true })
  assert.equal(lenient.runOne(Uint8Array.of(0x48)).outcome.kind, 'rejected')
})

test('an input over the per-input budget on three runs in a row is a hang', () => {
  const { stats, failures } = runChunk(new TargetRunner(slow), spec(40, 40))
  assert.ok(stats.hangs > 0)
  assert.equal(failures[0]?.kind, 'hang')
  assert.match(failures[0]!.hex, /^53/)
})

test('a clean target reports no crash and no hang; known signatures are counted apart', () => {
  const { stats, failures } = runChunk(new TargetRunner(clean), spec(3000))
  assert.equal(stats.tried, 3000)
  assert.equal(stats.crashes + stats.hangs, 0)
  assert.deepEqual(failures, [])
  const runner = new TargetRunner(typeError)
  const first = runChunk(runner, spec(300))
  const again = runner.runChunk({ ...spec(300), known: [first.failures[0]!.signature] }, () =>
    assert.fail('reported'),
  )
  assert.equal(again.crashes, 0)
  assert.ok(again.known > 0)
})

test('the mutator never writes into its corpus (Buffers included) and keeps to maxLength', () => {
  const rng = new Rng(3)
  const seed = Buffer.from('0102030405060708090a', 'hex')
  const backing = Buffer.alloc(64, 0xee)
  seed.copy(backing, 8)
  const view = backing.subarray(8, 18)
  const corpus = [seed, view]
  for (let i = 0; i < 5000; i++) {
    const out = mutate(rng, rng.pick(corpus), corpus, {
      maxLength: 40,
      dictionary: [Uint8Array.of(0xaa, 0xbb)],
    })
    assert.ok(out.length <= 40)
  }
  assert.equal(seed.toString('hex'), '0102030405060708090a')
  assert.equal(backing.toString('hex'), `${'ee'.repeat(8)}0102030405060708090a${'ee'.repeat(46)}`)
})

test('corpus files: hex with comments and HEX*N repetition', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-corpus-'))
  try {
    const file = join(dir, 'x.hex')
    writeFileSync(file, '# a comment\n01 02\nab*3 ff\n')
    assert.deepEqual([...readHexFile(file)], [1, 2, 0xab, 0xab, 0xab, 0xff])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('through the worker pool: a crash is reported, an infinite loop is killed by the watchdog and the run goes on', async () => {
  const found: Failure[] = []
  const report = await runFuzz({
    targets: [
      { name: 'type-error', module: plantedModule, exportName: 'typeError' },
      { name: 'infinite-loop', module: plantedModule, exportName: 'infiniteLoop' },
      { name: 'clean', module: plantedModule, exportName: 'clean' },
    ],
    inputsPerTarget: 2000,
    maxSeconds: 50,
    workers: 2,
    seed: 11,
    hangMs: 100,
    watchdogMs: 600,
    chunkSize: 1000,
    maxWorkerLosses: 2,
    onFailure: (f) => found.push(f),
  })
  const by = new Map(report.targets.map((t) => [t.name, t.stats]))
  assert.ok(by.get('type-error')!.crashes > 0, 'the planted TypeError was found')
  assert.ok(by.get('infinite-loop')!.hangs > 0, 'the planted loop was caught')
  const hang = found.find((f) => f.target === 'infinite-loop')
  assert.equal(hang?.kind, 'hang')
  assert.match(hang!.hex, /^4c/, 'the looping input was read back from shared memory')
  assert.equal(by.get('clean')!.tried, 2000, 'the other targets ran to the end')
  assert.equal(by.get('clean')!.crashes + by.get('clean')!.hangs, 0)
  const loop = report.targets.find((t) => t.name === 'infinite-loop')!
  assert.ok(loop.workerLosses >= 2, 'killed workers counted')
  assert.match(
    loop.stopped ?? '',
    /stopped after losing \d workers/,
    'a target that keeps hanging is stopped',
  )
  assert.ok(report.elapsedMs < 40_000)
})

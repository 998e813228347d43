/**
 * Every input that once made a fuzz target fail (test/fuzz/corpus/regressions/TARGET/*.hex, plus
 * hand-made nasty ones) is replayed through its target: none may crash, and none may take long.
 * Inputs of bugs not fixed yet wait in corpus/pending/, which is not replayed here (see
 * test/fuzz/run.ts); move one to regressions/ together with its fix.
 */
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { readCorpusDir, stackOf, TargetRunner } from '../../fuzz/harness/engine.ts'
import { isTargetName, loadTarget, TARGET_NAMES } from '../../fuzz/targets/index.ts'

const regressions = fileURLToPath(new URL('../../fuzz/corpus/regressions/', import.meta.url))
/** Generous: a regression input is small; the fuzzer's own budget is 250 ms. */
const SLOW_MS = 2000

const folders = readdirSync(regressions, { withFileTypes: true }).filter((d) => d.isDirectory())

test('every regression folder is a target, and every target has regression inputs', () => {
  for (const d of folders) assert.ok(isTargetName(d.name), `corpus/regressions/${d.name} is not a target`)
  for (const name of TARGET_NAMES) {
    assert.ok(readCorpusDir(join(regressions, name)).length > 0, `no regression inputs for ${name}`)
  }
})

for (const d of folders) {
  if (!isTargetName(d.name)) continue
  const name = d.name
  for (const { file, input } of readCorpusDir(join(regressions, name))) {
    test(`${name}: ${file.slice(regressions.length + name.length + 1)} does not crash`, async () => {
      const runner = new TargetRunner(await loadTarget(name))
      const { outcome, ms } = runner.runOne(input)
      if (outcome.kind === 'crash') assert.fail(`${outcome.reason}\n${stackOf(outcome.error)}`)
      assert.ok(ms < SLOW_MS, `took ${ms.toFixed(0)} ms`)
    })
  }
}

/**
 * msgpackr is imported only through its pure entry points: after every codec ran (msgpack and
 * json, directly and over a real connection) the process has loaded no native `.node` addon.
 * Checked in a fresh child process so the test runner's own modules do not interfere.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'

const run = promisify(execFile)
const probe = 'test/fixtures/programs/native-probe.ts'

async function sharedObjectsAfter(
  mode: 'library' | 'control',
): Promise<{ used: Record<string, unknown>; sharedObjects: string[] }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', probe, mode], { timeout: 20_000 })
  return JSON.parse(stdout)
}

const addons = (objects: string[]): string[] => objects.filter((s) => s.endsWith('.node'))

test('no .node addon is loaded after every codec ran', async () => {
  const { used, sharedObjects } = await sharedObjectsAfter('library')
  assert.ok(sharedObjects.length > 0, 'the report lists shared objects at all')
  assert.deepEqual(Object.keys(used).sort(), ['json-codec', 'json-link', 'msgpack-codec', 'msgpack-link'])
  // Each link really used its codec: a Date survives msgpack and becomes a string in json.
  assert.equal(used['msgpack-link'], 'Date')
  assert.equal(used['json-link'], 'string')
  assert.deepEqual(addons(sharedObjects), [])
})

test('control: the probe does see an addon when msgpackr is imported through its main entry', async (t) => {
  const { sharedObjects } = await sharedObjectsAfter('control')
  const found = addons(sharedObjects)
  if (found.length === 0) {
    // msgpackr-extract is optional: without its prebuilt binary nothing can load; the probe itself
    // is then proven by the list being non-empty.
    t.diagnostic('msgpackr-extract is not installed here; the control has nothing to detect')
    assert.ok(sharedObjects.length > 0)
    return
  }
  assert.ok(
    found.some((s) => s.includes('msgpackr-extract')),
    found.join(', '),
  )
})

/**
 * msgpackr is imported only through its pure entry points: after every codec ran (msgpack and
 * json, directly and over a real connection) the process has loaded no native `.node` addon.
 * Checked in a fresh child process so the test runner's own modules do not interfere.
 *
 * The controls prove the check can fail: the same probe, in a process that loads a real addon
 * (one compiled into a temp dir here, and msgpackr-extract's when it is installed), reports it.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { promisify } from 'node:util'
import { makeRuntimeDir } from '../../helpers/tmp.ts'

const run = promisify(execFile)
const probe = 'test/fixtures/programs/native-probe.ts'

async function sharedObjectsAfter(
  ...args: string[]
): Promise<{ used: Record<string, unknown>; sharedObjects: string[] }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', probe, ...args], { timeout: 20_000 })
  return JSON.parse(stdout)
}

const addons = (objects: string[]): string[] => objects.filter((s) => s.endsWith('.node'))

/** The smallest Node-API addon: it registers and exports nothing. No Node headers needed. */
const ADDON_SOURCE = `typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
napi_value napi_register_module_v1(napi_env env, napi_value exports) { (void)env; return exports; }
`

test('no .node addon is loaded after every codec ran', async () => {
  const { used, sharedObjects } = await sharedObjectsAfter('library')
  assert.ok(sharedObjects.length > 0, 'the report lists shared objects at all')
  assert.deepEqual(Object.keys(used).sort(), ['json-codec', 'json-link', 'msgpack-codec', 'msgpack-link'])
  // Each link really used its codec: a Date survives msgpack and becomes a string in json.
  assert.equal(used['msgpack-link'], 'Date')
  assert.equal(used['json-link'], 'string')
  assert.deepEqual(addons(sharedObjects), [])
})

test('control: the probe reports a real addon that the process loaded (compiled here into a temp dir)', async () => {
  const dir = await makeRuntimeDir('sb-addon-')
  after(() => dir.cleanup())
  const source = join(dir.path, 'probe-addon.c')
  const addon = join(dir.path, 'probe-addon.node')
  await writeFile(source, ADDON_SOURCE)
  // A C compiler is needed to make an addon that is certainly present (the optional msgpackr-extract
  // binary may be absent): without one this control fails loudly instead of passing on nothing.
  await run(process.env['CC'] ?? 'cc', ['-shared', '-fPIC', '-o', addon, source], { timeout: 60_000 }).catch(
    (err: unknown) => assert.fail(`cannot build the control addon (set CC to a C compiler): ${String(err)}`),
  )
  const { used, sharedObjects } = await sharedObjectsAfter('addon', addon)
  assert.deepEqual(used, { addon: {} }, 'the addon loaded and registered')
  assert.deepEqual(addons(sharedObjects), [addon])
})

test("control: msgpackr's main entry loads msgpackr-extract's addon exactly when it is installed", async () => {
  let installed = true
  try {
    // Loads the binary if this platform has one (node-gyp-build throws when none is found).
    createRequire(import.meta.url)('msgpackr-extract')
  } catch {
    installed = false
  }
  const { used, sharedObjects } = await sharedObjectsAfter('control')
  assert.deepEqual(used['msgpackr-main'], { n: 1 })
  const found = addons(sharedObjects)
  if (installed) {
    assert.ok(found.length > 0 && found.every((s) => s.includes('msgpackr-extract')), found.join(', '))
  } else {
    assert.deepEqual(found, [], 'without the binary, msgpackr falls back to pure JS')
  }
})

/**
 * `npm start` must keep working: the demo runs as a user runs it (a real service process and
 * watcher process), exits 0, and its summary reports every step.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'node:test'
import { makeRuntimeDir } from '../helpers/tmp.ts'
import { withTimeout } from '../helpers/wait.ts'

test('the demo runs end to end, exits 0 and prints its summary', async () => {
  const dir = await makeRuntimeDir()
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/main.ts'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SWITCHBOARD_RUNTIME_DIR: dir.path },
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString()
  })
  try {
    const [code] = await withTimeout(once(child, 'close'), 45_000, 'the demo to finish')
    assert.equal(code, 0, out)
    for (const step of ['1) ', '2) ', '3) ', '4) ', '5) ', '6) ', '7) ', '8) '])
      assert.ok(out.includes(`\n${step}`), `step ${step}: ${out}`)
    assert.match(out, /6\) over TCP with a secret: noise-nnpsk0, .*; without one: INSECURE_TRANSPORT/)
    assert.match(
      out,
      /7\) peers by name: 4 peers, .* 200 calls to 'pricing' spread \d+ \+ \d+ over its 2 instances; 1,000 prices published to 2 desks \(2,000 copies delivered\), each desk got 1000 once each and in order: true; 1000 once each and in order: true/,
    )
    assert.match(
      out,
      /8\) through a daemon \(unix:.*\): 3 peers registered with leases; 'pricing' quoted 9\.5 by name; 'prices' reached 1 desk, which got 1 once each and in order: true; the desk left and 'demo' saw it leave: true/,
    )
    assert.match(out, /summary: .* pending after: 0; service exited 0;/)
  } finally {
    child.kill('SIGKILL')
    await dir.cleanup()
  }
})

/**
 * examples/contracts/main.ts keeps working: it runs as a user runs it, exits 0, and shows the
 * offered protocols, a typed call, an event and a refused input.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'node:test'
import { withTimeout } from '../helpers/wait.ts'

test('the contracts example runs, exits 0 and prints each step', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/contracts/main.ts'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const [code] = await withTimeout(once(child, 'close'), 30_000, 'the example to finish')
  assert.equal(code, 0, out)
  assert.match(out, /offered: \[ 'billing 1\.2', 'health 1\.0' \]/)
  assert.match(out, /created: inv_1_10\n/)
  assert.match(out, /paid event: inv_1_10\n/)
  assert.match(out, /refused: INPUT_INVALID \{"issues":\[\{"path":\["amount"\]/)
})

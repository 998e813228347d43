/**
 * `switchboard describe ADDRESS` in-process: a server implementing a zod protocol (JSON Schema
 * native), a valibot one through toStandardJsonSchema(), and a valibot one without JSON Schema;
 * describe prints each protocol's version, methods and events with the schemas that exist, as
 * text and as JSON. A service without contracts prints that it offers none.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { toStandardJsonSchema } from '@valibot/to-json-schema'
import * as v from 'valibot'
import { z } from 'zod'
import { run } from '../../src/cli/run.ts'
import { defineProtocol, listen, type Server } from '../../src/index.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { withTimeout } from '../helpers/wait.ts'
import { captureIo } from './captured-io.ts'

let dir: RuntimeDir
let server: Server
let bare: Server

before(async () => {
  dir = await makeRuntimeDir('sb-desc-')
  server = await listen('described', { runtimeDir: dir.path })
  bare = await listen('bare', { runtimeDir: dir.path })
  server.implement(
    defineProtocol({
      name: 'billing',
      version: '1.2',
      requests: {
        'invoice.create': { input: z.object({ amount: z.number() }), output: z.object({ id: z.string() }) },
      },
      events: { 'invoice.paid': z.object({ id: z.string() }) },
    }),
    { 'invoice.create': () => ({ id: 'x' }) },
  )
  server.implement(
    defineProtocol({
      name: 'texts',
      version: '2',
      requests: {
        echo: { input: toStandardJsonSchema(v.string()), output: toStandardJsonSchema(v.string()) },
      },
    }),
    { echo: (s) => s },
  )
  server.implement(
    defineProtocol({
      name: 'plain',
      version: '1.0',
      requests: { m: { input: v.number(), output: v.number() } },
    }),
    { m: (n) => n },
  )
})

after(async () => {
  await server?.close()
  await bare?.close()
  await dir?.cleanup()
})

async function describe(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo({ env: { SWITCHBOARD_RUNTIME_DIR: dir.path } })
  const code = await withTimeout(run(['describe', ...args], io), 15_000, `describe ${args.join(' ')}`)
  return { code, out: io.out(), err: io.err() }
}

test('describe prints protocols, methods and events with the zod JSON Schema', async () => {
  const { code, out, err } = await describe('described')
  assert.equal(code, 0, err)
  const lines = out.split('\n')
  assert.ok(lines.includes('billing 1.2'), out)
  assert.ok(lines.includes('  request invoice.create'), out)
  const input = lines[lines.indexOf('  request invoice.create') + 1]!
  assert.match(input, /^ {4}input: {2}\{/)
  const schema = JSON.parse(input.slice('    input:  '.length)) as Record<string, unknown>
  assert.equal(schema['type'], 'object')
  assert.deepEqual(schema['properties'], { amount: { type: 'number' } })
  assert.ok(lines.includes('  event invoice.paid'), out)
  assert.ok(lines.includes('texts 2.0'), out)
  assert.ok(lines.includes('plain 1.0'), out)
  assert.ok(lines.includes('    input:  (no JSON Schema)'), 'plain valibot has none')
})

test('describe --json gives the same as one JSON line', async () => {
  const { code, out } = await describe('described', '--json')
  assert.equal(code, 0)
  const d = JSON.parse(out) as {
    protocols: {
      name: string
      version: string
      methods: { name: string; input: unknown; output: unknown }[]
    }[]
  }
  assert.deepEqual(d.protocols.map((p) => `${p.name} ${p.version}`).sort(), [
    'billing 1.2',
    'plain 1.0',
    'texts 2.0',
  ])
  const texts = d.protocols.find((p) => p.name === 'texts')!
  assert.deepEqual(texts.methods[0]?.name, 'echo')
  assert.equal(
    (texts.methods[0]!.input as { type?: string }).type,
    'string',
    'valibot through toStandardJsonSchema',
  )
  const plain = d.protocols.find((p) => p.name === 'plain')!
  assert.deepEqual(plain.methods, [{ name: 'm', input: null, output: null }])
})

test('a service without contracts offers none', async () => {
  const { code, out } = await describe('bare')
  assert.equal(code, 0)
  assert.equal(out, 'no protocols offered\n')
})

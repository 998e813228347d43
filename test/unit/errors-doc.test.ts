/**
 * docs/errors.md stays true to src/errors.ts: every code is listed once, with its wire number
 * (or "local") and retryable value, and no code is listed that does not exist.
 * Regenerate with: node --import tsx scripts/gen-errors-doc.ts
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { type ErrorCode, ErrorCodes } from '../../src/errors.ts'

const REGENERATE = 'run: node --import tsx scripts/gen-errors-doc.ts'

interface DocRow {
  wire: string
  retryable: string
  meaning: string
  action: string
}

function readDoc(): Map<string, DocRow[]> {
  let text: string
  try {
    text = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
  } catch (err) {
    assert.fail(`docs/errors.md is missing (${String(err)}); ${REGENERATE}`)
  }
  const rows = new Map<string, DocRow[]>()
  for (const line of text.split('\n')) {
    const match = /^\|\s*`([A-Z0-9_]+)`\s*\|([^|]*)\|([^|]*)\|(.*)$/.exec(line)
    if (!match) continue
    const [, code, wire, retryable, rest] = match
    const cells = rest!.split(/(?<!\\)\|/).map((c) => c.trim())
    const row: DocRow = {
      wire: wire!.trim(),
      retryable: retryable!.trim(),
      meaning: cells[0] ?? '',
      action: cells[1] ?? '',
    }
    rows.set(code!, [...(rows.get(code!) ?? []), row])
  }
  return rows
}

test('docs/errors.md lists every code once with its wire number and retryable value', () => {
  const rows = readDoc()
  const problems: string[] = []
  for (const [code, info] of Object.entries(ErrorCodes) as [ErrorCode, (typeof ErrorCodes)[ErrorCode]][]) {
    const found = rows.get(code)
    if (!found) {
      problems.push(`${code}: missing`)
      continue
    }
    if (found.length > 1) problems.push(`${code}: listed ${found.length} times`)
    const row = found[0]!
    const wire = info.wire === 0 ? 'local' : String(info.wire)
    if (row.wire !== wire) problems.push(`${code}: wire is ${wire}, doc says ${row.wire}`)
    const retryable = info.retryable ? 'yes' : 'no'
    if (row.retryable !== retryable)
      problems.push(`${code}: retryable is ${retryable}, doc says ${row.retryable}`)
    if (row.meaning === '' || row.action === '') problems.push(`${code}: meaning or advice is empty`)
  }
  for (const code of rows.keys()) {
    if (!(code in ErrorCodes)) problems.push(`${code}: listed but not in src/errors.ts`)
  }
  assert.deepEqual(
    problems,
    [],
    `docs/errors.md disagrees with src/errors.ts:\n  ${problems.join('\n  ')}\n${REGENERATE}`,
  )
})

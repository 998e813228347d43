/**
 * pair(): two processes running the same code share one address, whichever starts first serves;
 * both reach 'ready' and both can request the other. A third process is refused with PAIR_FULL.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { after, test } from 'node:test'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitUntil } from '../helpers/wait.ts'

interface Peer {
  name: string
  proc: ChildProcess
  lines: string[]
  /** Waits for a line starting with `prefix` (seen before or after the call); returns it. */
  line(prefix: string): Promise<string>
  call(): void
}

const peers: Peer[] = []
const dirs: RuntimeDir[] = []
after(async () => {
  for (const p of peers) if (p.proc.exitCode === null) p.proc.kill('SIGKILL')
  for (const d of dirs) await d.cleanup()
})

function startPeer(dir: RuntimeDir, name: string): Peer {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/fixtures/programs/pair-peer.ts', 'pair-test', dir.path, name],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const lines: string[] = []
  createInterface({ input: proc.stdout! }).on('line', (l) => lines.push(l))
  const peer: Peer = {
    name,
    proc,
    lines,
    async line(prefix) {
      await waitUntil(() => lines.some((l) => l.startsWith(prefix)), {
        what: `${name} to print '${prefix}…'`,
        describe: () => lines.join(' | '),
      })
      return lines.find((l) => l.startsWith(prefix))!
    },
    call() {
      proc.stdin!.write('call\n')
    },
  }
  peers.push(peer)
  return peer
}

async function pairInOrder(first: string, second: string): Promise<{ a: Peer; b: Peer; dir: RuntimeDir }> {
  const dir = await makeRuntimeDir()
  dirs.push(dir)
  const a = startPeer(dir, first)
  assert.match(await a.line('ready '), /^ready server /, `${first} started first and serves`)
  const b = startPeer(dir, second)
  assert.match(await b.line('ready '), /^ready client /, `${second} started second and connects`)
  await a.line('state ready')
  await b.line('state ready')
  return { a, b, dir }
}

async function bothRequestEachOther(a: Peer, b: Peer): Promise<void> {
  const before = [a.lines.length, b.lines.length]
  a.call()
  b.call()
  await waitUntil(() => a.lines.slice(before[0]).some((l) => l.startsWith('reply ')), {
    what: `${a.name}'s reply`,
    describe: () => a.lines.join(' | '),
  })
  await waitUntil(() => b.lines.slice(before[1]).some((l) => l.startsWith('reply ')), {
    what: `${b.name}'s reply`,
    describe: () => b.lines.join(' | '),
  })
  const replyOf = (p: Peer, from: number) =>
    JSON.parse(
      p.lines
        .slice(from)
        .find((l) => l.startsWith('reply '))!
        .slice(6),
    )
  assert.deepEqual(replyOf(a, before[0]!), { from: b.name, method: 'hello', data: a.name })
  assert.deepEqual(replyOf(b, before[1]!), { from: a.name, method: 'hello', data: b.name })
}

for (const [first, second] of [
  ['alpha', 'beta'],
  ['beta', 'alpha'],
] as const) {
  test(`${first} then ${second}: both ready, both request each other`, async () => {
    const { a, b } = await pairInOrder(first, second)
    await bothRequestEachOther(a, b)
  })
}

test('a third process on the same pair address gets PAIR_FULL; the pair keeps working', async () => {
  const { a, b, dir } = await pairInOrder('alpha', 'beta')
  const c = startPeer(dir, 'gamma')
  assert.match(await c.line('ready '), /^ready client /)
  assert.equal(await c.line('close '), 'close PAIR_FULL')
  assert.ok(c.lines.includes('error PAIR_FULL'), `gamma's lines: ${c.lines.join(' | ')}`)
  c.call()
  assert.equal(await c.line('call-failed '), 'call-failed PAIR_FULL')
  await bothRequestEachOther(a, b)
  console.log(`# gamma saw: ${c.lines.join(' | ')}`)
})

/**
 * Two real OS users through the real daemon's relay. As root, the test creates `sbtest-ra` and
 * `sbtest-rb` (idempotently; deleted at the end) and runs a daemon process with the real auth
 * (createDaemonAuth: the cookie challenge proves each peer's OS user). Each peer is its own
 * process spawned with its user's uid and gid (it reports process.getuid()), in a runtime
 * directory that is 0700 and its own, so user B's direct connect to user A's socket fails with
 * EACCES.
 *
 * - With a policy entry letting sbtest-rb reach A's names, B's calls go through the daemon:
 *   peers() says route 'relay', `switchboard ls --directory` run as B says ROUTE relay.
 * - Fan-out across the users: A publishes, B's subscribers get every event once; one that
 *   subscribes mid-stream gets exactly those after its subscription took effect.
 * - Without the entry, B is refused with NOT_PERMITTED.
 *
 * When not root this test fails, saying it needs root.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { chmod, chown, mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { generateSecret } from '../../src/session/key-files.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'
import { type DaemonProcess, startPolicyDaemon } from './daemon-process.ts'
import { PeerProcess } from './peer-process.ts'

const run = promisify(execFile)
const USERS = ['sbtest-ra', 'sbtest-rb'] as const
const CLI = new URL('../../src/cli/main.ts', import.meta.url).pathname
const REPO = new URL('../../', import.meta.url).pathname

interface Ids {
  uid: number
  gid: number
}
const ids = new Map<string, Ids>()
let tmp = ''
const daemons: DaemonProcess[] = []
const peers: PeerProcess[] = []
const secret = Buffer.from(generateSecret()).toString('base64url')

async function idsOf(user: string): Promise<Ids | undefined> {
  try {
    const uid = Number((await run('id', ['-u', user])).stdout.trim())
    const gid = Number((await run('id', ['-g', user])).stdout.trim())
    return { uid, gid }
  } catch {
    return undefined
  }
}

before(async () => {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'this test needs root: it creates the OS users sbtest-ra and sbtest-rb (run it as root, e.g. in CI)',
    )
  }
  for (const user of USERS) {
    if ((await idsOf(user)) === undefined) {
      await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user]).catch(
        async (err) => {
          if ((await idsOf(user)) === undefined) throw err
        },
      )
    }
    ids.set(user, (await idsOf(user))!)
  }
  // The children run the repo's sources with its tsx: they must be readable by other users.
  const { stdout } = await run('stat', ['-c', '%a', REPO, join(REPO, 'node_modules/tsx/package.json')])
  for (const mode of stdout.trim().split('\n')) {
    assert.ok((Number.parseInt(mode, 8) & 0o005) !== 0, `the repo must be readable by other users (${mode})`)
  }
  tmp = await realpath(await mkdtemp(join(tmpdir(), 'sb-ru-')))
  await chmod(tmp, 0o755)
})

after(async () => {
  for (const p of peers) await p.kill()
  for (const d of daemons) await d.stop().catch(() => d.kill())
  if (tmp !== '') await rm(tmp, { recursive: true, force: true })
  for (const user of USERS) await run('userdel', [user]).catch(() => {})
})

/** A runtime directory of `user`'s own (0700), inside the shared 0755 temp directory. */
async function runtimeDirOf(user: string, label: string): Promise<string> {
  const dir = join(tmp, `${label}-${user}`)
  await mkdir(dir, { mode: 0o700 })
  const { uid, gid } = ids.get(user)!
  await chown(dir, uid, gid)
  return dir
}

async function daemonWith(label: string, policy: Record<string, unknown>): Promise<DaemonProcess> {
  const config = join(tmp, `${label}.json`)
  await writeFile(config, JSON.stringify({ socket: join(tmp, label, 'daemon.sock'), policy }))
  const d = await startPolicyDaemon(config)
  daemons.push(d)
  return d
}

async function peerAs(user: string, name: string, daemon: DaemonProcess, runtimeDir: string) {
  const { uid, gid } = ids.get(user)!
  const p = await PeerProcess.start(name, runtimeDir, 20_000, {
    uid,
    gid,
    env: {
      HOME: tmp,
      SWITCHBOARD_TEST_DIRECTORY: daemon.address,
      SWITCHBOARD_TEST_LEASE_MS: '3000',
      SWITCHBOARD_TEST_SECRET: secret,
      SWITCHBOARD_TEST_DIRECT_TIMEOUT_MS: '1000',
    },
  })
  peers.push(p)
  assert.equal(p.uid, uid, `${name} runs as ${user}`)
  return p
}

/** `switchboard ls --json --directory ADDRESS` run as `user`: its rows. */
async function lsAs(user: string, daemon: DaemonProcess, runtimeDir: string) {
  const { uid, gid } = ids.get(user)!
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'ls', '--json', '--directory', daemon.address],
    {
      uid,
      gid,
      cwd: REPO,
      env: { ...process.env, HOME: tmp, SWITCHBOARD_RUNTIME_DIR: runtimeDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString()
  })
  const code = await withTimeout(
    new Promise<number | null>((resolve) => child.once('exit', resolve)),
    20_000,
    'ls as another user',
  )
  assert.equal(code, 0, err)
  return JSON.parse(out) as { name: string; instance: string; route?: string }[]
}

test('user B reaches user A through the daemon when the policy lets it; fan-out across users is exactly once', async () => {
  const [a, b] = USERS
  const daemon = await daemonWith('allowed', { 'os-user:sbtest-rb': { reach: ['alpha', 'ticker'] } })
  const rtA = await runtimeDirOf(a, 'allowed')
  const rtB = await runtimeDirOf(b, 'allowed')
  const alpha = await peerAs(a, 'alpha', daemon, rtA)
  const beta = await peerAs(b, 'beta', daemon, rtB)
  assert.notEqual(alpha.uid, beta.uid)

  const seen = (await beta.ask({ cmd: 'peers' }, (l) => Array.isArray(l['peers']), 'beta to list its peers'))[
    'peers'
  ] as { instance: string; address: string }[]
  const alphaAddress = seen.find((p) => p.instance === alpha.instance)?.address
  assert.ok(
    alphaAddress?.startsWith(`unix:${rtA}/`),
    `beta sees alpha's socket in A's directory (${alphaAddress})`,
  )
  const direct = await beta.ask(
    { cmd: 'dial', address: alphaAddress },
    (l) => typeof l['dialed'] === 'string',
    'beta to connect to alpha directly',
  )
  assert.equal(direct['errno'], 'EACCES', "B's direct connect to A's socket is refused by the OS")

  const called = await beta.ask(
    { cmd: 'call', id: 'ba', name: 'alpha', method: 'who' },
    (l) => l['called'] === 'ba',
    'beta to call alpha',
  )
  assert.equal(
    (called['result'] as { instance: string } | undefined)?.instance,
    alpha.instance,
    JSON.stringify(called),
  )
  const listed = (await beta.ask({ cmd: 'peers' }, (l) => Array.isArray(l['peers']), 'peers'))['peers'] as {
    instance: string
    route?: string
    connected: boolean
  }[]
  const toAlpha = listed.find((p) => p.instance === alpha.instance)
  assert.equal(toAlpha?.route, 'relay')
  assert.equal(toAlpha?.connected, true)

  const rows = await lsAs(b, daemon, rtB)
  assert.equal(rows.find((r) => r.instance === alpha.instance)?.route, 'relay', 'ls as B: alpha by relay')
  assert.equal(
    rows.find((r) => r.instance === beta.instance)?.route,
    'direct',
    'ls as B: its own peer direct',
  )

  // Fan-out: A publishes; two of B's peers subscribe from the start, a third mid-stream.
  const ticker = await peerAs(a, 'ticker', daemon, rtA)
  const watchers = [beta, await peerAs(b, 'watcher', daemon, rtB)]
  await Promise.all(
    watchers.map((w) =>
      w.ask({ cmd: 'subscribe', topic: 'ticks' }, (l) => l['subscribed'] === 'ticks', 'subscribe'),
    ),
  )
  const first = await ticker.ask(
    { cmd: 'publish', topic: 'ticks', from: 0, to: 500 },
    (l) => l['published'] === 'ticks',
    'the first 500',
    30_000,
  )
  assert.ok(
    (first['delivered'] as number[]).every((d) => d === 2),
    'every event reached both subscribers',
  )
  const AT_LEAST = 12_000
  const late = await peerAs(b, 'late', daemon, rtB)
  const midway = ticker.next(
    (l) => l['progress'] === 'ticks' && (l['at'] as number) >= 1500,
    'events to flow',
  )
  const flowing = ticker.ask(
    // At least to 12,000, and on until 2,000 in a row reached the late one too.
    {
      cmd: 'publish',
      topic: 'ticks',
      from: 500,
      to: AT_LEAST,
      until: { receivers: 3, events: 2000, max: 200_000 },
    },
    (l) => l['published'] === 'ticks',
    `events from 500`,
    90_000,
  )
  await midway
  await late.ask({ cmd: 'subscribe', topic: 'ticks' }, (l) => l['subscribed'] === 'ticks', 'the late one')
  const delivered = (await flowing)['delivered'] as number[]
  const TOTAL = 500 + delivered.length
  const at = delivered.indexOf(3)
  assert.ok(at > 0, `the late one took effect while events flowed (at ${500 + at})`)
  const firstForLate = 500 + at
  assert.ok(
    delivered.slice(at).every((d) => d === 3),
    'from then on every event had 3 receivers',
  )
  assert.ok(
    delivered.slice(0, at).every((d) => d === 2),
    'and before, 2',
  )
  for (const w of watchers) {
    assert.deepEqual(
      await received(w, TOTAL),
      Array.from({ length: TOTAL }, (_, i) => i),
      `${w.name}: every event once, in order`,
    )
  }
  assert.deepEqual(
    await received(late, TOTAL - firstForLate),
    Array.from({ length: TOTAL - firstForLate }, (_, i) => firstForLate + i),
    'the late one: every event from the one its subscription took effect on, none before, none twice',
  )
  const routes = (await late.ask({ cmd: 'peers' }, (l) => Array.isArray(l['peers']), 'peers'))['peers'] as {
    instance: string
    route?: string
  }[]
  assert.equal(routes.find((p) => p.instance === ticker.instance)?.route, 'relay')
  console.log(`# across users: the late subscription took effect at event ${firstForLate} of ${TOTAL}`)
})

test('without a policy entry, user B is refused with NOT_PERMITTED', async () => {
  const [a, b] = USERS
  const daemon = await daemonWith('refused', {})
  const alpha = await peerAs(a, 'alpha', daemon, await runtimeDirOf(a, 'refused'))
  const beta = await peerAs(b, 'beta', daemon, await runtimeDirOf(b, 'refused'))
  await waitFor(
    async () =>
      (
        (await beta.ask({ cmd: 'peers' }, (l) => Array.isArray(l['peers']), 'peers'))['peers'] as {
          instance: string
        }[]
      ).some((p) => p.instance === alpha.instance),
    { what: 'beta to see alpha' },
  )
  const called = await beta.ask(
    { cmd: 'call', id: 'no', name: 'alpha', method: 'who' },
    (l) => l['called'] === 'no',
    'beta to call alpha',
  )
  assert.equal(called['code'], 'NOT_PERMITTED', JSON.stringify(called))
})

/** The values `p` received on 'ticks', once it has `count` of them. */
async function received(p: PeerProcess, count: number): Promise<number[]> {
  let values: number[] = []
  await waitFor(
    async () => {
      const line = await p.ask(
        { cmd: 'received', topic: 'ticks' },
        (l) => l['received'] === 'ticks',
        'events',
      )
      values = line['values'] as number[]
      return values.length >= count
    },
    {
      what: `${p.name} to receive ${count} events`,
      timeoutMs: 30_000,
      intervalMs: 100,
      describe: () => `${values.length}`,
    },
  )
  return values
}

/**
 * Hosts without a route between them, through the daemon's relay. Three network namespaces: the
 * daemon's (d) and two hosts (a, b), joined by veth pairs a<->d and b<->d. Each host's only route
 * leads to d, and d does not forward, so a packet from a to b goes to d and is dropped there: a's
 * direct connect to b gets no answer. The daemon process runs in d on TCP (the real auth, an
 * account both hosts log in with); each peer is a process in its own namespace (`ip netns exec`),
 * joined with `directory: tcp://<d's address on its side>:PORT` and `host` on its own address.
 * Their direct dial times out (directTimeoutMs), and they talk through the relay.
 *
 * Needs root (namespaces); installs iproute2 with the project's script when `ip` is missing, and
 * removes the namespaces at the end, whatever happened.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { hashPassword } from '../../src/daemon/auth/password-hash.ts'
import { generateSecret } from '../../src/session/key-files.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { type DaemonProcess, startPolicyDaemon } from './daemon-process.ts'
import { PeerProcess } from './peer-process.ts'

const run = promisify(execFile)
const ENSURE = new URL('../../scripts/ensure-packages.sh', import.meta.url).pathname
// Names unique to this run, so a parallel or crashed run does not collide with this one.
const tag = String(process.pid % 100_000)
const NS = { a: `sb-a-${tag}`, b: `sb-b-${tag}`, d: `sb-d-${tag}` }
const PORT = 4455
const IP = { a: '10.231.1.2', da: '10.231.1.1', b: '10.231.2.2', db: '10.231.2.1' }

let tmp: RuntimeDir | undefined
let daemon: DaemonProcess | undefined
const peers: PeerProcess[] = []

const ip = (...args: string[]) => run('ip', args)
const inNs = (ns: string, ...args: string[]) => run('ip', ['netns', 'exec', ns, ...args])

before(async () => {
  if (process.getuid?.() !== 0) {
    throw new Error('this test needs root: it creates network namespaces (run it as root, e.g. in CI)')
  }
  await run('bash', [ENSURE, 'iproute2:ip'])
  await removeNamespaces()
  for (const ns of Object.values(NS)) await ip('netns', 'add', ns)
  for (const [host, hostIp, daemonIp] of [
    ['a', IP.a, IP.da],
    ['b', IP.b, IP.db],
  ] as const) {
    const outer = `v${host}${tag}`
    const inner = `vd${host}${tag}`
    await ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner)
    await ip('link', 'set', outer, 'netns', NS[host])
    await ip('link', 'set', inner, 'netns', NS.d)
    await inNs(NS[host], 'ip', 'addr', 'add', `${hostIp}/24`, 'dev', outer)
    await inNs(NS[host], 'ip', 'link', 'set', outer, 'up')
    await inNs(NS[host], 'ip', 'link', 'set', 'lo', 'up')
    // Everything off the host's own link goes to d, which drops it (no forwarding).
    await inNs(NS[host], 'ip', 'route', 'add', 'default', 'via', daemonIp)
    await inNs(NS.d, 'ip', 'addr', 'add', `${daemonIp}/24`, 'dev', inner)
    await inNs(NS.d, 'ip', 'link', 'set', inner, 'up')
  }
  await inNs(NS.d, 'ip', 'link', 'set', 'lo', 'up')
  await inNs(NS.d, 'sh', '-c', 'echo 0 > /proc/sys/net/ipv4/ip_forward')
  tmp = await makeRuntimeDir('sb-ns-')
})

after(async () => {
  for (const p of peers) await p.kill()
  await daemon?.stop().catch(() => daemon?.kill())
  await removeNamespaces()
  await tmp?.cleanup()
})

/** Deleting a namespace deletes its veth ends (and so their peers). */
async function removeNamespaces(): Promise<void> {
  for (const ns of Object.values(NS)) await ip('netns', 'del', ns).catch(() => {})
}

test('peers on two hosts with no route between them talk through the daemon', async () => {
  const password = 'relay-hosts-password'
  const config = join(tmp!.path, 'daemon.json')
  await writeFile(
    config,
    JSON.stringify({
      socket: false,
      tcp: `0.0.0.0:${PORT}`,
      keyFile: join(tmp!.path, 'daemon.key'),
      users: { hosts: { password: await hashPassword(password) } },
    }),
  )
  daemon = await startPolicyDaemon(config, ['ip', 'netns', 'exec', NS.d])
  const secret = Buffer.from(generateSecret()).toString('base64url')
  const start = async (host: 'a' | 'b', name: string, daemonIp: string): Promise<PeerProcess> => {
    const runtimeDir = join(tmp!.path, `rt-${host}`)
    await mkdir(runtimeDir, { mode: 0o700 })
    const p = await PeerProcess.start(name, runtimeDir, 20_000, {
      wrap: ['ip', 'netns', 'exec', NS[host]],
      env: {
        SWITCHBOARD_TEST_DIRECTORY: `tcp://${daemonIp}:${PORT}`,
        SWITCHBOARD_TEST_DAEMON_KEY: daemon!.publicKey,
        SWITCHBOARD_TEST_LOGIN: `hosts:${password}`,
        SWITCHBOARD_TEST_HOST: IP[host],
        SWITCHBOARD_TEST_SECRET: secret,
        SWITCHBOARD_TEST_DIRECT_TIMEOUT_MS: '1000',
        SWITCHBOARD_TEST_LEASE_MS: '3000',
      },
    })
    peers.push(p)
    return p
  }
  const alpha = await start('a', 'alpha', IP.da)
  const beta = await start('b', 'beta', IP.db)

  const listed = (await alpha.ask({ cmd: 'peers' }, (l) => Array.isArray(l['peers']), 'alpha peers'))[
    'peers'
  ] as { instance: string; address: string }[]
  const betaAddress = listed.find((p) => p.instance === beta.instance)?.address
  assert.ok(
    betaAddress?.startsWith(`tcp://${IP.b}:`),
    `alpha knows beta's address on host b (${betaAddress})`,
  )
  const direct = await alpha.ask(
    { cmd: 'dial', address: betaAddress },
    (l) => typeof l['dialed'] === 'string',
    'alpha to connect to beta directly',
  )
  assert.equal(direct['errno'], 'ETIMEDOUT', 'no answer from host b: d drops the packets')

  for (const [from, to] of [
    [alpha, beta],
    [beta, alpha],
  ] as const) {
    const called = await from.ask(
      { cmd: 'call', id: `${from.name}-${to.name}`, name: to.name, method: 'who' },
      (l) => l['called'] === `${from.name}-${to.name}`,
      `${from.name} to call ${to.name}`,
      20_000,
    )
    assert.equal(
      (called['result'] as { instance: string } | undefined)?.instance,
      to.instance,
      JSON.stringify(called),
    )
    const routes = (await from.ask({ cmd: 'peers' }, (l) => Array.isArray(l['peers']), 'peers'))['peers'] as {
      instance: string
      route?: string
    }[]
    assert.equal(routes.find((p) => p.instance === to.instance)?.route, 'relay', `${from.name} → ${to.name}`)
  }
})

/**
 * One process of a benchmark cell, driven by run.ts over its stdin/stdout (lib/control.ts):
 *
 *   node agent.mjs '{"role":"server"|"client"|"sub","system":…,"transport":…,"workload":…,
 *                    "dir":…,"cell":…,"natsUrl":…}'
 *
 * It loads only its system's adapter (bench/lib/raw.ts, bench/lib/switchboard.ts or
 * bench/peers/NAME.ts), then answers commands: a server serves, marks its CPU, publishes; a
 * client opens one connection and runs a workload on it, timing itself; a subscriber counts a
 * fan-out at the far end. Agents it forks itself (the fork row) are reached through `relay`.
 * It exits when its stdin ends.
 */
import { fork } from 'node:child_process'
import {
  type Adapter,
  type AgentEnv,
  type BenchClient,
  type BenchServer,
  type Closeable,
  SAMPLE_VALUE,
  STREAM_CHUNK,
  type SystemName,
  type TransportName,
  type WorkloadName,
} from './lib/common.ts'
import { type Agent, AgentHandle, serveControl } from './lib/control.ts'
import {
  type Measurement,
  type RunParams,
  runBig,
  runEcho,
  runHandshake,
  runOneway,
  runStream,
} from './lib/drive.ts'
import { Prober, runPublisher, SubscriberCounter } from './lib/fanout.ts'
import { collectGarbage, cpuMicros, maxRssKiB, quantile, withTimeout } from './lib/util.ts'

interface AgentConfig {
  role: 'server' | 'client' | 'sub'
  system: SystemName
  transport: TransportName
  workload: WorkloadName
  dir: string
  cell: string
  natsUrl?: string
}

/** Each system's adapter module, relative to this file (.ts from source, .mjs when bundled). */
const MODULES: Record<SystemName, string> = {
  'raw-coalesced': './lib/raw.ts',
  'raw-naive': './lib/raw.ts',
  switchboard: './lib/switchboard.ts',
  'switchboard-secret': './lib/switchboard.ts',
  'switchboard-keys': './lib/switchboard.ts',
  'switchboard-tls': './lib/switchboard.ts',
  'switchboard-contract': './lib/switchboard.ts',
  'switchboard-contract-novalidate': './lib/switchboard.ts',
  zeromq: './peers/zeromq.ts',
  'node-ipc': './peers/node-ipc.ts',
  nats: './peers/nats.ts',
  grpc: './peers/grpc.ts',
  'vscode-jsonrpc': './peers/vscode-jsonrpc.ts',
  fork: './peers/fork.ts',
}

const config = JSON.parse(process.argv[2] ?? '{}') as AgentConfig
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.mjs'
const modulePath = MODULES[config.system].replace(/\.ts$/, ext)
const { adapter } = (await import(new URL(modulePath, import.meta.url).href)) as { adapter: Adapter }

const children: AgentHandle[] = []
let emit: (event: string, data?: unknown) => void = () => {}

const env: AgentEnv = {
  system: config.system,
  transport: config.transport,
  workload: config.workload,
  dir: config.dir,
  cell: config.cell,
  natsUrl: config.natsUrl,
  async forkAgent(role) {
    const child = fork(process.argv[1]!, [JSON.stringify({ ...config, role })], {
      stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
      execArgv: process.execArgv,
    })
    const index = children.length
    const agent = new AgentHandle(child, `${config.system} ${role} #${index}`)
    children.push(agent)
    agent.onEvent((name, data) => emit(`${index}:${name}`, data))
    await agent.nextEvent('up', 30_000)
    return { child, agent: agent as Agent }
  },
}

/** Runs `fn`; returns the indexes of the agents it forked (for the runner to relay to). */
async function forking<T>(fn: () => Promise<T>): Promise<{ value: T; children: number[] }> {
  const before = children.length
  const value = await fn()
  return { value, children: Array.from({ length: children.length - before }, (_, i) => before + i) }
}

const common = {
  mark: () => {
    collectGarbage()
    return { cpuUs: cpuMicros() }
  },
  stats: () => ({ maxRssKiB: maxRssKiB() }),
  relay: (a: Record<string, unknown>) => {
    const child = children[a.child as number]
    if (child === undefined) throw new Error(`no child ${String(a.child)}`)
    return child.request(a.cmd as string, a.args as object, a.timeoutMs as number)
  },
  exit: () => {
    setImmediate(() => {
      for (const c of children) c.child.stdin?.end()
      process.exit(0)
    })
  },
}

function serverRole(): Record<string, (a: Record<string, unknown>) => unknown> {
  let server: BenchServer | undefined
  const prober = new Prober()
  const need = (): BenchServer => {
    if (server === undefined) throw new Error('not serving')
    return server
  }
  return {
    serve: async () => {
      server = await adapter.serve(env)
      return { address: server.address }
    },
    probe: (a) => {
      if (a.on === true) prober.start(need(), a.size as number)
      else prober.stop()
    },
    publish: (a) => runPublisher(need(), a as unknown as RunParams),
    'spawn-subs': async (a) => {
      if (adapter.spawnSubscribers === undefined) throw new Error('subscribers are separate processes')
      return (await forking(() => adapter.spawnSubscribers!(env, need(), a.n as number))).children
    },
    close: async () => {
      prober.stop()
      await server?.close()
    },
  }
}

function clientRole(): Record<string, (a: Record<string, unknown>) => unknown> {
  let client: BenchClient | undefined
  let address = ''
  let payload = Buffer.alloc(0)
  let big = Buffer.alloc(0)
  const chunk = Buffer.alloc(env.workload === 'stream' ? STREAM_CHUNK : 0, 0xa5)
  const need = (): BenchClient => {
    if (client === undefined) throw new Error('not connected')
    return client
  }
  const measure = (p: RunParams): Promise<Measurement> => {
    if (payload.length !== p.size) payload = Buffer.alloc(p.size, 0x5a)
    switch (env.workload) {
      case 'oneway':
        return runOneway(need(), () => need().send(payload), p)
      case 'oneway-values':
        return runOneway(need(), () => need().sendValue(SAMPLE_VALUE), p)
      case 'echo':
        return runEcho(need(), payload, 1, p)
      case 'echo64':
        return runEcho(need(), payload, 64, p)
      case 'big':
        if (big.length !== p.bigBytes) big = Buffer.alloc(p.bigBytes, 0xa5)
        return runBig(need(), big)
      case 'stream':
        return runStream(need(), chunk, p.streamBytes)
      case 'handshake':
        return runHandshake(adapter, env, address, p)
      case 'fanout':
        throw new Error('fan-out runs in the server and subscriber agents')
    }
  }
  return {
    open: async (a) => {
      address = a.address as string
      const { children: forked } = await forking(async () => {
        if (env.workload !== 'handshake') client = await adapter.connect(env, address)
      })
      return forked
    },
    warmup: async (a) => {
      await measure(a as unknown as RunParams)
    },
    run: async (a) => {
      const p = a as unknown as RunParams
      collectGarbage()
      const cpu0 = cpuMicros()
      const m = await measure(p)
      const cpuUs = cpuMicros() - cpu0
      const lat =
        m.latencies === undefined || m.latencies.length === 0 ? undefined : Float64Array.from(m.latencies)
      return {
        count: m.count,
        seconds: m.seconds,
        bytes: m.bytes,
        lost: m.lost ?? null,
        p50us: lat ? quantile(lat, 0.5) * 1000 : null,
        p99us: lat ? quantile(lat, 0.99) * 1000 : null,
        cpuUs,
      }
    },
    close: async () => {
      const c = client
      client = undefined
      if (c === undefined) return
      try {
        await withTimeout(c.close(), 5000, 'the connection to close')
      } catch {
        c.destroy()
      }
    },
  }
}

function subRole(): Record<string, (a: Record<string, unknown>) => unknown> {
  let subscription: Closeable | undefined
  let probed = false
  const counter = new SubscriberCounter(() => {
    if (!probed) emit('probed')
    probed = true
  })
  return {
    subscribe: async (a) => {
      subscription = await adapter.subscribe(env, a.address as string, counter.onMessage)
    },
    arm: () => {
      collectGarbage()
      counter.arm()
    },
    settle: (a) => counter.settle(a.quietMs as number),
    close: async () => {
      await subscription?.close()
    },
  }
}

const roles = { server: serverRole, client: clientRole, sub: subRole }
emit = serveControl({ ...common, ...roles[config.role]() })
emit('up')

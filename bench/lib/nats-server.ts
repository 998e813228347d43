/**
 * The nats row's broker: Debian's `nats-server` (bench/setup.sh installs it), started by the
 * runner on 127.0.0.1 with a free port, stopped at the end (and killed with the runner).
 * max_payload is raised to 64 MiB, NATS's upper limit, so the big message fits (the default is
 * 1 MiB), and max_pending to 256 MiB so the broker can buffer it for the responder (the default,
 * 64 MiB, would cut the responder off as a slow consumer); everything else is the default.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { withTimeout } from './util.ts'

export interface Broker {
  readonly url: string
  readonly child: ChildProcess
  /** CPU time the broker has used so far, µs (from /proc; 10 ms resolution). */
  cpuMicros(): number
  stop(): Promise<void>
  /** Synchronous: for an exit handler. */
  kill(): void
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen({ host: '127.0.0.1', port: 0 }, () => {
      const addr = s.address()
      s.close(() =>
        addr !== null && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port')),
      )
    })
  })
}

function procCpuMicros(pid: number): number {
  // /proc/PID/stat: fields 14 and 15 (utime, stime) in clock ticks of 1/100 s, after "(comm)".
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}

/**
 * A shell holds nats-server and kills it when its stdin ends: when we stop it, and when the
 * runner dies, however it dies (a SIGKILLed runner cannot run its exit handler).
 */
const HOLDER = 'nats-server -c "$1" 1>&2 & echo "pid $!"; read -r _; kill "$!" 2>/dev/null; wait'

export async function startNatsServer(dir: string, timeoutMs = 10_000): Promise<Broker> {
  const port = await freePort()
  const conf = join(dir, 'nats.conf')
  // max_pending (what the broker buffers for one client) must hold a whole 64 MiB message too.
  writeFileSync(conf, `listen: 127.0.0.1:${port}\nmax_payload: 67108864\nmax_pending: 268435456\n`)
  const child = spawn('sh', ['-c', HOLDER, 'sh', conf], { stdio: ['pipe', 'pipe', 'pipe'] })
  let pid = 0
  const ready = new Promise<void>((resolve, reject) => {
    let log = ''
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (text: string) => {
      const m = /pid (\d+)/.exec(text)
      if (m !== null) pid = Number(m[1])
    })
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (text: string) => {
      if (log.length < 1e5) log += text
      if (log.includes('Server is ready') && pid > 0) resolve()
    })
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`nats-server exited (${code}): ${log.trim()}`)))
  })
  try {
    await withTimeout(ready, timeoutMs, 'nats-server to be ready')
  } catch (err) {
    child.stdin!.end()
    child.kill('SIGKILL')
    throw err
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    child,
    cpuMicros: () => procCpuMicros(pid),
    kill() {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
      child.kill('SIGKILL')
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.stdin!.end()
      try {
        await withTimeout(exited, 5000, 'nats-server to exit')
      } catch {
        child.kill('SIGKILL')
      }
    },
  }
}

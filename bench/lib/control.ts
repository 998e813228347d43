/**
 * The control channel between the runner and its agents (and between an agent and the agents it
 * forks): JSON lines on the child's stdin and stdout. Control lines start with RS (\x1e); any
 * other line a library prints on stdout is passed on to stderr.
 *
 *   parent → child   {"id":1,"cmd":"run","args":{…}}
 *   child → parent   {"id":1,"ok":true,"value":…} | {"id":1,"ok":false,"error":"…"}
 *                    {"event":"done","data":…}      (unprompted)
 *
 * The child exits when its stdin ends, so no agent outlives its parent.
 */
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import type { Readable, Writable } from 'node:stream'
import { errorText, withTimeout } from './util.ts'

const RS = '\x1e'

interface Reply {
  id?: number
  ok?: boolean
  value?: unknown
  error?: string
  event?: string
  data?: unknown
}

function readLines(input: Readable, onLine: (line: string) => void): void {
  let buffered = ''
  input.setEncoding('utf8')
  input.on('data', (text: string) => {
    buffered += text
    let nl = buffered.indexOf('\n')
    while (nl >= 0) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      onLine(line)
      nl = buffered.indexOf('\n')
    }
  })
}

/** What the runner (or a parent agent) holds for each agent. */
export interface Agent {
  readonly label: string
  request<T = unknown>(cmd: string, args?: object, timeoutMs?: number): Promise<T>
  /** The next event named `name` (buffered: one that already came is returned at once). */
  nextEvent<T = unknown>(name: string, timeoutMs: number): Promise<T>
  stop(graceMs?: number): Promise<void>
}

/** The parent's side of one child process's control channel. */
export class AgentHandle implements Agent {
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  private readonly events: { name: string; data: unknown }[] = []
  private readonly eventWaiters: { name: string; resolve: (data: unknown) => void }[] = []
  private readonly eventListeners: ((name: string, data: unknown) => void)[] = []
  private exitError: Error | undefined
  readonly exited: Promise<void>

  constructor(
    readonly child: ChildProcess,
    readonly label: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitError = new Error(`${label} exited (${signal ?? code})`)
        for (const w of this.waiting.values()) w.reject(this.exitError)
        this.waiting.clear()
        resolve()
      })
    })
    child.once('error', (err) => {
      this.exitError ??= err
    })
    readLines(child.stdout!, (line) => this.onLine(line))
  }

  private onLine(line: string): void {
    if (!line.startsWith(RS)) {
      if (line.trim() !== '') process.stderr.write(`[${this.label}] ${line}\n`)
      return
    }
    const msg = JSON.parse(line.slice(1)) as Reply
    if (msg.event !== undefined) {
      for (const l of this.eventListeners) l(msg.event, msg.data)
      const i = this.eventWaiters.findIndex((w) => w.name === msg.event)
      if (i >= 0) this.eventWaiters.splice(i, 1)[0]!.resolve(msg.data)
      else this.events.push({ name: msg.event, data: msg.data })
      return
    }
    const w = this.waiting.get(msg.id!)
    if (w === undefined) return
    this.waiting.delete(msg.id!)
    if (msg.ok) w.resolve(msg.value)
    else w.reject(new Error(`${this.label}: ${msg.error}`))
  }

  /** Every event as it arrives (in addition to nextEvent's buffer). */
  onEvent(listener: (name: string, data: unknown) => void): void {
    this.eventListeners.push(listener)
  }

  request<T = unknown>(cmd: string, args: object = {}, timeoutMs = 30_000): Promise<T> {
    if (this.exitError !== undefined) return Promise.reject(this.exitError)
    const id = this.nextId++
    const reply = new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
    })
    this.child.stdin!.write(`${RS}${JSON.stringify({ id, cmd, args })}\n`)
    return withTimeout(reply, timeoutMs, `${this.label} to answer ${cmd}`).finally(() =>
      this.waiting.delete(id),
    )
  }

  nextEvent<T = unknown>(name: string, timeoutMs: number): Promise<T> {
    const i = this.events.findIndex((e) => e.name === name)
    if (i >= 0) return Promise.resolve(this.events.splice(i, 1)[0]!.data as T)
    if (this.exitError !== undefined) return Promise.reject(this.exitError)
    const waiter = { name, resolve: (_: unknown) => {} }
    const event = new Promise<T>((resolve) => {
      waiter.resolve = resolve as (data: unknown) => void
      this.eventWaiters.push(waiter)
    })
    const exit = this.exited.then(() => {
      throw this.exitError
    })
    return withTimeout(Promise.race([event, exit]), timeoutMs, `${this.label} to report ${name}`).finally(
      () => {
        const k = this.eventWaiters.indexOf(waiter)
        if (k >= 0) this.eventWaiters.splice(k, 1)
      },
    )
  }

  /** Closes stdin (the agent exits by itself), SIGKILL if it is still there after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    const { child } = this
    if (child.exitCode !== null || child.signalCode !== null) return
    child.stdin?.end()
    try {
      await withTimeout(this.exited, graceMs, `${this.label} to exit`)
    } catch {
      child.kill('SIGKILL')
      await once(child, 'exit').catch(() => {})
    }
  }
}

/** An agent reached through another agent's `relay` command (the fork row's children). */
export class RelayedAgent implements Agent {
  constructor(
    private readonly via: Agent & { onEvent?(l: (name: string, data: unknown) => void): void },
    private readonly child: number,
    readonly label: string,
  ) {}

  request<T = unknown>(cmd: string, args: object = {}, timeoutMs = 30_000): Promise<T> {
    return this.via.request<T>('relay', { child: this.child, cmd, args, timeoutMs }, timeoutMs + 1000)
  }

  nextEvent<T = unknown>(name: string, timeoutMs: number): Promise<T> {
    return this.via.nextEvent<T>(`${this.child}:${name}`, timeoutMs)
  }

  async stop(): Promise<void> {
    await this.request('exit', {}, 5000).catch(() => {})
  }
}

type Handler = (args: Record<string, unknown>) => unknown

/**
 * The child's side: runs `handlers[cmd]` for each command (one at a time, in order) and writes
 * its reply. Returns `emit` for unprompted events. Exits the process when stdin ends.
 */
export function serveControl(
  handlers: Record<string, Handler>,
  input: Readable = process.stdin,
  output: Writable = process.stdout,
): (event: string, data?: unknown) => void {
  const write = (msg: Reply): void => {
    output.write(`${RS}${JSON.stringify(msg)}\n`)
  }
  let queue = Promise.resolve()
  readLines(input, (line) => {
    if (!line.startsWith(RS)) return
    const { id, cmd, args } = JSON.parse(line.slice(1)) as {
      id: number
      cmd: string
      args: Record<string, unknown>
    }
    queue = queue.then(async () => {
      const handler = handlers[cmd]
      try {
        if (handler === undefined) throw new Error(`unknown command ${cmd}`)
        write({ id, ok: true, value: (await handler(args)) ?? null })
      } catch (err) {
        write({ id, ok: false, error: errorText(err) })
      }
    })
  })
  input.on('end', () => process.exit(0))
  input.on('close', () => process.exit(0))
  return (event, data) => write({ event, data: data ?? null })
}

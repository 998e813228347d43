/**
 * Drives test/fixtures/programs/named-peer.ts: a joined peer in its own process, commanded with
 * JSON lines on stdin; its JSON lines on stdout are kept so a test can wait for one.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { withTimeout } from '../helpers/wait.ts'

const program = fileURLToPath(new URL('../fixtures/programs/named-peer.ts', import.meta.url))

export interface PeerLine {
  [key: string]: unknown
}

export class PeerProcess {
  readonly lines: PeerLine[] = []
  instance = ''
  /** The uid the child reported it runs as. */
  uid: number | undefined
  private waiters: { match(l: PeerLine): boolean; resolve(l: PeerLine): void }[] = []
  private stderr = ''
  /** Settles when the child exits: one listener, however many waits race it. */
  private readonly exited: Promise<void>

  private constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    this.exited = once(proc, 'exit').then(() => {})
    proc.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString()
    })
    createInterface({ input: proc.stdout! }).on('line', (text) => {
      if (text.startsWith('ready ')) {
        const ready = JSON.parse(text.slice(6)) as { instance: string; uid?: number }
        this.instance = ready.instance
        this.uid = ready.uid
        return this.take({ ready: true })
      }
      let line: PeerLine
      try {
        line = JSON.parse(text) as PeerLine
      } catch {
        return
      }
      this.take(line)
    })
  }

  /**
   * `more`: another fixture program (same stdin/stdout protocol), its extra environment, the OS
   * user to run as (`uid`, `gid`), and a command to run it under (`wrap`: `ip netns exec NS`).
   */
  static async start(
    name: string,
    runtimeDir: string,
    timeoutMs = 15_000,
    more: {
      program?: string
      env?: Record<string, string>
      uid?: number
      gid?: number
      wrap?: string[]
    } = {},
  ): Promise<PeerProcess> {
    const argv = [process.execPath, '--import', 'tsx', more.program ?? program, name]
    const [command, ...args] = [...(more.wrap ?? []), ...argv]
    const proc = spawn(command!, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, SWITCHBOARD_RUNTIME_DIR: runtimeDir, ...more.env },
      ...(more.uid === undefined ? {} : { uid: more.uid }),
      ...(more.gid === undefined ? {} : { gid: more.gid }),
    })
    const p = new PeerProcess(name, proc)
    await p.next((l) => l['ready'] === true, `${name} to join`, timeoutMs)
    return p
  }

  private take(line: PeerLine): void {
    this.lines.push(line)
    for (const w of [...this.waiters]) {
      if (w.match(line)) {
        this.waiters.splice(this.waiters.indexOf(w), 1)
        w.resolve(line)
      }
    }
  }

  /** The next line (from now) that matches; an error line or the process exiting fails it. */
  next(match: (l: PeerLine) => boolean, what: string, timeoutMs = 15_000): Promise<PeerLine> {
    const exited = this.exited.then(() => {
      throw new Error(`${this.name} exited while waiting for ${what}: ${this.stderr}`)
    })
    exited.catch(() => {})
    const got = new Promise<PeerLine>((resolve) => {
      this.waiters.push({
        match: (l) => {
          if (typeof l['error'] === 'string') throw new Error(`${this.name}: ${l['error']} ${l['message']}`)
          return match(l)
        },
        resolve,
      })
    })
    return withTimeout(Promise.race([got, exited]), timeoutMs, `${this.name}: ${what}`)
  }

  command(c: Record<string, unknown>): void {
    this.proc.stdin!.write(`${JSON.stringify(c)}\n`)
  }

  /** Sends a command and waits for the line answering it. */
  ask(
    c: Record<string, unknown>,
    match: (l: PeerLine) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<PeerLine> {
    const answer = this.next(match, what, timeoutMs)
    this.command(c)
    return answer
  }

  /** kill -9. */
  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return
    const exited = once(this.proc, 'exit')
    this.proc.kill('SIGKILL')
    await exited
  }

  /** A clean leave: stdin closes, the peer leaves and exits. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return
    const exited = once(this.proc, 'exit')
    this.proc.stdin!.end()
    await withTimeout(exited, 10_000, `${this.name} to leave`).catch(() => this.kill())
  }
}

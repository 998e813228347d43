/**
 * Shared pieces of the security tests: a secure-server fixture in its own process whose stdout
 * lines (`error CODE`, `connection MODE HASH`) are collected, and waiting for one of them.
 */
import { createInterface } from 'node:readline'
import { type Child, startProgram } from '../helpers/child.ts'
import { waitFor } from '../helpers/wait.ts'

export const SECURE_SERVER = 'test/fixtures/programs/secure-server.ts'

export interface SecureServer {
  child: Child
  address: string
  port: number
  /** Every line the server printed after `ready`. */
  lines: string[]
  /** What the server wrote to stderr (shown when a test fails). */
  stderr(): string
  /** Waits until a line starting with `prefix` appeared (counting from `from`), returns it. */
  line(prefix: string, from?: number): Promise<string>
  stop(): Promise<void>
}

export async function startSecureServer(address: string, spec: object): Promise<SecureServer> {
  const child = await startProgram(SECURE_SERVER, [address, JSON.stringify(spec)])
  const lines: string[] = []
  let stderr = ''
  child.proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  createInterface({ input: child.proc.stdout! }).on('line', (l) => lines.push(l))
  const port = Number(/:(\d+)$/.exec(child.ready)?.[1] ?? 0)
  return {
    child,
    address: child.ready,
    port,
    lines,
    stderr: () => stderr,
    async line(prefix, from = 0) {
      let found: string | undefined
      await waitFor(
        () => {
          found = lines.slice(from).find((l) => l.startsWith(prefix))
          return found !== undefined
        },
        { what: `the server to print "${prefix}"`, describe: () => JSON.stringify(lines.slice(-5)) },
      )
      return found!
    },
    async stop() {
      child.proc.stdin?.end()
      await child.kill()
    },
  }
}

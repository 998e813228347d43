/**
 * Killing a child process the hard way (SIGKILL: no cleanup, no GOAWAY), at a chosen moment,
 * to test what survives a crash mid-stream.
 */
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'

/** Sends SIGKILL and resolves once the process has exited. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

/**
 * Kills `child` with SIGKILL as soon as it prints a line matching `pattern` on stdout (for
 * example the line a handler prints when it starts): resolves with that line once it exited.
 */
export function killHardWhen(child: ChildProcess, pattern: RegExp): Promise<string> {
  const out = child.stdout
  if (out === null) return Promise.reject(new Error('killHardWhen needs the child stdout piped'))
  return new Promise((resolve, reject) => {
    let buffered = ''
    const stop = (): void => {
      out.off('data', onData)
      child.off('exit', onExit)
    }
    const onExit = (): void => {
      stop()
      reject(new Error(`process exited before printing ${pattern}`))
    }
    // A plain 'data' listener (not readline, whose close() pauses the stream for other readers).
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      const line = lines.find((l) => pattern.test(l))
      if (line === undefined) return
      stop()
      killHard(child).then(() => resolve(line), reject)
    }
    out.on('data', onData)
    child.once('exit', onExit)
  })
}

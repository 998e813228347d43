/**
 * The event log of a long-running command (serve): one record per event, either as a human line
 * on stderr or, with --log FILE, as JSON lines appended to a file:
 *
 *   {"time":"2026-11-22T00:31:02.118Z","event":"connect","id":1,"connections":1}
 */
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import type { Writable } from 'node:stream'
import { finished } from 'node:stream/promises'

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>

export interface EventLog {
  /** Records `event` with its fields (undefined fields are left out). */
  write(event: string, fields?: LogFields): void
  /** Flushes and releases the sink (the file); the log takes no more events. */
  close(): Promise<void>
}

/** Human lines: `2026-11-22T00:31:02.118Z connect id=1 connections=1`. */
export function humanLog(out: Writable, now: () => Date = () => new Date()): EventLog {
  return {
    write(event, fields = {}) {
      const parts = Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`)
      out.write(`${now().toISOString()} ${[event, ...parts].join(' ')}\n`)
    },
    async close() {},
  }
}

/**
 * JSON lines appended to `path` (created if missing). Resolves once the file is open, so a bad
 * path fails before the command starts its work.
 */
export async function jsonLinesLog(path: string, now: () => Date = () => new Date()): Promise<EventLog> {
  const file = createWriteStream(path, { flags: 'a' })
  let failure: Error | undefined
  file.on('error', (err) => {
    failure ??= err
  })
  await once(file, 'open') // rejects with the open error (ENOENT, EACCES, EISDIR)
  return {
    write(event, fields = {}) {
      if (failure !== undefined || file.writableEnded) return
      file.write(`${JSON.stringify({ time: now().toISOString(), event, ...fields })}\n`)
    },
    async close() {
      file.end()
      await finished(file).catch((err: Error) => {
        failure ??= err
      })
      if (failure !== undefined) throw failure
    },
  }
}

/**
 * A CliIo for driving `run(argv, io)` in-process: stdout and stderr are captured as text, stdin
 * is whatever the test gives, and `stop()` plays the part of SIGTERM.
 */
import { EventEmitter } from 'node:events'
import { PassThrough, type Readable, Writable } from 'node:stream'
import type { CliIo } from '../../src/cli/io.ts'
import { waitForEvent } from '../helpers/wait.ts'

export interface CapturedIo extends CliIo {
  /** Everything written to stdout so far. */
  readonly out: () => string
  /** Everything written to stderr so far. */
  readonly err: () => string
  /** Aborts io.shutdown, as main.ts does on SIGINT/SIGTERM. */
  stop(): void
  /** Resolves with the first stdout line starting with `prefix` (already written or still to come). */
  lineStartingWith(prefix: string, what: string): Promise<string>
}

export interface CaptureOptions {
  stdin?: Readable
  env?: Record<string, string | undefined>
  isTTY?: boolean
}

class Capture extends Writable {
  text = ''
  readonly lines = new EventEmitter()

  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8')
    this.lines.emit('written')
    done()
  }
}

export function captureIo(options: CaptureOptions = {}): CapturedIo {
  const stdout = new Capture()
  const stderr = new Capture()
  const shutdown = new AbortController()
  const findLine = (prefix: string): string | undefined =>
    stdout.text.split('\n').find((line, i, all) => i < all.length - 1 && line.startsWith(prefix))
  return {
    stdout,
    stderr,
    stdin: options.stdin ?? new PassThrough().end(),
    env: options.env ?? {},
    isTTY: options.isTTY ?? false,
    shutdown: shutdown.signal,
    out: () => stdout.text,
    err: () => stderr.text,
    stop: () => shutdown.abort(),
    async lineStartingWith(prefix, what) {
      for (;;) {
        const line = findLine(prefix)
        if (line !== undefined) return line
        await waitForEvent(stdout.lines, 'written', { what })
      }
    },
  }
}

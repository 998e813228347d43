#!/usr/bin/env node
/**
 * The `switchboard` executable: runs the CLI with the real process streams and turns SIGINT and
 * SIGTERM into a graceful stop (a second signal exits at once).
 */
import { run } from './run.ts'

const shutdown = new AbortController()
const onSignal = (signal: NodeJS.Signals): void => {
  if (shutdown.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143)
  shutdown.abort()
}
// A reader that stops early (`switchboard call … | head`) is not our failure: end quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err
  process.exit(process.exitCode ?? 0)
})
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  isTTY: process.stderr.isTTY === true,
  shutdown: shutdown.signal,
})

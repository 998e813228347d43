/**
 * The built-in methods of `switchboard serve`: enough to check that a service is reachable,
 * to see what it is doing, and to measure an upload.
 *
 *   echo  returns its argument
 *   info  { pid, uptimeMs, connections, activeCalls } (activeCalls counts this info call too)
 *   sink  reads a request stream to its end and returns { bytes, sha256 }
 */
import { createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { sbError } from '../errors.ts'
import type { Server } from '../link/server.ts'

export interface ServiceInfo {
  pid: number
  uptimeMs: number
  connections: number
  /** Calls being handled on every connection, this one included. */
  activeCalls: number
}

export interface SinkResult {
  bytes: number
  sha256: string
}

export function registerBuiltins(server: Server): void {
  const started = performance.now()
  server.handle('echo', (data) => data)
  server.handle<unknown, ServiceInfo>('info', () => ({
    pid: process.pid,
    uptimeMs: Math.round(performance.now() - started),
    connections: server.connections.size,
    activeCalls: [...server.connections].reduce((n, c) => n + c.getStats().activeHandlers, 0),
  }))
  server.handle<unknown, SinkResult>('sink', async (data, ctx) => {
    const hash = createHash('sha256')
    let bytes = 0
    if (ctx.body !== undefined) {
      for await (const chunk of ctx.body) {
        hash.update(chunk)
        bytes += chunk.length
      }
    } else if (data instanceof Uint8Array) {
      hash.update(data)
      bytes = data.length
    } else {
      throw sbError('INVALID_ARGUMENT', 'sink takes a byte stream (call it with --stream FILE or -)')
    }
    return { bytes, sha256: hash.digest('hex') }
  })
}

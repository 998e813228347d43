/**
 * `switchboard serve ADDRESS [--log FILE] [--insecure] [security and TLS files]`: runs a service with the built-in
 * methods (service.ts), logs connections, prints `listening <address>` once it accepts, and on
 * shutdown (SIGINT/SIGTERM, via io.shutdown) closes gracefully and exits 0.
 */

import { errnoCode } from '../internal/errno.ts'
import { listen } from '../link/api.ts'
import type { RpcConnection } from '../rpc/connection.ts'
import type { Command } from './command.ts'
import { addressDescription, checkAddress, endpointOptionsFrom, securityOptions } from './endpoint.ts'
import { ExitCode, writeLine } from './io.ts'
import { type EventLog, humanLog, jsonLinesLog } from './log.ts'
import { registerBuiltins } from './service.ts'
import { stopRequested } from './stop.ts'
import { UsageError } from './usage-error.ts'

export const serve: Command = {
  name: 'serve',
  summary: 'run a service with the built-in methods echo, info and sink',
  details: [
    'methods:',
    '  echo  returns its argument',
    '  info  { pid, uptimeMs, connections, activeCalls }',
    '  sink  reads a request stream to its end, returns { bytes, sha256 }',
    '',
    'Prints "listening <address>" on stdout once it accepts connections; stops gracefully on',
    'SIGINT or SIGTERM (in-flight calls finish) and exits 0.',
  ].join('\n'),
  positionals: [{ name: 'ADDRESS', description: `where to listen: ${addressDescription}` }],
  options: {
    log: {
      type: 'string',
      valueName: 'FILE',
      description: 'append events to FILE as JSON lines (default: human lines on stderr)',
    },
    ...securityOptions,
  },
  async run(args, io) {
    const address = args.positionals['ADDRESS']!
    checkAddress(address, 'serve')
    const logPath = args.options['log']
    const log = typeof logPath === 'string' ? await openLog(logPath) : humanLog(io.stderr)
    try {
      const server = await listen(address, endpointOptionsFrom(io, args.options, 'listen'))
      registerBuiltins(server)
      const ids = new WeakMap<RpcConnection, number>()
      let nextId = 1
      server.on('connection', (conn: RpcConnection) => {
        const id = nextId++
        ids.set(conn, id)
        log.write('connect', { id, connections: server.connections.size })
      })
      server.on('disconnect', (conn: RpcConnection) => {
        log.write('disconnect', {
          id: ids.get(conn),
          connections: server.connections.size,
          reason: conn.closeError?.code,
        })
      })
      server.on('error', (err: { code: string; message: string }) => {
        log.write('error', { code: err.code, message: err.message })
      })
      log.write('listening', { address: server.address, pid: process.pid })
      writeLine(io.stdout, `listening ${server.address}`)
      await stopRequested(io)
      log.write('stopping', { connections: server.connections.size })
      await server.close()
      log.write('stopped')
    } finally {
      await log.close()
    }
    return ExitCode.ok
  },
}

async function openLog(path: string): Promise<EventLog> {
  try {
    return await jsonLinesLog(path)
  } catch (err) {
    throw new UsageError(`cannot open --log file '${path}' (${errnoCode(err)})`, 'serve')
  }
}

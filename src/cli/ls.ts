/**
 * `switchboard ls [--watch] [--json]`: the peers in the local directory (name, instance, pid,
 * user, address, topics, connected = its socket accepts connections now). With --watch, then
 * prints each join, leave and change as it happens until stopped.
 */
import type { DirectoryChange, PeerEntry } from '../discovery/types.ts'
import { listPeers, reachable, watchPeers } from '../peer/join.ts'
import type { Command } from './command.ts'
import { directoryOptions, directoryOptionsFrom, endpointOptions } from './endpoint.ts'
import { ExitCode, writeLine } from './io.ts'
import { toJsonLine } from './json-output.ts'
import { stopRequested } from './stop.ts'

interface Row extends PeerEntry {
  connected: boolean
}

export const ls: Command = {
  name: 'ls',
  summary: 'list the peers that joined on this machine (the local directory, or a daemon with --directory)',
  details: [
    'Columns: NAME INSTANCE PID USER ADDRESS TOPICS CONNECTED (its socket accepts connections now).',
    'With --json: one JSON array; with --watch --json: then one JSON object per change.',
  ].join('\n'),
  positionals: [],
  options: {
    watch: { type: 'boolean', description: 'then print joins, leaves and changes as they happen' },
    json: { type: 'boolean', description: 'print JSON instead of a table' },
    ...directoryOptions,
  },
  async run(args, io) {
    const options = { ...endpointOptions(io, false), ...directoryOptionsFrom(args.options, io.env) }
    const json = args.options['json'] === true
    const watching = args.options['watch'] === true
    // Watch first, then list: a change between the two is printed rather than missed.
    const buffered: DirectoryChange[] = []
    let print: (c: DirectoryChange) => void = (c) => buffered.push(c)
    const stop = watching ? await watchPeers(options, (c) => print(c)) : undefined
    try {
      const entries = await listPeers(options)
      const rows: Row[] = await Promise.all(
        entries.map(async (e) => ({ ...e, connected: await reachable(e.address) })),
      )
      if (json) writeLine(io.stdout, toJsonLine(rows))
      else for (const line of table(rows)) writeLine(io.stdout, line)
      if (stop === undefined) return ExitCode.ok
      print = (c) =>
        writeLine(
          io.stdout,
          json ? toJsonLine({ type: c.type, peer: c.entry }) : `${c.type} ${describe(c.entry)}`,
        )
      for (const c of buffered.splice(0)) print(c)
      await stopRequested(io)
      return ExitCode.ok
    } finally {
      stop?.()
    }
  },
}

function describe(e: PeerEntry): string {
  return `${e.name} ${e.instance} pid ${e.pid} ${e.address}`
}

function table(rows: Row[]): string[] {
  const header = ['NAME', 'INSTANCE', 'PID', 'USER', 'ADDRESS', 'TOPICS', 'CONNECTED']
  const cells = rows.map((r) => [
    r.name,
    r.instance,
    String(r.pid),
    r.user,
    r.address,
    r.topics.join(',') || '-',
    r.connected ? 'yes' : 'no',
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  return [header, ...cells].map((c) =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  )
}

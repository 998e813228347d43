/**
 * `switchboard ls [--watch] [--json]`: the peers in the local directory (name, instance, pid,
 * user, address, topics, connected = its socket accepts connections now). With --watch, then
 * prints each join, leave and change as it happens until stopped.
 *
 * With a daemon (`--directory`) it adds ROUTE: how a peer joined here, as this user on this
 * host, would reach each one: `direct` when its socket accepts our connect, else `relay`
 * (through the daemon). ls itself opens no session to the peers, so this is the route a link
 * would take, found with the same connect a link tries first; whether the daemon's policy then
 * lets the relay through is decided only when a peer asks.
 */
import { isDaemonAddress } from '../discovery/daemon-address.ts'
import type { DirectoryChange, PeerEntry } from '../discovery/types.ts'
import { connects, listPeers, reachable, watchPeers } from '../peer/join.ts'
import type { Command } from './command.ts'
import { directoryOptions, directoryOptionsFrom, endpointOptions } from './endpoint.ts'
import { ExitCode, writeLine } from './io.ts'
import { toJsonLine } from './json-output.ts'
import { stopRequested } from './stop.ts'

interface Row extends PeerEntry {
  connected: boolean
  /** Through a daemon only: 'direct' when we can connect to its socket, else 'relay'. */
  route?: 'direct' | 'relay'
}

export const ls: Command = {
  name: 'ls',
  summary: 'list the peers that joined on this machine (the local directory, or a daemon with --directory)',
  details: [
    'Columns: NAME INSTANCE PID USER ADDRESS TOPICS CONNECTED (its socket accepts connections now).',
    'With --directory also ROUTE: direct (its socket accepts our connect) or relay (a peer here',
    'would reach it through the daemon).',
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
      const viaDaemon = isDaemonAddress(options.directory)
      const rows: Row[] = await Promise.all(
        entries.map(async (e) => {
          if (!viaDaemon) return { ...e, connected: await reachable(e.address) }
          const direct = await connects(e.address)
          return { ...e, connected: direct, route: direct ? 'direct' : 'relay' }
        }),
      )
      if (json) writeLine(io.stdout, toJsonLine(rows))
      else for (const line of table(rows, viaDaemon)) writeLine(io.stdout, line)
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

function table(rows: Row[], withRoute: boolean): string[] {
  const header = ['NAME', 'INSTANCE', 'PID', 'USER', 'ADDRESS', 'TOPICS', 'CONNECTED']
  if (withRoute) header.push('ROUTE')
  const cells = rows.map((r) => {
    const row = [
      r.name,
      r.instance,
      String(r.pid),
      r.user,
      r.address,
      r.topics.join(',') || '-',
      r.connected ? 'yes' : 'no',
    ]
    if (withRoute) row.push(r.route ?? '-')
    return row
  })
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  return [header, ...cells].map((c) =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  )
}

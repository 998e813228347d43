/**
 * Where a joining peer listens: by default a unix socket in the owner-only runtime directory,
 * named after its instance; or TCP on a chosen IP, on the first free port of an allowed list or
 * range (so a firewall can let exactly those ports through).
 */
import { join } from 'node:path'
import { isSwitchboardError, sbError } from '../errors.ts'
import { listen } from '../link/api.ts'
import type { ListenOptions } from '../link/options.ts'
import type { Server } from '../link/server.ts'
import { formatHost } from '../transport/address.ts'
import type { AllowedPorts } from './options.ts'

/** Most ports tried from one range, so a huge range cannot stall a join. */
const MAX_PORTS_TRIED = 1024

export function portsOf(allowed: AllowedPorts | undefined): number[] {
  if (allowed === undefined) return [0]
  const ports = Array.isArray(allowed) ? [...allowed] : rangeOf(allowed as { from: number; to: number })
  for (const p of ports) {
    if (!Number.isInteger(p) || p < 1 || p > 65535)
      throw sbError('INVALID_ARGUMENT', `allowedPorts: ${p} is not a port (1–65535)`)
  }
  if (ports.length === 0) throw sbError('INVALID_ARGUMENT', 'allowedPorts is empty')
  return ports
}

function rangeOf({ from, to }: { from: number; to: number }): number[] {
  if (!Number.isInteger(from) || !Number.isInteger(to) || from > to)
    throw sbError('INVALID_ARGUMENT', `allowedPorts: ${from}–${to} is not a range of ports`)
  const out: number[] = []
  for (let p = from; p <= to && out.length < MAX_PORTS_TRIED; p++) out.push(p)
  return out
}

/** Listens where the options say; `runtimeDir` is already resolved and owner-only. */
export async function listenForPeer(
  instance: string,
  runtimeDir: string,
  options: ListenOptions & { host?: string; allowedPorts?: AllowedPorts },
): Promise<Server> {
  if (options.host === undefined) {
    if (options.allowedPorts !== undefined)
      throw sbError('INVALID_ARGUMENT', 'allowedPorts needs host (the IP to register)')
    return listen(`unix:${join(runtimeDir, `peer-${instance}.sock`)}`, options)
  }
  const ports = portsOf(options.allowedPorts)
  for (const port of ports) {
    try {
      return await listen(`tcp://${formatHost(options.host)}:${port}`, options)
    } catch (err) {
      if (isSwitchboardError(err) && err.code === 'ADDRESS_IN_USE') continue
      throw err
    }
  }
  throw sbError(
    'NO_PORT_AVAILABLE',
    `every allowed port on ${options.host} is taken (${ports.length} tried: ${ports.slice(0, 8).join(', ')}${ports.length > 8 ? ', …' : ''})`,
  )
}

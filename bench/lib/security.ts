/**
 * Key material for the secure switchboard rows, written by run.ts into the run's private temp
 * directory before any agent starts; servers and clients read it from there by name.
 *
 *   bench.secret             a 32-byte shared secret (0600), for switchboard-secret
 *   noise-{server,client}.key  X25519 key pairs (and their .pub), for switchboard-keys
 *   ca.crt, server.*         the committed test CA and server certificate (test/fixtures/tls), for switchboard-tls
 */
import { copyFileSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { ConnectOptions, ListenOptions } from '../../src/index.ts'
import { keygenKeyPair, keygenSecret } from '../../src/session/key-files.ts'
import { testCerts } from '../../test/helpers/certs.ts'
import type { AgentEnv, SwitchboardSystem, SystemName } from './common.ts'

export function prepareSecurityMaterial(dir: string, systems: readonly SystemName[]): void {
  if (systems.includes('switchboard-secret')) keygenSecret({ out: join(dir, 'bench.secret') })
  if (systems.includes('switchboard-keys')) {
    keygenKeyPair({ out: join(dir, 'noise-server.key') })
    keygenKeyPair({ out: join(dir, 'noise-client.key') })
  }
  if (systems.includes('switchboard-tls')) {
    for (const file of Object.values(testCerts)) copyFileSync(file, join(dir, basename(file)))
  }
}

type Cell = Pick<AgentEnv, 'transport' | 'cell'>

/** The listen() address and options of a switchboard row's server. */
export function serverEndpoint(
  system: SwitchboardSystem,
  dir: string,
  cell: Cell,
): { address: string; options: ListenOptions } {
  const address =
    system === 'switchboard-tls'
      ? 'tls://127.0.0.1:0'
      : cell.transport === 'tcp'
        ? 'tcp://127.0.0.1:0'
        : `unix:${join(dir, `${cell.cell}.sock`)}`
  return { address, options: { runtimeDir: dir, ...securityOptions(system, dir, cell, 'server') } }
}

/** The connect() options of a switchboard row's client. */
export function clientOptions(system: SwitchboardSystem, dir: string, cell: Cell): ConnectOptions {
  return { runtimeDir: dir, ...securityOptions(system, dir, cell, 'client') }
}

function securityOptions(
  system: SwitchboardSystem,
  dir: string,
  cell: Cell,
  side: 'server' | 'client',
): ConnectOptions {
  switch (system) {
    case 'switchboard':
    case 'switchboard-contract':
    case 'switchboard-contract-novalidate':
      return { insecure: cell.transport === 'tcp' }
    case 'switchboard-secret':
      return { secretFile: join(dir, 'bench.secret') }
    case 'switchboard-keys': {
      const [own, other] = side === 'server' ? ['server', 'client'] : ['client', 'server']
      return {
        keyFile: join(dir, `noise-${own}.key`),
        allow: [readText(join(dir, `noise-${other}.key.pub`)).trim()],
      }
    }
    case 'switchboard-tls':
      return side === 'server'
        ? { tls: { cert: readText(join(dir, 'server.crt')), key: readText(join(dir, 'server.key')) } }
        : { tls: { ca: readText(join(dir, 'ca.crt')) } }
  }
}

function readText(path: string): string {
  return readFileSync(path, 'utf8')
}

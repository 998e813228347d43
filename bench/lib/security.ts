/**
 * Key material for the secure switchboard rows, written by run.ts into the run's private temp
 * directory before any server starts; server and client read it from there by name.
 *
 *   bench.secret          a 32-byte shared secret (0600), for switchboard-secret
 *   ca.crt, server.*      a test CA and a server certificate for 127.0.0.1, for switchboard-tls
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ConnectOptions, ListenOptions } from '../../src/index.ts'
import { keygenSecret } from '../../src/session/key-files.ts'
import { makeTestCerts } from '../../test/helpers/certs.ts'
import type { SwitchboardSystem, SystemName } from './common.ts'

export function prepareSecurityMaterial(dir: string, systems: readonly SystemName[]): void {
  if (systems.includes('switchboard-secret')) keygenSecret({ out: join(dir, 'bench.secret') })
  if (systems.includes('switchboard-tls')) makeTestCerts(dir)
}

/** The listen() address and options of a switchboard system's bench server. */
export function serverEndpoint(
  system: SwitchboardSystem,
  dir: string,
  tcp: boolean,
): { address: string; options: ListenOptions } {
  const address =
    system === 'switchboard-tls'
      ? 'tls://127.0.0.1:0'
      : tcp
        ? 'tcp://127.0.0.1:0'
        : `unix:${join(dir, `${system}.sock`)}`
  return { address, options: { runtimeDir: dir, ...securityOptions(system, dir, tcp, 'server') } }
}

/** The connect() options of a switchboard system's bench client. */
export function clientOptions(system: SwitchboardSystem, dir: string, tcp: boolean): ConnectOptions {
  return { runtimeDir: dir, ...securityOptions(system, dir, tcp, 'client') }
}

function securityOptions(
  system: SwitchboardSystem,
  dir: string,
  tcp: boolean,
  side: 'server' | 'client',
): ConnectOptions {
  switch (system) {
    case 'switchboard':
      return { insecure: tcp }
    case 'switchboard-secret':
      return { secretFile: join(dir, 'bench.secret') }
    case 'switchboard-tls': {
      const ca = join(dir, 'ca.crt')
      return side === 'server'
        ? { tls: { cert: readText(join(dir, 'server.crt')), key: readText(join(dir, 'server.key')) } }
        : { tls: { ca: readText(ca) } }
    }
  }
}

function readText(path: string): string {
  return readFileSync(path, 'utf8')
}

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { connect } from '../../src/link/api.ts'
import { dialRelayed, relayAcceptHandler } from '../../src/peer/relay-ends.ts'
import { RELAY_ACCEPT_METHOD } from '../../src/peer/relay-header.ts'
import { memoryPair } from '../../src/testing/memory-pair.ts'
import { dial } from '../../src/transport/dial.ts'
import { listen } from '../../src/transport/listen.ts'
import type { TlsOptions, Transport, TransportOptions } from '../../src/transport/types.ts'
import { testCerts as certs } from '../helpers/certs.ts'
import { REGISTER_METHOD, startHub } from '../helpers/relay-hub.ts'
import { runTransportConformance, type TransportPair } from './transport.conformance.ts'

let runtimeDir = ''
let tlsOptions: TlsOptions = {}
before(async () => {
  runtimeDir = await mkdtemp(join(tmpdir(), 'sb-conf-'))
  tlsOptions = {
    cert: readFileSync(certs.serverCertFile),
    key: readFileSync(certs.serverKeyFile),
    ca: readFileSync(certs.caFile),
  }
})
after(async () => {
  await rm(runtimeDir, { recursive: true, force: true })
})

let serial = 0

/** Listens on `address`, dials the listener's resolved address, returns both ends unbound. */
async function pairOver(address: () => string, options: () => TransportOptions): Promise<TransportPair> {
  let accept!: (t: Transport) => void
  const accepted = new Promise<Transport>((resolve) => {
    accept = resolve
  })
  const listener = await listen(address(), options(), (t) => accept(t))
  const a = await dial(listener.address, options())
  const b = await accepted
  return {
    a,
    b,
    async close() {
      a.abort()
      b.abort()
      await listener.close()
    },
  }
}

const local = () => ({ runtimeDir })
const insecure = () => ({ runtimeDir, insecure: true })

runTransportConformance('unix (explicit path)', () =>
  pairOver(() => `unix:${runtimeDir}/u${++serial}.sock`, local),
)
runTransportConformance('unix (name in the runtime dir)', () => pairOver(() => `svc-${++serial}`, local))
runTransportConformance('unix (150-character name, hashed path)', () =>
  pairOver(() => `${'n'.repeat(146)}${String(++serial).padStart(4, '0')}`, local),
)
runTransportConformance('pipe (a runtime-dir socket on Linux)', () =>
  pairOver(() => `pipe:p${++serial}`, local),
)
runTransportConformance('tcp4', () => pairOver(() => 'tcp4://127.0.0.1:0', insecure))
runTransportConformance('tcp6', () => pairOver(() => 'tcp6://[::1]:0', insecure))
runTransportConformance('tls (node:tls over TCP)', () =>
  pairOver(
    () => 'tls://127.0.0.1:0',
    () => ({ runtimeDir, tls: tlsOptions }),
  ),
)

// The in-memory pair users' tests run sessions over (switchboard/testing) keeps the same contract.
runTransportConformance('memoryPair (switchboard/testing)', async () => {
  const [a, b] = memoryPair()
  return {
    a,
    b,
    async close() {
      a.abort()
      b.abort()
    },
  }
})

/**
 * A relayed pair over real switchboard connections: a hub server on a unix socket splices the
 * dialer's `daemon.relay` call to a `relay.accept` call on the target's own link to it.
 */
async function relayedPair(): Promise<TransportPair> {
  const hub = await startHub(`unix:${runtimeDir}/hub${++serial}.sock`, { runtimeDir })
  let accept!: (t: Transport) => void
  const accepted = new Promise<Transport>((resolve) => {
    accept = resolve
  })
  const target = await connect(hub.address, {
    runtimeDir,
    waitForReady: true,
    handlers: { [RELAY_ACCEPT_METHOD]: relayAcceptHandler(accept) },
  })
  await target.request(REGISTER_METHOD, { instance: 'target' })
  const dialer = await connect(hub.address, { runtimeDir, waitForReady: true })
  const a = await dialRelayed(dialer, 'target')
  const b = await accepted
  return {
    a,
    b,
    async close() {
      a.abort()
      b.abort()
      dialer.abort()
      target.abort()
      await hub.close()
    },
  }
}

runTransportConformance('relayed (one switchboard call each way, spliced by a hub)', relayedPair)

describe('transport specifics', () => {
  it('TCP transports report the remote IP; unix ones do not', async () => {
    const tcp = await pairOver(() => 'tcp4://127.0.0.1:0', insecure)
    assert.equal(tcp.a.remoteAddress, '127.0.0.1')
    assert.equal(tcp.b.remoteAddress, '127.0.0.1')
    assert.match(tcp.a.remote, /^tcp4:\/\/127\.0\.0\.1:\d+$/)
    await tcp.close()
    const v6 = await pairOver(() => 'tcp6://[::1]:0', insecure)
    assert.match(v6.b.remote, /^tcp6:\/\/\[::1\]:\d+$/)
    await v6.close()
    const tls = await pairOver(
      () => 'tls://127.0.0.1:0',
      () => ({ runtimeDir, tls: tlsOptions }),
    )
    assert.equal(tls.b.remoteAddress, '127.0.0.1')
    assert.match(tls.a.remote, /^tls:\/\/127\.0\.0\.1:\d+$/)
    assert.match(tls.b.remote, /^tls:\/\/127\.0\.0\.1:\d+$/)
    await tls.close()
    const unix = await pairOver(() => `unix:${runtimeDir}/spec.sock`, local)
    assert.equal(unix.a.remoteAddress, undefined)
    assert.equal(unix.a.remote, `unix:${runtimeDir}/spec.sock`)
    await unix.close()
  })
})

/**
 * A Pool (src/link/pool.ts) over fake connections, for the link unit tests: every dial waits
 * for the test to make it succeed (with a FakeConn) or fail (with a code), and the pool's events
 * are recorded.
 */
import { EventEmitter } from 'node:events'
import { type ErrorCode, type SwitchboardError, sbError } from '../../../src/errors.ts'
import { defaultLinkOptions, type LinkTuning } from '../../../src/link/defaults.ts'
import { Pool, type PoolEvents } from '../../../src/link/pool.ts'
import type { RpcConnection } from '../../../src/rpc/connection.ts'

/** Just what the pool reads of a connection. */
export class FakeConn extends EventEmitter {
  canOpen = true
  pendingCount = 0
  openChannels = 0
  hasSubscriptions = false
  sessionEnded = false
  goawayCode: ErrorCode | undefined
  closeError: SwitchboardError | undefined
  closeCalls = 0
  abortedWith: SwitchboardError | undefined

  constructor(readonly address: string) {
    super()
  }

  getStats(): { openChannels: number } {
    return { openChannels: this.openChannels }
  }

  close(): Promise<void> {
    this.closeCalls++
    this.die(undefined)
    return Promise.resolve()
  }

  abort(err?: SwitchboardError): void {
    this.abortedWith = err
    this.die(err)
  }

  /** The session ended: as RpcConnection, the flags are set before 'close' is emitted. */
  die(err: SwitchboardError | undefined): void {
    if (this.sessionEnded) return
    this.sessionEnded = true
    this.canOpen = false
    this.closeError = err
    this.emit('close', err)
  }

  /** The peer sent GOAWAY: no new calls here. */
  goaway(code: ErrorCode): void {
    this.canOpen = false
    this.goawayCode = code
    this.emit('goaway', code)
  }
}

export interface Dial {
  address: string
  signal: AbortSignal
  succeed(conn?: FakeConn): FakeConn
  fail(code: ErrorCode): void
}

/** A pool whose dials wait for the test to settle them, and a record of its events. */
export function harness(tuning: Partial<LinkTuning> = {}, addresses = ['addr-a']) {
  const dials: Dial[] = []
  const log: string[] = []
  let work = false
  const gaveUp: SwitchboardError[] = []
  const events: PoolEvents = {
    up: (c) => log.push(`up ${(c as unknown as FakeConn).address}`),
    down: (_c, err) => log.push(`down ${err?.code ?? 'clean'}`),
    gaveUp: (err) => gaveUp.push(err),
    hasWork: () => work,
  }
  const pool = new Pool(
    addresses,
    { ...defaultLinkOptions, ...tuning },
    (address, signal) =>
      new Promise<RpcConnection>((resolve, reject) => {
        dials.push({
          address,
          signal,
          succeed(conn = new FakeConn(address)) {
            resolve(conn as unknown as RpcConnection)
            return conn
          },
          fail(code) {
            reject(sbError(code, `dial ${address} failed`))
          },
        })
      }),
    events,
  )
  return {
    pool,
    dials,
    log,
    gaveUp,
    setWork(v: boolean) {
      work = v
    },
  }
}

/** Lets the pool's promise callbacks run. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
export const fake = (c: RpcConnection | undefined): FakeConn | undefined =>
  c as unknown as FakeConn | undefined

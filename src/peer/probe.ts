/**
 * Does anything accept connections at an address? The directory asks when a peer is suspected
 * dead (its pid may live on in a hung or reused process; a refused socket settles it). Only a
 * refusal or a missing socket counts as dead: a timeout or any other error is "maybe alive".
 */
import { connect as netConnect } from 'node:net'
import { errnoCode } from '../internal/errno.ts'
import { parseAddress } from '../transport/address.ts'
import { resolveEndpoint } from '../transport/endpoint.ts'

const PROBE_TIMEOUT_MS = 1000

export async function probeAddress(address: string): Promise<boolean> {
  let endpoint: Awaited<ReturnType<typeof resolveEndpoint>>
  try {
    endpoint = await resolveEndpoint(parseAddress(address))
  } catch {
    return false // an entry with an address we cannot even parse is of no use
  }
  return new Promise((resolve) => {
    const socket =
      endpoint.kind === 'ipc'
        ? netConnect({ path: endpoint.path })
        : netConnect({ host: endpoint.host, port: endpoint.port })
    const done = (alive: boolean): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(alive)
    }
    const timer = setTimeout(() => done(true), PROBE_TIMEOUT_MS)
    timer.unref()
    socket.once('connect', () => done(true))
    socket.once('error', (err) => {
      const code = errnoCode(err)
      done(!(code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ENOTSOCK'))
    })
  })
}

/**
 * Does a connect to `address` succeed from here, now, within `timeoutMs`? Unlike probeAddress
 * (which asks whether anything may be alive there), any failure is false: a socket private to
 * another user (EACCES) or a host without a route is alive but not reachable directly.
 */
export async function connects(address: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  let endpoint: Awaited<ReturnType<typeof resolveEndpoint>>
  try {
    endpoint = await resolveEndpoint(parseAddress(address))
  } catch {
    return false
  }
  return new Promise((resolve) => {
    const socket =
      endpoint.kind === 'ipc'
        ? netConnect({ path: endpoint.path })
        : netConnect({ host: endpoint.host, port: endpoint.port })
    const done = (ok: boolean): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    timer.unref()
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

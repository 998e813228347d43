/**
 * Small helpers shared by the runner, the server and the adapters: timeouts on every wait, a
 * yield to the event loop, percentiles.
 */

/** Rejects with a message naming what was awaited when `promise` does not settle within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Resolves in the next check phase: pending setImmediate flushes run first, then I/O is polled. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** The q-quantile (0..1) of `values`, nearest rank; sorts `values` in place. */
export function quantile(values: Float64Array, q: number): number {
  if (values.length === 0) return Number.NaN
  values.sort()
  const rank = Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1))
  return values[rank]!
}

/** Parses the address a server prints: unix:/abs/path or tcp://host:port. */
export function parseBenchAddress(address: string): { path: string } | { host: string; port: number } {
  if (address.startsWith('unix:')) return { path: address.slice('unix:'.length) }
  const m = /^tcp:\/\/(.+):(\d+)$/.exec(address)
  if (m === null) throw new Error(`unexpected server address ${JSON.stringify(address)}`)
  return { host: m[1]!, port: Number(m[2]) }
}

export const MiB = 1024 * 1024

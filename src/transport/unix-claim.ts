/**
 * Before listening on a unix socket path: a socket file left by a dead listener is replaced; a
 * live one is ADDRESS_IN_USE; a file that is not a socket is NOT_A_SOCKET and left untouched.
 * "Dead" means a connect is refused (ECONNREFUSED). A live listener sees the probe as a
 * connection that closes at once.
 */
import { lstat, unlink } from 'node:fs/promises'
import { connect } from 'node:net'
import { sbError } from '../errors.ts'
import { errnoCode } from '../internal/errno.ts'

/** How long a probe connect may take before the listener is taken as live (ms). */
export const PROBE_TIMEOUT_MS = 2000

type Probe = 'live' | 'stale' | 'gone' | { unknown: Error }

/** Makes `path` free for listen(), or throws ADDRESS_IN_USE / NOT_A_SOCKET / LISTEN_FAILED. */
export async function claimSocketPath(path: string): Promise<void> {
  let st: Awaited<ReturnType<typeof lstat>>
  try {
    st = await lstat(path)
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return
    throw sbError('LISTEN_FAILED', `cannot inspect ${path}: ${errnoCode(err)}`, { cause: err })
  }
  if (!st.isSocket()) {
    throw sbError('NOT_A_SOCKET', `${path} exists and is not a socket; it was left untouched`)
  }
  const probe = await probeSocket(path)
  if (probe === 'gone') return
  if (probe === 'live') throw sbError('ADDRESS_IN_USE', `a live listener already owns unix:${path}`)
  if (probe !== 'stale') {
    throw sbError(
      'ADDRESS_IN_USE',
      `unix:${path} exists and could not be probed (${errnoCode(probe.unknown)})`,
      {
        cause: probe.unknown,
      },
    )
  }
  await unlink(path).catch((err: unknown) => {
    if (errnoCode(err) !== 'ENOENT') {
      throw sbError('LISTEN_FAILED', `cannot remove the stale socket ${path}: ${errnoCode(err)}`, {
        cause: err,
      })
    }
  })
}

function probeSocket(path: string): Promise<Probe> {
  return new Promise((resolve) => {
    const socket = connect({ path })
    const finish = (result: Probe): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(result)
    }
    const timer = setTimeout(() => finish('live'), PROBE_TIMEOUT_MS)
    socket.once('connect', () => finish('live'))
    socket.once('error', (err) => {
      const code = errnoCode(err)
      finish(code === 'ECONNREFUSED' ? 'stale' : code === 'ENOENT' ? 'gone' : { unknown: err })
    })
  })
}

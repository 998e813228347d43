/**
 * Listening and dialling for the adapters that run over node:net (raw, node-ipc, vscode-jsonrpc):
 * a socket file in the run's private directory, or 127.0.0.1 on an ephemeral port (Nagle off).
 * Addresses are `unix:/abs/path` or `tcp://127.0.0.1:PORT`.
 */
import { connect, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import type { AgentEnv } from './common.ts'

export function socketPath(env: AgentEnv, name = env.cell): string {
  return join(env.dir, `${name}.sock`)
}

/** Starts `server` listening for the cell's transport; resolves with its address. */
export function listenNet(server: Server, env: AgentEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    if (env.transport === 'tcp') {
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        const addr = server.address()
        if (addr === null || typeof addr === 'string') reject(new Error('no tcp address'))
        else resolve(`tcp://127.0.0.1:${addr.port}`)
      })
    } else {
      const path = socketPath(env)
      server.listen({ path }, () => resolve(`unix:${path}`))
    }
  })
}

export function parseAddress(address: string): { path: string } | { host: string; port: number } {
  if (address.startsWith('unix:')) return { path: address.slice('unix:'.length) }
  const m = /^tcp:\/\/(.+):(\d+)$/.exec(address)
  if (m === null) throw new Error(`unexpected address ${JSON.stringify(address)}`)
  return { host: m[1]!, port: Number(m[2]) }
}

/** Connects to `address`; resolves once connected (Nagle off on TCP). */
export function dialNet(address: string): Promise<Socket> {
  const target = parseAddress(address)
  const socket = 'path' in target ? connect({ path: target.path }) : connect({ ...target, noDelay: true })
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.destroy()
      reject(err)
    }
    socket.once('error', onError)
    socket.once('connect', () => {
      socket.off('error', onError)
      resolve(socket)
    })
  })
}

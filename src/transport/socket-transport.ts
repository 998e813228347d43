/**
 * The Transport adapter over a net.Socket (unix sockets, named pipes, TCP). The hot path is
 * write(): one socket.write for a single chunk, cork/uncork around several so they leave as one
 * writev; no callbacks, closures or copies per write.
 *
 * States: open → closing (close() or the peer's end) → destroying (abort()) → closed (the socket's
 * 'close' event). The `close` event is reported once the socket closed and bind() was called.
 */
import type { Socket } from 'node:net'
import { isSwitchboardError, sbError } from '../errors.ts'
import { errnoCode } from '../internal/errno.ts'
import type { Transport, TransportEvents } from './types.ts'

type State = 'open' | 'closing' | 'destroying' | 'closed'

export class SocketTransport implements Transport {
  readonly remote: string
  readonly remoteAddress: string | undefined
  private readonly socket: Socket
  private events: TransportEvents | undefined
  private state: State = 'open'
  private userPaused = false
  private reported = false
  /** The first failure: a socket error, or the error given to abort(). */
  private failure: Error | undefined

  /** Takes ownership of a connected socket; it is paused until bind(). */
  constructor(socket: Socket, remote: string, remoteAddress: string | undefined) {
    this.socket = socket
    this.remote = remote
    this.remoteAddress = remoteAddress
    socket.pause()
    socket.on('error', this.onError)
    socket.on('drain', this.onDrain)
    socket.on('end', this.onEnd)
    socket.on('close', this.onClose)
  }

  get writableLength(): number {
    return this.socket.writableLength
  }

  write(chunks: readonly Uint8Array[]): boolean {
    if (this.state !== 'open') return false
    const socket = this.socket
    if (chunks.length === 1) return socket.write(chunks[0]!)
    socket.cork()
    for (let i = 0; i < chunks.length; i++) socket.write(chunks[i]!)
    socket.uncork()
    return !socket.writableNeedDrain
  }

  close(): void {
    if (this.state !== 'open') return
    this.state = 'closing'
    this.socket.end()
    // Read on so the peer's end (and with it our 'close') can arrive even if the caller paused.
    if (this.events !== undefined) this.socket.resume()
  }

  abort(err?: Error): void {
    if (this.state === 'destroying' || this.state === 'closed') return
    this.state = 'destroying'
    if (err !== undefined && this.failure === undefined) {
      this.failure = isSwitchboardError(err)
        ? err
        : sbError('TRANSPORT_ERROR', `${this.remote}: aborted: ${err.message}`, { cause: err })
    }
    this.socket.destroy()
  }

  bind(events: TransportEvents): void {
    if (this.events !== undefined)
      throw sbError('INVALID_ARGUMENT', 'Transport.bind() may be called only once')
    this.events = events
    if (this.state === 'closed') {
      queueMicrotask(this.report)
      return
    }
    this.socket.on('data', this.onData)
    if (!this.userPaused || this.state === 'closing') this.socket.resume()
  }

  pause(): void {
    this.userPaused = true
    if (this.events !== undefined) this.socket.pause()
  }

  resume(): void {
    this.userPaused = false
    if (this.events !== undefined) this.socket.resume()
  }

  private readonly onData = (chunk: Buffer): void => {
    this.events!.data(chunk)
  }

  private readonly onDrain = (): void => {
    if (this.events !== undefined && this.state === 'open') this.events.drain()
  }

  private readonly onEnd = (): void => {
    // allowHalfOpen is false: Node ends our side too. Later writes would fail, so drop them.
    if (this.state === 'open') this.state = 'closing'
  }

  private readonly onError = (err: Error): void => {
    if (this.failure !== undefined) return
    this.failure = sbError('TRANSPORT_ERROR', `${this.remote}: ${errnoCode(err)}: ${err.message}`, {
      cause: err,
    })
  }

  private readonly onClose = (): void => {
    this.state = 'closed'
    if (this.events !== undefined) this.report()
  }

  private readonly report = (): void => {
    if (this.reported) return
    this.reported = true
    this.events!.close(this.failure)
  }
}

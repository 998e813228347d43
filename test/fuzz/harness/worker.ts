/**
 * A fuzz worker thread: loads targets on demand and runs the chunks the pool sends it. Before
 * each input it bumps a counter and copies the input into shared memory, so the pool's watchdog
 * can tell an input that never returns and save it after terminating this thread.
 */
import { join } from 'node:path'
import { parentPort, workerData } from 'node:worker_threads'
import { type ChunkSpec, type Failure, readCorpusDir, TargetRunner } from './engine.ts'
import type { FuzzTarget } from './target.ts'

export interface TargetRef {
  readonly name: string
  /** Absolute file URL of the module that exports the target. */
  readonly module: string
  /** The export that holds the FuzzTarget (default `target`). */
  readonly exportName?: string | undefined
}

export interface ChunkMessage {
  readonly type: 'chunk'
  readonly id: number
  readonly target: TargetRef
  readonly spec: ChunkSpec
}

export type WorkerMessage =
  | { readonly type: 'failure'; readonly failure: Failure }
  | { readonly type: 'done'; readonly id: number; readonly stats: import('./engine.ts').ChunkStats }
  | { readonly type: 'fatal'; readonly id: number; readonly error: string }

export interface WorkerData {
  readonly status: SharedArrayBuffer
  /** Folder whose regressions/<target>/ inputs join the corpus; undefined for none. */
  readonly corpusDir: string | undefined
}

/** Shared status layout: Int32 [0] inputs started, [1] current input's length; bytes from 16. */
export const STATUS_HEADER_BYTES = 16
export const STATUS_INPUT_BYTES = 256 * 1024

const port = parentPort
if (port !== null) {
  const data = workerData as WorkerData
  const counters = new Int32Array(data.status, 0, 4)
  const inputBytes = new Uint8Array(data.status, STATUS_HEADER_BYTES, STATUS_INPUT_BYTES)
  const runners = new Map<string, TargetRunner>()

  const load = async (ref: TargetRef): Promise<TargetRunner> => {
    const key = `${ref.module}#${ref.exportName ?? 'target'}`
    let runner = runners.get(key)
    if (runner === undefined) {
      const mod = (await import(ref.module)) as Record<string, unknown>
      const target = mod[ref.exportName ?? 'target'] as FuzzTarget | undefined
      if (target === undefined || typeof target.run !== 'function') {
        throw new Error(`${ref.module} has no FuzzTarget export ${ref.exportName ?? 'target'}`)
      }
      const extra =
        data.corpusDir === undefined
          ? []
          : readCorpusDir(join(data.corpusDir, 'regressions', ref.name)).map((c) => c.input)
      runner = new TargetRunner(target, extra)
      runners.set(key, runner)
    }
    return runner
  }

  const onInput = (input: Uint8Array): void => {
    const n = Math.min(input.length, STATUS_INPUT_BYTES)
    inputBytes.set(n === input.length ? input : input.subarray(0, n))
    Atomics.store(counters, 1, input.length)
    Atomics.add(counters, 0, 1)
  }

  port.on('message', async (msg: ChunkMessage) => {
    let runner: TargetRunner
    try {
      runner = await load(msg.target)
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err)
      port.postMessage({ type: 'fatal', id: msg.id, error } satisfies WorkerMessage)
      return
    }
    // Stack traces cost more than most decoders; a crash is re-run with them on (engine.ts).
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    let stats: import('./engine.ts').ChunkStats
    try {
      stats = runner.runChunk(
        msg.spec,
        (failure) => port.postMessage({ type: 'failure', failure } satisfies WorkerMessage),
        onInput,
      )
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err)
      port.postMessage({ type: 'fatal', id: msg.id, error } satisfies WorkerMessage)
      return
    } finally {
      Error.stackTraceLimit = limit
    }
    port.postMessage({ type: 'done', id: msg.id, stats } satisfies WorkerMessage)
  })
}

/**
 * Runs fuzz targets on worker threads with a watchdog. Work is cut into chunks (a count of
 * inputs, or a time window); idle workers take the next chunk, so two workers keep two cores
 * busy. The watchdog polls each busy worker's input counter: no progress for `watchdogMs` means
 * an input that never returns (an infinite loop, a catastrophic regex), so the worker is
 * terminated, the input is read from shared memory and reported as a hang, a fresh worker
 * takes its place and the rest of the chunk is queued again. A worker that dies (out of memory)
 * is reported as a crash on the input it was running.
 */
import { Worker } from 'node:worker_threads'
import { type ChunkStats, emptyStats, type Failure, toHex } from './engine.ts'
import { hashSeed } from './rng.ts'
import {
  type ChunkMessage,
  STATUS_HEADER_BYTES,
  STATUS_INPUT_BYTES,
  type TargetRef,
  type WorkerData,
  type WorkerMessage,
} from './worker.ts'

export type { TargetRef } from './worker.ts'

export interface FuzzOptions {
  readonly targets: readonly TargetRef[]
  /** Count mode: inputs per target. */
  readonly inputsPerTarget?: number | undefined
  /** Time mode (used when inputsPerTarget is unset): wall seconds per target, all workers on it. */
  readonly secondsPerTarget?: number | undefined
  /** Bound on the whole run, seconds: chunks stop there and the report says what was not reached. */
  readonly maxSeconds: number
  readonly workers: number
  readonly seed: number
  /** Per-input budget, ms: slower (confirmed by re-runs) is a hang. */
  readonly hangMs: number
  /** No new input started for this long: the worker is stuck, terminate it, ms. */
  readonly watchdogMs: number
  /** Inputs per chunk in count mode. */
  readonly chunkSize: number
  /** Folder holding regressions/<target>/ (added to each target's corpus). */
  readonly corpusDir?: string | undefined
  /** Signatures of known, pending failures (counted apart, not reported): see ChunkSpec.known. */
  readonly known?: readonly string[] | undefined
  /**
   * Workers a target may lose (watchdog kills, deaths) before its remaining chunks are dropped:
   * an input that hangs easily would otherwise cost a worker restart every few inputs.
   */
  readonly maxWorkerLosses?: number | undefined
  /** Old-generation heap limit of each worker, MiB. */
  readonly workerHeapMb?: number | undefined
  /** Each new failure signature, as found. */
  readonly onFailure?: ((f: Failure) => void) | undefined
  /** A target finished its chunks. */
  readonly onTargetDone?: ((report: TargetReport) => void) | undefined
}

export interface TargetReport {
  readonly name: string
  readonly stats: ChunkStats
  /** Inputs the run set out to try (undefined in time mode). */
  readonly goal: number | undefined
  /** Wall time from the target's first chunk starting to its last one ending, ms. */
  wallMs: number
  /** Set when a worker could not load or run the target at all. */
  fatal: string | undefined
  /** Set when the target's remaining chunks were dropped (it lost too many workers). */
  stopped: string | undefined
  /** Workers lost to this target (watchdog kills, deaths). */
  workerLosses: number
}

export interface FuzzReport {
  readonly targets: TargetReport[]
  /** Every failure reported (at most 3 per signature and worker), in the order found. */
  readonly failures: Failure[]
  readonly elapsedMs: number
  /** True when the time bound stopped the run before every count goal was met. */
  readonly timedOut: boolean
}

interface Chunk {
  id: number
  target: TargetRef
  report: TargetReport
  count: number
  seed: number
  /** Time mode: window length, ms, counted from when the worker starts running the chunk. */
  windowMs: number
}

interface Slot {
  worker: Worker
  status: SharedArrayBuffer
  counters: Int32Array
  chunk: Chunk | undefined
  /** Counter value when the chunk started. */
  startSeq: number
  lastSeq: number
  lastProgress: number
  /** performance.now() when the chunk started. */
  chunkStarted: number
  /** Set while the worker is being replaced. */
  dead: boolean
}

function workerBootstrap(): string {
  const url = new URL('./worker.ts', import.meta.url).href
  return `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(url)}) }).catch((err) => { console.error(err); process.exit(70) })`
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now()
  const hardDeadline = Date.now() + opts.maxSeconds * 1000
  const failures: Failure[] = []
  const reports = new Map<string, TargetReport>()
  const firstStart = new Map<string, number>()
  const pending = new Map<string, number>()
  const queue: Chunk[] = []
  let nextId = 1
  let timedOut = false

  for (const target of opts.targets) {
    reports.set(target.name, {
      name: target.name,
      stats: emptyStats(),
      goal: opts.inputsPerTarget,
      wallMs: 0,
      fatal: undefined,
      stopped: undefined,
      workerLosses: 0,
    })
  }
  // Chunks interleaved across targets so every target moves forward from the start.
  if (opts.inputsPerTarget !== undefined) {
    const perTarget = opts.targets.map((t) => {
      const out: Chunk[] = []
      for (let done = 0, i = 0; done < opts.inputsPerTarget!; i++) {
        const count = Math.min(opts.chunkSize, opts.inputsPerTarget! - done)
        out.push(makeChunk(t, count, hashSeed(opts.seed, t.name, i), 0))
        done += count
      }
      return out
    })
    for (let i = 0; perTarget.some((c) => i < c.length); i++) {
      for (const chunks of perTarget) if (i < chunks.length) queue.push(chunks[i]!)
    }
  } else {
    const windowMs = (opts.secondsPerTarget ?? 1) * 1000
    for (const t of opts.targets) {
      for (let w = 0; w < opts.workers; w++) {
        queue.push(makeChunk(t, Number.MAX_SAFE_INTEGER, hashSeed(opts.seed, t.name, w), windowMs))
      }
    }
  }
  for (const c of queue) pending.set(c.target.name, (pending.get(c.target.name) ?? 0) + 1)

  function makeChunk(target: TargetRef, count: number, seed: number, windowMs: number): Chunk {
    return {
      id: nextId++,
      target,
      report: reports.get(target.name)!,
      count,
      seed,
      windowMs,
    }
  }

  return await new Promise<FuzzReport>((resolve) => {
    const slots: Slot[] = []
    let finished = false

    const addStats = (into: ChunkStats, s: ChunkStats): void => {
      into.tried += s.tried
      into.accepted += s.accepted
      into.rejected += s.rejected
      into.crashes += s.crashes
      into.hangs += s.hangs
      into.known += s.known
      into.slowOnce += s.slowOnce
      into.ms += s.ms
    }

    /** Removes a target's queued chunks. */
    const dropQueued = (name: string): void => {
      for (let i = queue.length - 1; i >= 0; i--) {
        if (queue[i]!.target.name === name) {
          queue.splice(i, 1)
          pending.set(name, (pending.get(name) ?? 1) - 1)
        }
      }
    }

    const chunkEnded = (chunk: Chunk): void => {
      const left = (pending.get(chunk.target.name) ?? 1) - 1
      pending.set(chunk.target.name, left)
      const first = firstStart.get(chunk.target.name)
      if (first !== undefined) chunk.report.wallMs = performance.now() - first
      if (left === 0) opts.onTargetDone?.(chunk.report)
    }

    const spawn = (): Slot => {
      const status = new SharedArrayBuffer(STATUS_HEADER_BYTES + STATUS_INPUT_BYTES)
      const data: WorkerData = { status, corpusDir: opts.corpusDir }
      const worker = new Worker(workerBootstrap(), {
        eval: true,
        workerData: data,
        resourceLimits: { maxOldGenerationSizeMb: opts.workerHeapMb ?? 1024 },
        stdout: false,
        stderr: false,
      })
      const slot: Slot = {
        worker,
        status,
        counters: new Int32Array(status, 0, 4),
        chunk: undefined,
        startSeq: 0,
        lastSeq: 0,
        lastProgress: performance.now(),
        chunkStarted: performance.now(),
        dead: false,
      }
      worker.on('message', (msg: WorkerMessage) => onMessage(slot, msg))
      worker.on('error', (err) => onDeath(slot, `worker died: ${err.message}`, err.stack ?? String(err)))
      worker.on('exit', (code) => {
        if (!slot.dead && !finished) onDeath(slot, `worker exited with code ${code}`, '')
      })
      return slot
    }

    const currentInput = (slot: Slot): Uint8Array => {
      const length = Atomics.load(slot.counters, 1)
      return new Uint8Array(slot.status, STATUS_HEADER_BYTES, Math.min(length, STATUS_INPUT_BYTES)).slice()
    }

    const record = (f: Failure): void => {
      failures.push(f)
      opts.onFailure?.(f)
    }

    /** The worker is gone (killed by the watchdog, out of memory): report, replace, requeue. */
    const replace = (slot: Slot, kind: 'crash' | 'hang', message: string, detail: string): void => {
      if (slot.dead) return
      slot.dead = true
      const chunk = slot.chunk
      slot.chunk = undefined
      void slot.worker.terminate()
      if (chunk !== undefined) {
        const started = Atomics.load(slot.counters, 0) - slot.startSeq
        const s = emptyStats()
        s.tried = started
        s.rejected = Math.max(0, started - 1)
        if (kind === 'crash') s.crashes = 1
        else s.hangs = 1
        s.ms = performance.now() - slot.chunkStarted
        const input = currentInput(slot)
        const signature = `${chunk.target.name}|${kind === 'hang' ? 'hang' : message}`
        if (opts.known?.includes(signature)) {
          s.known = 1
          s.crashes = 0
          s.hangs = 0
        }
        addStats(chunk.report.stats, s)
        if (s.known === 0)
          record({
            target: chunk.target.name,
            kind,
            signature,
            hex: toHex(input),
            message,
            detail,
          })
        const left = chunk.count - started
        chunk.report.workerLosses++
        if (chunk.report.workerLosses >= (opts.maxWorkerLosses ?? 3)) {
          chunk.report.stopped ??= `stopped after losing ${chunk.report.workerLosses} workers`
          dropQueued(chunk.target.name)
          chunkEnded(chunk)
        } else if (left > 0 && !finished) {
          queue.unshift({
            ...chunk,
            id: nextId++,
            count: left,
            seed: hashSeed(chunk.seed, 'resume', started),
          })
        } else chunkEnded(chunk)
      }
      const index = slots.indexOf(slot)
      if (!finished && index >= 0) {
        slots[index] = spawn()
        dispatch(slots[index]!)
      }
    }

    const onDeath = (slot: Slot, message: string, detail: string): void => {
      if (finished || slot.dead) return
      replace(slot, 'crash', message, detail)
    }

    const onMessage = (slot: Slot, msg: WorkerMessage): void => {
      if (slot.dead) return
      if (msg.type === 'failure') {
        record(msg.failure)
        return
      }
      const chunk = slot.chunk
      slot.chunk = undefined
      if (chunk !== undefined && chunk.id === msg.id) {
        if (msg.type === 'done') addStats(chunk.report.stats, msg.stats)
        else {
          chunk.report.fatal ??= msg.error
          dropQueued(chunk.target.name) // it cannot run
        }
        chunkEnded(chunk)
      }
      dispatch(slot)
    }

    const dispatch = (slot: Slot): void => {
      if (finished || slot.dead) return
      if (Date.now() >= hardDeadline && opts.inputsPerTarget !== undefined && queue.length > 0) {
        timedOut = true
        for (const c of queue.splice(0)) chunkEnded(c)
      }
      const chunk = queue.shift()
      if (chunk === undefined) {
        if (slots.every((s) => s.chunk === undefined)) finish()
        return
      }
      slot.chunk = chunk
      slot.startSeq = Atomics.load(slot.counters, 0)
      slot.lastSeq = slot.startSeq
      slot.lastProgress = performance.now()
      slot.chunkStarted = slot.lastProgress
      if (!firstStart.has(chunk.target.name)) firstStart.set(chunk.target.name, performance.now())
      const msg: ChunkMessage = {
        type: 'chunk',
        id: chunk.id,
        target: chunk.target,
        spec: {
          seed: chunk.seed,
          count: chunk.count,
          deadline: hardDeadline,
          windowMs: chunk.windowMs,
          hangMs: opts.hangMs,
          known: opts.known,
        },
      }
      slot.worker.postMessage(msg)
    }

    const pollMs = Math.max(20, Math.min(250, opts.watchdogMs / 4))
    const watchdog = setInterval(() => {
      const now = performance.now()
      for (const slot of slots) {
        if (slot.chunk === undefined || slot.dead) continue
        const seq = Atomics.load(slot.counters, 0)
        if (seq !== slot.lastSeq) {
          slot.lastSeq = seq
          slot.lastProgress = now
        } else if (seq !== slot.startSeq && now - slot.lastProgress >= opts.watchdogMs) {
          const waited = (now - slot.lastProgress).toFixed(0)
          replace(
            slot,
            'hang',
            `no progress for ${waited} ms: killed by the watchdog`,
            `watchdog: ${waited} ms`,
          )
        } else if (now - slot.lastProgress >= opts.watchdogMs * 20 + 60_000) {
          // Not even the first input started (a target whose setup hangs).
          replace(slot, 'crash', 'the worker started no input (target setup hangs?)', '')
        }
      }
    }, pollMs)

    const finish = (): void => {
      if (finished) return
      finished = true
      clearInterval(watchdog)
      for (const slot of slots) {
        slot.dead = true
        void slot.worker.terminate()
      }
      for (const r of reports.values()) {
        if (
          r.goal !== undefined &&
          r.stats.tried < r.goal &&
          r.fatal === undefined &&
          r.stopped === undefined
        ) {
          timedOut = true
        }
      }
      resolve({ targets: [...reports.values()], failures, elapsedMs: performance.now() - started, timedOut })
    }

    for (let i = 0; i < Math.max(1, opts.workers); i++) slots.push(spawn())
    for (const slot of slots) dispatch(slot)
  })
}

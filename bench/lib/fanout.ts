/**
 * Fan-out, both ends. The publisher (in the server agent) probes until every subscriber has seen
 * a message (subscriptions propagate asynchronously in some systems), then publishes data for
 * the run's duration, then one END. Each subscriber (its own process) counts data messages at
 * the far end and notes when the last one arrived, on CLOCK_MONOTONIC, which every process on
 * the machine shares: its rate is what it received over (its last arrival - publishing start).
 */
import { type BenchServer, Kind } from './common.ts'
import { produce, type RunParams } from './drive.ts'
import { cpuMicros, monoNs } from './util.ts'

function message(kind: number, size: number): Buffer {
  const msg = Buffer.alloc(Math.max(1, size), 0x5a)
  msg[0] = kind
  return msg
}

export interface PublishResult {
  published: number
  /** CLOCK_MONOTONIC ns when publishing began. */
  startNs: number
  seconds: number
}

export async function runPublisher(server: BenchServer, p: RunParams): Promise<PublishResult> {
  const data = message(Kind.DATA, p.size)
  const startNs = monoNs()
  const t0 = performance.now()
  const published = await produce(() => server.publish(data), server, p)
  await server.publish(message(Kind.END, p.size))
  if (server.backlogged()) await server.waitWritable()
  return { published, startNs, seconds: (performance.now() - t0) / 1000 }
}

/** Publishes a PROBE every `everyMs` until stopped: a retry interval until subscribers are live. */
export class Prober {
  private timer: NodeJS.Timeout | undefined

  start(server: BenchServer, size: number, everyMs = 20): void {
    const probe = message(Kind.PROBE, size)
    this.stop()
    const send = (): void => {
      server.publish(probe)?.catch(() => {})
    }
    send()
    this.timer = setInterval(send, everyMs)
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }
}

export interface SubscriberReport {
  received: number
  /** CLOCK_MONOTONIC ns of the last data message (0 when none came). */
  lastNs: number
  cpuUs: number
  /** True when the END message arrived (false: reported after a quiet period). */
  ended: boolean
}

/** The far end of a fan-out: counts data messages once armed; calls back on the first PROBE. */
export class SubscriberCounter {
  private received = 0
  private lastAt = 0
  private armed = false
  private cpu0 = 0
  /** The END's report, kept until settle() asks for it. */
  private ended: SubscriberReport | undefined
  private settling: { timer: NodeJS.Timeout; resolve: (r: SubscriberReport) => void } | undefined

  constructor(private readonly onProbe: () => void) {}

  readonly onMessage = (msg: Uint8Array): void => {
    const kind = msg[0]
    if (kind === Kind.DATA) {
      if (!this.armed) return
      this.received++
      this.lastAt = performance.now()
      this.settling?.timer.refresh()
    } else if (kind === Kind.PROBE) {
      this.onProbe()
    } else if (kind === Kind.END && this.armed) {
      this.finish(true)
    }
  }

  /** Starts counting from zero (CPU too). */
  arm(): void {
    this.received = 0
    this.lastAt = 0
    this.ended = undefined
    this.cpu0 = cpuMicros()
    this.armed = true
  }

  /**
   * Resolves with the report once the END arrived, or once no data message came for `quietMs`
   * (the END was lost: lossy systems drop messages at their high-water marks).
   */
  settle(quietMs: number): Promise<SubscriberReport> {
    const ended = this.ended
    if (ended !== undefined) {
      this.ended = undefined
      return Promise.resolve(ended)
    }
    return new Promise((resolve) => {
      this.settling = { timer: setTimeout(() => this.finish(false), quietMs), resolve }
    })
  }

  private finish(gotEnd: boolean): void {
    this.armed = false
    const lastNs = this.received === 0 ? 0 : monoNs() - (performance.now() - this.lastAt) * 1e6
    const report = { received: this.received, lastNs, cpuUs: cpuMicros() - this.cpu0, ended: gotEnd }
    const settling = this.settling
    this.settling = undefined
    if (settling === undefined) {
      this.ended = report
      return
    }
    clearTimeout(settling.timer)
    settling.resolve(report)
  }
}

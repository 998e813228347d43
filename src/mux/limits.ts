/**
 * The limits one side of a session announces in its hello (LIMITS) and enforces on receive.
 * Defaults live here; every value is an option (docs/limits.md).
 */
import { SettingKey } from '../wire/constants.ts'

export interface MuxLimits {
  /** Initial receive window per channel, bytes. */
  channelWindow: number
  /** Receive window shared by all channels of the connection, bytes. */
  connectionWindow: number
  /** Largest chunk the scheduler sends from one channel before moving on, bytes. */
  chunkBytes: number
  /** Most channels the peer may have open toward us at once. */
  maxChannels: number
  /** Largest non-streamed message body accepted, bytes (enforced by rpc/). */
  maxMessageBytes: number
  /** Keepalive timeout, ms: silence longer than this closes the session; we ping at half. */
  keepaliveMs: number
}

export const defaultMuxLimits: Readonly<MuxLimits> = Object.freeze({
  channelWindow: 256 * 1024,
  connectionWindow: 1024 * 1024,
  chunkBytes: 16 * 1024,
  maxChannels: 1024,
  maxMessageBytes: 64 * 1024 * 1024,
  keepaliveMs: 30_000,
})

/** Bounds that keep a hostile or buggy hello from disabling flow control or liveness. */
export const limitBounds = {
  channelWindow: [1024, 2 ** 31 - 1],
  connectionWindow: [1024, 2 ** 31 - 1],
  chunkBytes: [512, 32 * 1024],
  maxChannels: [1, 2 ** 31 - 1],
  maxMessageBytes: [1024, Number.MAX_SAFE_INTEGER],
  keepaliveMs: [50, 24 * 3600 * 1000],
} as const satisfies Record<keyof MuxLimits, readonly [number, number]>

const keys: ReadonlyArray<readonly [keyof MuxLimits, number]> = [
  ['channelWindow', SettingKey.CHANNEL_WINDOW],
  ['connectionWindow', SettingKey.CONNECTION_WINDOW],
  ['chunkBytes', SettingKey.CHUNK_BYTES],
  ['maxChannels', SettingKey.MAX_CHANNELS],
  ['maxMessageBytes', SettingKey.MAX_MESSAGE_BYTES],
  ['keepaliveMs', SettingKey.KEEPALIVE_MS],
]

export function limitsToSettings(limits: MuxLimits): Map<number, number> {
  return new Map(keys.map(([name, key]) => [key, limits[name]]))
}

/** Reads a peer's announced limits; missing keys take the defaults, values are clamped to bounds. */
export function limitsFromSettings(settings: ReadonlyMap<number, number>): MuxLimits {
  const out = { ...defaultMuxLimits }
  for (const [name, key] of keys) {
    const value = settings.get(key)
    if (value === undefined) continue
    const [lo, hi] = limitBounds[name]
    out[name] = Math.min(hi, Math.max(lo, value))
  }
  return out
}

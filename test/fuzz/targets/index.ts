/**
 * The fuzz targets: one file each, by name. A target is loaded by its file (targets/NAME.ts,
 * export `target`) only when a run asks for it, so a target whose decoder is mid-change breaks
 * only itself.
 */
import type { FuzzTarget } from '../harness/target.ts'
import type { TargetRef } from '../harness/worker.ts'

export const TARGET_NAMES = [
  'frames',
  'records-plain',
  'records-deflate',
  'records-aead',
  'hello',
  'handshake',
  'unit-reader',
  'msgpack-decode',
  'msgpack-roundtrip',
  'address',
] as const

export type TargetName = (typeof TARGET_NAMES)[number]

export function isTargetName(name: string): name is TargetName {
  return (TARGET_NAMES as readonly string[]).includes(name)
}

export function targetRef(name: TargetName): TargetRef {
  return { name, module: new URL(`./${name}.ts`, import.meta.url).href }
}

export async function loadTarget(name: TargetName): Promise<FuzzTarget> {
  const mod = (await import(targetRef(name).module)) as { target: FuzzTarget }
  return mod.target
}

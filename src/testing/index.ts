/**
 * switchboard/testing: fakes for users' own tests.
 */

export {
  type FaultPlan,
  FaultProxy,
  type FaultProxyOptions,
  type PerDirection,
  ProxiedConnection,
  seededRandom,
  startFaultProxy,
} from './fault-proxy.ts'
export { killHard, killHardWhen } from './kill.ts'
export { type MemoryPairOptions, memoryPair } from './memory-pair.ts'
export * from './scripted-peer.ts'

/**
 * switchboard/testing: fakes for users' own tests.
 */
export { type MemoryPairOptions, memoryPair } from './memory-pair.ts'
export * from './scripted-peer.ts'

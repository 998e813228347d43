/**
 * switchboard/protocol: the wire codec and constants, for other implementers and tools.
 * docs/protocol.md is the normative description.
 */

export { codeFromWire, ErrorCodes, wireCodeOf } from './errors.ts'
export * from './wire/constants.ts'
export type { Frame } from './wire/frame.ts'
export { readFrames } from './wire/frame-decode.ts'
export { encodeFrame } from './wire/frame-encode.ts'
export {
  decodeHello,
  decodePreamble,
  encodeHello,
  encodePreamble,
  frameHello,
  type Hello,
} from './wire/hello.ts'
export { UnitReader } from './wire/unit-reader.ts'
export { readVarint, varintSize, writeVarint } from './wire/varint.ts'

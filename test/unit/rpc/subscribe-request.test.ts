import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  decodeSubscribeRequest,
  encodeSubscribeRequest,
  MAX_SUBSCRIBER_LABEL_BYTES,
  type SubscribeRequest,
} from '../../../src/rpc/subscribe-request.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

test('a new subscription: window, policy, no flags, resumeAfter 0, label', () => {
  const req: SubscribeRequest = {
    window: 300,
    policy: 'drop-newest',
    resume: false,
    resumeAfter: 0,
    label: 'ab',
  }
  const bytes = encodeSubscribeRequest(req)
  assert.equal(hex(bytes), 'ac02' + '02' + '00' + '00' + '02' + '6162')
  assert.deepEqual(decodeSubscribeRequest(bytes), req)
})

test('a resume carries its flag and the last sequence number (0 when nothing arrived yet)', () => {
  for (const resumeAfter of [0, 1, 70000]) {
    const req: SubscribeRequest = { window: 4, policy: 'block', resume: true, resumeAfter, label: '' }
    assert.deepEqual(decodeSubscribeRequest(encodeSubscribeRequest(req)), req)
  }
})

test('every policy round-trips', () => {
  for (const policy of ['block', 'drop-oldest', 'drop-newest', 'disconnect'] as const) {
    const req: SubscribeRequest = { window: 1, policy, resume: false, resumeAfter: 0, label: 'x' }
    assert.equal(decodeSubscribeRequest(encodeSubscribeRequest(req)).policy, policy)
  }
})

test('a long label is cut to 256 bytes on a character boundary', () => {
  const label = 'é'.repeat(200) // 400 bytes of UTF-8
  const decoded = decodeSubscribeRequest(
    encodeSubscribeRequest({ window: 1, policy: 'block', resume: false, resumeAfter: 0, label }),
  )
  assert.equal(Buffer.byteLength(decoded.label), MAX_SUBSCRIBER_LABEL_BYTES)
  assert.equal(decoded.label, 'é'.repeat(128))
})

test('malformed bodies are PROTOCOL_ERROR, never a crash', () => {
  const cases: [string, string][] = [
    ['', 'empty'],
    ['00000000' + '00', 'window 0'],
    ['01040000' + '00', 'unknown policy 4'],
    ['01000200' + '00', 'unknown flag'],
    ['01000005' + '00', 'resumeAfter without RESUME'],
    ['0100000005', 'label longer than the body'],
    ['010000000161ff', 'bytes after the label'],
    ['0100000001ff', 'label not UTF-8'],
    ['01000000' + 'fe03', 'label over 256 bytes'],
  ]
  for (const [body, what] of cases) {
    assert.throws(
      () => decodeSubscribeRequest(Buffer.from(body, 'hex')),
      (err: { code?: string }) => err.code === 'PROTOCOL_ERROR',
      what,
    )
  }
})

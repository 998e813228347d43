/**
 * A caller that stops reading a streamed response part-way. The server's response pump is then
 * waiting for credit the caller will never return: it must still stop and close the handler's
 * source (its `finally` runs), report no handler failure (the caller chose to stop), and the
 * caller's call must end, so the link closes at once instead of waiting out closeTimeoutMs.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { connect, type Link, listen, type Server, type SwitchboardError } from '../../src/index.ts'
import { makeRuntimeDir, type RuntimeDir } from '../helpers/tmp.ts'
import { waitFor, withTimeout } from '../helpers/wait.ts'

const CHUNK = 64 * 1024
let dir: RuntimeDir
let server: Server
let link: Link | undefined
/** Resolves with the chunks made when the handler's source ran its `finally`. */
let sourceClosed: Promise<number>
const serverErrors: SwitchboardError[] = []

before(async () => {
  dir = await makeRuntimeDir()
  let closed!: (made: number) => void
  sourceClosed = new Promise((resolve) => {
    closed = resolve
  })
  server = await listen('stream-cancel', { runtimeDir: dir.path })
  server.on('error', (err) => serverErrors.push(err))
  server.handle('echo', (data) => data)
  server.handle('endless', () =>
    (async function* () {
      let made = 0
      try {
        // Far more than any window: the pump must wait for credit the caller never returns.
        for (;;) {
          made++
          yield new Uint8Array(CHUNK)
        }
      } finally {
        closed(made)
      }
    })(),
  )
  link = await connect('stream-cancel', { runtimeDir: dir.path, waitForReady: true })
})

after(async () => {
  link?.abort()
  await server?.close()
  await dir?.cleanup()
})

test('a caller that stops reading a stream: the source closes, nothing is reported, the call ends', async () => {
  const l = link!
  const body = await l.request<AsyncIterable<Uint8Array>>('endless')
  let got = 0
  for await (const chunk of body) {
    got += chunk.length
    break // stop after the first chunk: by now the server's pump waits for credit
  }
  assert.ok(got > 0 && got <= CHUNK, `${got} bytes read`)

  const made = await withTimeout(sourceClosed, 5000, "the handler's source to be closed")
  // The pump stopped at the channel's bound, not after running the generator on for ever.
  assert.ok(made < 1024, `${made} chunks made`)
  // One round trip: anything the server reports about that stream is reported by now.
  assert.equal(await withTimeout(l.request('echo', 'after'), 5000, 'an echo after the cancel'), 'after')
  assert.deepEqual(
    serverErrors.map((e) => e.code),
    [],
  )

  await waitFor(() => l.getStats().pendingCalls === 0, {
    what: 'the cancelled call to leave the pending table',
    describe: () => `${l.getStats().pendingCalls} pending`,
  })
  // Nothing left open: a graceful close finishes well inside closeTimeoutMs (5,000 ms).
  await withTimeout(l.close(), 2000, 'the link to close')
  link = undefined
})

/**
 * A second client process: `node --import tsx watcher.ts ADDRESS TOPIC`. Subscribes to TOPIC,
 * prints `subscribed` once the service has the subscription, counts events until the last one,
 * prints `received N of M` and exits.
 */
import { connect } from '../../src/index.ts'

const [address, topic] = process.argv.slice(2)
if (address === undefined || topic === undefined) throw new Error('usage: watcher.ts ADDRESS TOPIC')

const link = await connect(address)
const events = link.subscribe<{ n?: number; last?: boolean; sent?: number }>(topic, { maxQueued: 100_000 })
await events.ready
process.stdout.write('subscribed\n')

let received = 0
let inOrder = true
for await (const ev of events) {
  if (ev.last) {
    process.stdout.write(`received ${received} of ${ev.sent} in order: ${inOrder}\n`)
    break
  }
  if (ev.n !== received) inOrder = false
  received++
}
await link.close()

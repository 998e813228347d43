/**
 * A peer of the demo's steps 7 and 8: `node --import tsx named.ts ROLE` with
 * SWITCHBOARD_RUNTIME_DIR set (and, for step 8, SWITCHBOARD_DEMO_DIRECTORY: the daemon to join
 * through). ROLE 'pricing' joins as 'pricing' and answers `quote`; ROLE 'desk' joins as 'desk',
 * subscribes to 'prices' and, at the event marked last, prints how many it got and whether
 * each came once and in order. Prints `ready INSTANCE` once joined (and, for a desk, subscribed).
 */
import { join } from '../../src/index.ts'

const role = process.argv[2]
const directory = process.env['SWITCHBOARD_DEMO_DIRECTORY']
const peer = await join({
  name: role === 'desk' ? 'desk' : 'pricing',
  ...(directory === undefined ? {} : { directory }),
})
if (role === 'desk') {
  let expected = 0
  let inOrder = true
  const prices = peer.subscribe<{ n: number; last?: boolean }>('prices', (p) => {
    if (p.last) {
      process.stdout.write(`got ${expected} once each and in order: ${inOrder}\n`)
      return
    }
    if (p.n !== expected) inOrder = false
    expected++
  })
  await prices.ready
} else {
  peer.handle('quote', () => ({ instance: peer.instance, eur: 9.5 }))
}
process.stdout.write(`ready ${peer.instance}\n`)
process.stdin.resume()
process.stdin.on('end', () => void peer.leave().then(() => process.exit(0)))

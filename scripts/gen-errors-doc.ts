/**
 * Writes docs/errors.md from the code table in src/errors.ts plus the advice below.
 *
 *   node --import tsx scripts/gen-errors-doc.ts
 *
 * A new code in src/errors.ts needs an entry in ADVICE first (the script refuses otherwise).
 * test/unit/errors-doc.test.ts fails when docs/errors.md disagrees with src/errors.ts, so run
 * this after changing the table.
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type ErrorCode, ErrorCodes } from '../src/errors.ts'

interface Advice {
  /** What happened, in a sentence (may say more than the short default message). */
  meaning: string
  /** What the caller should do about it. */
  action: string
}

export const ADVICE: Record<ErrorCode, Advice> = {
  PROTOCOL_ERROR: {
    meaning: 'The peer sent bytes that break the protocol spec.',
    action:
      'The connection is closed. Not fixable by retrying: a bug or an incompatible or hostile peer. Log it with both versions.',
  },
  FRAME_MALFORMED: {
    meaning: 'A frame could not be decoded (truncated, bad varint, unknown required field).',
    action: 'The connection is closed. Treat as a peer bug or corruption; report it with both versions.',
  },
  FRAME_TOO_LARGE: {
    meaning: 'A length field exceeded its limit; rejected when read, before any buffering.',
    action:
      'If the size is legitimate, raise the matching limit on the receiving side; otherwise the peer misbehaves.',
  },
  VERSION_MISMATCH: {
    meaning: 'The two ends share no protocol version.',
    action: 'Upgrade the older end. Retrying unchanged cannot succeed.',
  },
  NEGOTIATION_FAILED: {
    meaning:
      'The hello exchange found no codec, or no security mode, both ends accept (compression falls back to none; it never fails a negotiation).',
    action: 'Configure at least one codec and one security mode that both ends support.',
  },
  HELLO_TOO_LARGE: {
    meaning: 'A hello exceeded `maxHelloBytes` (64 KiB by default).',
    action:
      'Offer fewer protocols, methods or events on one connection, or raise `maxHelloBytes` on both ends.',
  },
  FLOW_CONTROL: {
    meaning: 'The peer sent more data than the credit it was given.',
    action: 'The connection is closed. A peer bug; report it.',
  },
  BAD_PREAMBLE: {
    meaning: 'The other end is not speaking switchboard (wrong magic bytes).',
    action: 'Check the address: it probably points at another service.',
  },
  COMPRESSION_ERROR: {
    meaning: 'A record failed to decompress, or decompressed past its limit.',
    action: 'The connection is closed. Corruption or a misbehaving peer; report it.',
  },
  INTEGRITY: {
    meaning: 'A record failed authentication: modified, replayed, reordered or under the wrong key.',
    action:
      'The connection is closed. Do not retry blindly: something on the path tampers with or corrupts traffic.',
  },
  INACTIVITY_TIMEOUT: {
    meaning: 'Nothing arrived from the peer within the inactivity timeout (keepalive pings included).',
    action:
      'Reconnect (a link does so by itself). If frequent, look for a blocked event loop on the peer or a lossy network, or raise the timeout.',
  },
  KEEPALIVE_FLOOD: {
    meaning: 'The peer sent keepalive pings faster than allowed; closed as a denial-of-service guard.',
    action: "Fix the peer's keepalive settings.",
  },
  CANCELLED: {
    meaning: 'The operation was cancelled, by the caller (AbortSignal) or by the peer.',
    action: 'Nothing when you cancelled it yourself; otherwise the peer gave up on the call.',
  },
  DEADLINE: {
    meaning: 'The deadline passed before a response came. The remote handler may still have run.',
    action:
      'Retry with a new deadline if the operation is idempotent; otherwise check the outcome first. A link never resends it by itself unless marked idempotent.',
  },
  METHOD_NOT_FOUND: {
    meaning: 'The peer has no handler for this method or protocol.',
    action: 'Check the method name and the protocol version both ends use.',
  },
  HANDLER_ERROR: {
    meaning: 'The remote handler threw; `details` carry its message (never its stack).',
    action: 'Fix the input or the handler; retrying unchanged gives the same result.',
  },
  MESSAGE_TOO_LARGE: {
    meaning: 'A message exceeded `maxMessageBytes`.',
    action: 'Send it as a stream, or raise `maxMessageBytes` on both ends.',
  },
  CODEC_ERROR: {
    meaning: 'A payload could not be encoded or decoded with the negotiated codec.',
    action: 'Send values the codec supports, and make sure both ends use the same contract.',
  },
  CHANNEL_LIMIT: {
    meaning: 'The connection has as many open channels as the peer allows.',
    action: 'Retry after a short back-off, or lower the number of concurrent calls.',
  },
  REFUSED: {
    meaning: 'The peer refused: not authorized, not on the allow-list, or a third process joining a pair.',
    action: 'Check credentials and permissions. Retrying unchanged is refused again.',
  },
  APP_ERROR: {
    meaning:
      'The remote handler rejected the call on purpose with an application error (its own code in `details`).',
    action: 'Handle it as your application defines.',
  },
  GOING_AWAY: {
    meaning: 'The peer is shutting down (goaway); work above its last processed id was not started.',
    action: 'Retry, on a new connection or another instance; a link resends not-started messages by itself.',
  },
  CONNECTION_LOST: {
    meaning: 'The connection dropped while the operation was in flight: its outcome is unknown.',
    action:
      'Retry if the operation is idempotent (a link does so when it is marked idempotent); otherwise check the outcome first.',
  },
  SESSION_CLOSED: {
    meaning: 'The session or connection was already closed when the operation was made.',
    action: 'Open a new connection; this object will not work again.',
  },
  HANDSHAKE_TIMEOUT: {
    meaning: 'The handshake did not finish in time.',
    action: 'Retry with back-off; if persistent, the peer is overloaded or the network is very slow.',
  },
  HANDSHAKE_FAILED: {
    meaning: 'The security handshake failed: wrong secret, unknown key, or a bad certificate.',
    action: 'Fix the secret, keys or certificates. Retrying unchanged fails again.',
  },
  HANDSHAKE_BUSY: {
    meaning: 'The listener has too many handshakes in progress.',
    action: 'Retry with back-off.',
  },
  QUEUE_FULL: {
    meaning: 'The outbound queue of messages not yet started is full (`maxQueuedBytes`).',
    action: 'Slow down and retry after a back-off, or raise `maxQueuedBytes`.',
  },
  SLOW_CONSUMER: {
    meaning:
      "A subscriber with the `disconnect` policy fell behind: its queue at the publisher was full, so the publisher ended that subscription. The subscriber's iterator throws it; the publisher's report lists the subscriber failed with it.",
    action:
      'Read events faster or raise `maxQueued`, or choose `block` (wait) or a dropping policy; subscribe again to start over.',
  },
  INTERNAL: {
    meaning:
      'An internal error: a bug in switchboard, or an error code from a newer peer that this version does not know.',
    action: 'Report it, with versions of both ends.',
  },
  ADDRESS_INVALID: {
    meaning: 'The address string could not be parsed.',
    action: 'Fix the address (see the address syntax in the README).',
  },
  SCHEME_UNSUPPORTED: {
    meaning: 'The address scheme is not supported by this version.',
    action: 'Use a supported scheme: unix:, pipe:, tcp://, tcp4://, tcp6://, tls:// or a bare name.',
  },
  PEER_NAME_UNSUPPORTED: {
    meaning: '`sb:NAME` was given where only a transport address works.',
    action: 'Join as a peer and connect by name through it.',
  },
  ADDRESS_IN_USE: {
    meaning: 'A live listener already owns this address.',
    action: 'Pick another address, or stop the other listener.',
  },
  NOT_A_SOCKET: {
    meaning: 'A file that is not a socket exists at the socket path; it is never deleted for you.',
    action: 'Remove the file yourself or choose another path.',
  },
  INSECURE_TRANSPORT: {
    meaning: 'This transport needs security: TCP, or a unix path outside an owner-only directory.',
    action: 'Configure a secret, keys or TLS, or write `insecure: true` if you really mean it.',
  },
  CONNECT_FAILED: {
    meaning: 'Could not connect: nobody listening, refused, or unreachable.',
    action: 'Retry later (a link does so per its reconnect policy); check that the peer is up.',
  },
  PAIR_FULL: {
    meaning: 'A pair address already joins two processes; a third is refused.',
    action: 'Use another pair address, or connect() to the serving process as an ordinary client.',
  },
  LISTEN_FAILED: {
    meaning: 'Could not listen on the address (for example permission denied or a missing directory).',
    action: 'Read `cause` for the system error, fix the address or permissions, and try again.',
  },
  TRANSPORT_ERROR: {
    meaning: 'The underlying socket or pipe failed.',
    action: 'Reconnect and retry, following the delivery rules for in-flight messages.',
  },
  INVALID_ARGUMENT: {
    meaning: 'An argument or option passed to the API is invalid.',
    action: 'Fix the call; the message names the argument.',
  },
  AUTH_FAILED: {
    meaning:
      "The security handshake failed authentication: the two ends hold different secrets (or passphrases), or the handshake bytes were altered in transit. From the daemon: a login failed (a wrong password or unknown user, or a cookie proof that does not match the daemon's cookie for that uid, or a cookie the client could not read).",
    action:
      'Check that both ends use the same `secret`, `secretFile` or `passphrase`. At the daemon: check the user name and password, or that the process runs as the OS user whose uid it claims. Retrying unchanged cannot succeed; repeated failures from one address may be a guesser (the daemon answers them ever more slowly).',
  },
  PEER_NOT_ALLOWED: {
    meaning:
      "In `keys` mode, one end's static public key is not in the other end's `allow` list (or the allow callback said no). Both ends get this code.",
    action:
      "Add the peer's public key (`switchboard pubkey FILE`) to `allow` on the refusing end, or check that you reach the process you meant to (a wrong key may mean a wrong or hostile peer).",
  },
  PUBLISH_TIMEOUT: {
    meaning:
      "A subscriber with the `block` policy took no event for `publishTimeout` (default 5 s) while its queue at the publisher was full, or its connection stayed down that long. The publisher ends that subscription; its reports list the subscriber as failed with this code, and the subscriber's iterator throws it.",
    action:
      "Read events faster, raise `maxQueued` or the publisher's `publishTimeout`/`maxQueuedBytesPerSubscriber`, or choose a dropping policy (`drop-oldest`, `drop-newest`) if losing events is acceptable. Subscribe again to start over.",
  },
  NOT_PERMITTED: {
    meaning:
      "The daemon's policy refused the call: this connection has not authenticated (no cookie proof, password or known key), or its principal (an OS user or an account) may not register that name or reach that peer. Traffic between two different OS users needs an explicit policy entry.",
    action:
      "Authenticate first (a local client proves its OS user with the cookie challenge; a remote one logs in), or ask the daemon's administrator for a policy entry (docs/daemon.md).",
  },
  DAEMON_LIMIT: {
    meaning:
      'The daemon refused a registration over one of its limits: entries per connection, entries in total, or the size of one entry.',
    action:
      "Register fewer or smaller entries on one connection, or raise the limit in the daemon's config (docs/daemon.md).",
  },
  LEASE_UNKNOWN: {
    meaning:
      'A heartbeat named an instance the daemon holds no lease for on this connection: the lease expired, or the daemon restarted, or the client reconnected.',
    action: 'Register again (the daemon directory does this by itself).',
  },
  KEY_FILE_INSECURE: {
    meaning: 'A private key or secret file is readable or writable by group or others (as ssh refuses).',
    action: 'Run `chmod 600 FILE` (and check who else could have read it; if anyone could, make a new key).',
  },
  KEY_FILE_INVALID: {
    meaning:
      'A key or secret file is missing, unreadable, or not in the documented format (docs/security.md).',
    action: 'Regenerate it with `switchboard keygen` (or `keygen --secret`), or fix the path.',
  },
  PEER_NOT_FOUND: {
    meaning:
      "No live peer in the directory has this name (none joined, or every instance of it left or died). `request`/`send` to a name, `resolve()` and the CLI's `sb:NAME` addresses report it.",
    action:
      'Check the name (`switchboard ls` lists live peers) and that the peer runs under the same runtime directory (`SWITCHBOARD_RUNTIME_DIR`); retry once it has joined.',
  },
  NO_PORT_AVAILABLE: {
    meaning:
      '`join` was given `allowedPorts` and every one of them is taken on the chosen IP, so the peer has no address to register.',
    action: 'Widen `allowedPorts`, free one of the ports, or leave it out to let the system pick.',
  },
  OUTCOME_UNKNOWN: {
    meaning:
      'The connection was lost after some or all of a non-idempotent message was written and before its response: the peer may or may not have run it. The link did not resend it (see docs/delivery.md).',
    action:
      'Check on the peer whether it happened (or mark the call `idempotent: true` if running it twice is harmless, so the link resends it).',
  },
  NOT_CONNECTED: {
    meaning:
      'The message was not sent: it was `oneShot: true` and found no connection up, or it waited for a joined peer that left the directory meanwhile.',
    action:
      'Send it again later, or drop `oneShot` so it waits in the queue for a connection; by name, call again to reach another instance.',
  },
  INPUT_INVALID: {
    meaning:
      "A contract's request input failed the method's input schema on the receiving side; the handler did not run. `details.data.issues` lists each issue's `path` and `message` (at most 20, each cut to 200 characters; `truncated` counts the ones left out).",
    action:
      'Fix the caller: send what the protocol definition says (the TypeScript types of `use(P)` say it too).',
  },
  OUTPUT_INVALID: {
    meaning:
      "A contract handler returned a value that failed the method's output schema; it was not sent. `details.data.issues` lists the issues as for `INPUT_INVALID`.",
    action: 'Fix the handler on the answering side: it broke its own protocol.',
  },
  PROTOCOL_UNSUPPORTED: {
    meaning:
      "`use(P)` (or a call through it): the other side's hello does not offer protocol `P`, or offers another major version. Nothing was sent.",
    action: 'Connect to a peer that implements the protocol, or use the major version it offers.',
  },
  METHOD_NOT_OFFERED: {
    meaning:
      "A method or event of a contract that the other side's version of the protocol lacks (an older minor). Nothing was sent.",
    action: 'Upgrade the other side, or check `describe` for what it offers before calling.',
  },
  EVENT_INVALID: {
    meaning:
      "A contract's event failed its schema on the subscriber's side; it was dropped, counted in `getStats().invalidEvents` and published on the `switchboard:error` diagnostics channel. Never thrown to a caller.",
    action: 'Fix the publisher.',
  },
  ORDER_BROKEN: {
    meaning:
      'An `ordered: true` message sent earlier to the same destination failed, so this one, queued behind it, failed too instead of overtaking it. It was never sent.',
    action: 'Handle the first failure, then send the rest again in the order you need.',
  },
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

export function renderErrorsDoc(): string {
  const codes = Object.keys(ErrorCodes) as ErrorCode[]
  const missing = codes.filter((c) => ADVICE[c] === undefined)
  if (missing.length > 0) {
    throw new Error(`gen-errors-doc: add advice for ${missing.join(', ')} in scripts/gen-errors-doc.ts`)
  }
  const lines = [
    '# Errors',
    '',
    '<!-- Generated by scripts/gen-errors-doc.ts from src/errors.ts; edit the advice there and re-run.',
    '     test/unit/errors-doc.test.ts checks this table against src/errors.ts. -->',
    '',
    'Every failure a caller sees is a `SwitchboardError` with a stable string `code`.',
    'Check it with `isSwitchboardError(err, code)` or `err instanceof SwitchboardError`;',
    'both work even when two copies of the package are loaded.',
    '',
    '- `err.code`: the string code below. Codes never change meaning.',
    '- `err.wireCode`: the number sent in REPLY, END, RESET, CANCEL and GOAWAY frames. "local" codes never cross',
    '  the wire. A number a peer sends that this version does not know becomes `INTERNAL`.',
    '- `err.retryable`: true when the same operation may succeed if tried again unchanged, after a',
    '  back-off. Retrying is still only safe when the operation is idempotent.',
    '- `err.cause`: the underlying error (a socket error, say), when there is one.',
    '- `err.details`: JSON-safe details, never secrets.',
    '',
    '| Code | Wire | Retryable | Meaning | What the caller should do |',
    '|---|---|---|---|---|',
  ]
  for (const code of codes) {
    const info = ErrorCodes[code]
    const advice = ADVICE[code]
    lines.push(
      `| \`${code}\` | ${info.wire === 0 ? 'local' : info.wire} | ${info.retryable ? 'yes' : 'no'} | ` +
        `${cell(advice.meaning)} | ${cell(advice.action)} |`,
    )
  }
  return `${lines.join('\n')}\n`
}

const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]
if (invokedDirectly) {
  const target = fileURLToPath(new URL('../docs/errors.md', import.meta.url))
  writeFileSync(target, renderErrorsDoc())
  console.log(`wrote ${target} (${Object.keys(ErrorCodes).length} codes)`)
}

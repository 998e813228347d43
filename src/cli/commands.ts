/**
 * Every command of the `switchboard` CLI, in the order help lists them. A new command is one
 * file exporting a `Command` and one line here.
 */
import { call } from './call.ts'
import type { Command } from './command.ts'
import { daemon } from './daemon.ts'
import { describe } from './describe.ts'
import { keygen } from './keygen.ts'
import { ls } from './ls.ts'
import { pub } from './pub.ts'
import { pubkey } from './pubkey.ts'
import { send } from './send.ts'
import { serve } from './serve.ts'
import { sub } from './sub.ts'

export const commands: readonly Command[] = [
  serve,
  call,
  send,
  describe,
  ls,
  pub,
  sub,
  daemon,
  keygen,
  pubkey,
]

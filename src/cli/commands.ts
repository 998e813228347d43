/**
 * Every command of the `switchboard` CLI, in the order help lists them. A new command is one
 * file exporting a `Command` and one line here.
 */
import { call } from './call.ts'
import type { Command } from './command.ts'
import { describe } from './describe.ts'
import { keygen } from './keygen.ts'
import { pubkey } from './pubkey.ts'
import { serve } from './serve.ts'

export const commands: readonly Command[] = [serve, call, describe, keygen, pubkey]

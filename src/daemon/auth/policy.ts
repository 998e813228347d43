/**
 * Which names a principal may register and reach. From the `policy` object of the auth config
 * (docs/daemon.md): keys name a principal, `os-user:<name>`, `account:<name>`, or `*` for every
 * principal; values list glob patterns (`*` any run of characters, `?` one; nothing else is
 * special):
 *
 *   "policy": {
 *     "os-user:alice":   { "register": ["billing.*"], "reach": ["audit.*"] },
 *     "account:ci":      { "register": [], "reach": ["billing.*", "build-?"] },
 *     "*":               { "reach": ["public.*"] }
 *   }
 *
 * - register: a principal may register a name matching its own entry's or the `*` entry's
 *   `register` patterns; when neither entry has `register`, it may register any name
 *   (registering alone reaches nobody: reaching across principals needs an entry).
 * - reach: a principal always reaches peers of its own principal (same OS user, same account);
 *   a peer of another principal — another OS user above all — only through a `reach` pattern
 *   (its own entry's or the `*` entry's) matching the peer's registered name.
 */
import { sbError } from '../../errors.ts'
import type { Principal } from '../auth.ts'

export interface PolicyEntry {
  readonly register?: readonly string[]
  readonly reach?: readonly string[]
}

export type PolicyConfig = Readonly<Record<string, PolicyEntry>>

interface Compiled {
  readonly register: readonly RegExp[] | undefined
  readonly reach: readonly RegExp[]
}

const PRINCIPAL_KEY = /^(\*|(os-user|account):[A-Za-z0-9._@-]{1,64})$/

/** A glob (`*`, `?`) as an anchored RegExp; every other character is literal. */
export function globToRegExp(glob: string): RegExp {
  let source = ''
  for (const ch of glob) {
    if (ch === '*') source += '.*'
    else if (ch === '?') source += '.'
    else source += ch.replace(/[\\^$.|+(){}[\]]/g, '\\$&')
  }
  return new RegExp(`^${source}$`, 's')
}

function patterns(value: unknown, where: string): RegExp[] {
  if (!Array.isArray(value) || value.some((p) => typeof p !== 'string' || p.length === 0 || p.length > 255)) {
    throw sbError('INVALID_ARGUMENT', `${where}: a list of name patterns (1–255 characters each)`)
  }
  return value.map(globToRegExp)
}

/** `os-user:<name>` or `account:<name>`: the policy key of a principal. */
export function principalKey(p: Principal): string {
  return `${p.kind}:${p.name}`
}

function samePrincipal(a: Principal, b: Principal): boolean {
  if (a.kind !== b.kind) return false
  if (a.kind === 'os-user' && a.uid !== undefined && b.uid !== undefined) return a.uid === b.uid
  return a.name === b.name
}

export class Policy {
  readonly #entries = new Map<string, Compiled>()

  constructor(config: PolicyConfig = {}) {
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw sbError('INVALID_ARGUMENT', 'policy must be an object of principal → { register, reach }')
    }
    for (const [key, entry] of Object.entries(config)) {
      const where = `policy.${key}`
      if (!PRINCIPAL_KEY.test(key)) {
        throw sbError('INVALID_ARGUMENT', `${where}: keys are os-user:<name>, account:<name> or *`)
      }
      if (typeof entry !== 'object' || entry === null)
        throw sbError('INVALID_ARGUMENT', `${where}: not an object`)
      this.#entries.set(key, {
        register: entry.register === undefined ? undefined : patterns(entry.register, `${where}.register`),
        reach: entry.reach === undefined ? [] : patterns(entry.reach, `${where}.reach`),
      })
    }
  }

  mayRegister(p: Principal, name: string): boolean {
    const own = this.#entries.get(principalKey(p))?.register
    const all = this.#entries.get('*')?.register
    if (own === undefined && all === undefined) return true
    return [...(own ?? []), ...(all ?? [])].some((re) => re.test(name))
  }

  mayReach(from: Principal, to: Principal, name: string): boolean {
    if (samePrincipal(from, to)) return true
    const own = this.#entries.get(principalKey(from))?.reach ?? []
    const all = this.#entries.get('*')?.reach ?? []
    return [...own, ...all].some((re) => re.test(name))
  }
}

/** Throws NOT_PERMITTED unless the policy lets `p` register `name`. */
export function requireRegister(auth: Pick<Policy, 'mayRegister'>, p: Principal, name: string): void {
  if (!auth.mayRegister(p, name)) {
    throw sbError('NOT_PERMITTED', `${principalKey(p)} may not register ${JSON.stringify(name)}`, {
      details: { principal: principalKey(p), name },
    })
  }
}

/** Throws NOT_PERMITTED unless the policy lets `from` reach `name`, registered by `to`. */
export function requireReach(
  auth: Pick<Policy, 'mayReach'>,
  from: Principal,
  to: Principal,
  name: string,
): void {
  if (!auth.mayReach(from, to, name)) {
    throw sbError(
      'NOT_PERMITTED',
      `${principalKey(from)} may not reach ${JSON.stringify(name)} of ${principalKey(to)}`,
      {
        details: { from: principalKey(from), to: principalKey(to), name },
      },
    )
  }
}

/**
 * The daemon's authentication seam: who a client is (a Principal) and what it may do. The
 * daemon server asks this interface and nothing else; `createDaemonAuth` (auth/create.ts) is the
 * implementation, composed of the cookie challenge for local OS users, the accounts file, and the
 * policy. Every failed proof is AUTH_FAILED; every refusal by the policy is NOT_PERMITTED.
 */

/** A proven client: a local OS user (cookie challenge) or an account (password or public key). */
export interface Principal {
  readonly kind: 'os-user' | 'account'
  readonly name: string
  readonly uid?: number
}

export interface DaemonAuth {
  /** Issues a one-time challenge for a client that claims `uid`, naming the cookie to prove it with. */
  beginLocal(uid: number): Promise<{ cookieId: string; challenge: string }>
  /** Checks the client's proof of that cookie; the OS user, or AUTH_FAILED. */
  finishLocal(
    uid: number,
    cookieId: string,
    challenge: string,
    clientChallenge: string,
    proof: string,
  ): Promise<Principal>
  /** Checks an account's password (slowed per `source` after failures); the account, or AUTH_FAILED. */
  password(user: string, password: string, source: string): Promise<Principal>
  /** The account whose public key (base64url X25519) the client proved in its handshake, if any. */
  byPublicKey(publicKey: string): Principal | undefined
  /** Whether `p` may register `name`. */
  mayRegister(p: Principal, name: string): boolean
  /** Whether `from` may reach the peer registered as `name` by `to`. */
  mayReach(from: Principal, to: Principal, name: string): boolean
}

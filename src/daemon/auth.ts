/**
 * The seam between the daemon and whoever decides who a client is and what it may do: the
 * daemon calls these; an implementation (cookie challenge for local OS users, accounts with
 * scrypt-hashed passwords or public keys, a policy of names) is passed in.
 *
 * A principal is kept per connection: a client proves itself once on a connection, and a new
 * connection (a reconnect, a daemon restart) proves itself again.
 */

/** Who a connection has proven to be. */
export interface Principal {
  readonly kind: 'os-user' | 'account'
  readonly name: string
  readonly uid?: number
}

export interface DaemonAuth {
  /** A local client claims OS user `uid`: a cookie is made in that user's own 0700 directory. */
  beginLocal(uid: number): Promise<{ cookieId: string; challenge: string }>
  /** The client's proof that it read the cookie; AUTH_FAILED when it did not. */
  finishLocal(
    uid: number,
    cookieId: string,
    challenge: string,
    clientChallenge: string,
    proof: string,
  ): Promise<Principal>
  /** An account's password, from `source` (the connection's remote address); AUTH_FAILED when wrong. */
  password(user: string, password: string, source: string): Promise<Principal>
  /** The account whose public key a client authenticated with, if any. */
  byPublicKey(publicKey: string): Principal | undefined
  /** May `p` register a peer under `name`? */
  mayRegister(p: Principal, name: string): boolean
  /** May `from` reach `to`'s peer `name` (through the relay)? */
  mayReach(from: Principal, to: Principal, name: string): boolean
}

/**
 * Names the daemon and its clients share: defaults, the changes topic.
 */

/** Where `switchboard daemon` listens by default. */
export const DEFAULT_DAEMON_SOCKET = '/run/switchboard/daemon.sock'
/** The daemon's TCP port when an address names none. */
export const DEFAULT_DAEMON_PORT = 4455
/** The topic on which the daemon publishes every join, leave and change. */
export const DAEMON_CHANGES_TOPIC = 'daemon.changes'
/**
 * Where the daemon keeps each local user's 0700 cookie directory by default, relative to its
 * socket's directory (`/run/switchboard/users` for the default socket); the file format is
 * daemon-cookie.ts's.
 */
export const DAEMON_USERS_DIR = 'users'

/**
 * When a direction of record protection must rekey (DESIGN.md §5): after 2^20 records or 1 GiB,
 * whichever comes first. The record layer counts; CipherState.rekey() (Noise §11.3) does the work.
 */

/** Records sealed (or opened) under one key before a rekey is due. */
export const REKEY_AFTER_RECORDS = 2 ** 20
/** Plaintext bytes sealed (or opened) under one key before a rekey is due: 1 GiB. */
export const REKEY_AFTER_BYTES = 2 ** 30

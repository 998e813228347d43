/** The `code` of a Node system error (ENOENT, ECONNREFUSED, ESRCH…), or 'UNKNOWN'. */
export function errnoCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string')
    return err.code
  return 'UNKNOWN'
}

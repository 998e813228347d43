/**
 * The `code` of a Node system error (ENOENT, ESRCH…), or 'UNKNOWN'. A copy of transport/'s
 * helper: discovery/ may not import transport/ (DESIGN.md §2).
 */
export function errnoCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string')
    return err.code
  return 'UNKNOWN'
}

/** What the demo's two processes agree on: the `method` number in each channel's OPEN header. */
export const Method = {
  /** Request: the server echoes the channel's bytes back, then ends. */
  ECHO: 1,
  /** One-way: the server counts the message and sends nothing back. */
  TICK: 2,
  /** Request: the server replies with the number of TICK messages seen so far (decimal text). */
  COUNT: 3,
} as const

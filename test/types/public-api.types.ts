/**
 * Type tests of the public API, compiled by `npm test` (typecheck; tsconfig.json includes test/)
 * and never run. They prove that the generics of handle<In, Out>() and request<T>() type handler
 * arguments and results, that misuse does not compile (each `@ts-expect-error` fails the build
 * if its line starts compiling), and that no `any` leaks into the exported types.
 */
import {
  type Codec,
  type Compressor,
  type ConnectionEvents,
  type ConnectionStats,
  type ConnectOptions,
  connect,
  type defaultLimits,
  type defaultSessionOptions,
  type ErrorCode,
  type ErrorCodes,
  type Handler,
  type HandlerContext,
  isSwitchboardError,
  type Limits,
  type Link,
  type LinkEvents,
  type LinkState,
  type LinkStats,
  type ListenOptions,
  type listen,
  type PairOptions,
  pair,
  type RequestOptions,
  type RpcConnection,
  type SendOptions,
  type Server,
  type ServerEvents,
  type SubscribeOptions,
  type Subscription,
  SwitchboardError,
} from '../../src/index.ts'

// ---- helpers ---------------------------------------------------------------------------------

export type IsAny<T> = 0 extends 1 & T ? true : false
export type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false
/** Compiles only when its argument is `true`. */
export function expect<_T extends true>(): void {}

type Prev = [never, 0, 1, 2, 3, 4, 5]
/**
 * Library types whose own members are declared by TypeScript's lib or @types/node (some with
 * `any`, e.g. AbortSignal.reason): an `any` there is not ours, so the walk stops at them.
 */
// biome-ignore lint/complexity/noBannedTypes: EventEmitter's listeners() returns Function[]; the walk stops there
type Opaque = Uint8Array | ArrayBuffer | AbortSignal | Date | RegExp | Function
/**
 * The paths (as strings) inside T that are `any`, down to `Depth` levels: object members,
 * function parameters and results, promise values, iteration values, array/Map/Set elements.
 * `never` when there is none.
 */
type AnyPaths<T, Path extends string = '', Depth extends number = 5> =
  IsAny<T> extends true
    ? Path extends ''
      ? '(root)'
      : Path
    : [Depth] extends [never]
      ? never
      : T extends (...args: infer A) => infer R
        ? AnyPaths<R, `${Path}()`, Prev[Depth]> | ParamAnyPaths<A, Path, Prev[Depth]>
        : T extends Opaque
          ? never
          : T extends PromiseLike<infer V>
            ? AnyPaths<V, `${Path}<awaited>`, Prev[Depth]>
            : T extends readonly (infer E)[]
              ? AnyPaths<E, `${Path}[]`, Prev[Depth]>
              : T extends ReadonlyMap<infer K, infer V>
                ? AnyPaths<K, `${Path}<key>`, Prev[Depth]> | AnyPaths<V, `${Path}<value>`, Prev[Depth]>
                : T extends ReadonlySet<infer V>
                  ? AnyPaths<V, `${Path}<value>`, Prev[Depth]>
                  : T extends AsyncIterable<infer V>
                    ? AnyPaths<V, `${Path}<item>`, Prev[Depth]>
                    : T extends object
                      ? {
                          [K in keyof T & string]-?: AnyPaths<T[K], `${Path}.${K}`, Prev[Depth]>
                        }[keyof T & string]
                      : never
type ParamAnyPaths<A, Path extends string, Depth extends number> = A extends readonly unknown[]
  ? number extends A['length']
    ? AnyPaths<A[number], `${Path}(...args)`, Depth> // a rest parameter: (...args: X[])
    : { [I in keyof A & `${number}`]: AnyPaths<A[I], `${Path}(arg ${I})`, Depth> }[keyof A & `${number}`]
  : never
/** Compiles only when T has no `any` inside (the error names the first paths found). */
export function expectNoAny<T>(..._none: AnyPaths<T> extends never ? [] : [anyAt: AnyPaths<T>]): void {}

// ---- no `any` in the exported types ------------------------------------------------------------

expectNoAny<Link>()
expectNoAny<Server>()
expectNoAny<RpcConnection>()
expectNoAny<Subscription>()
expectNoAny<Subscription<{ n: number }>>()
expectNoAny<SwitchboardError>()
expectNoAny<typeof ErrorCodes>()
expectNoAny<ErrorCode>()
expectNoAny<Handler>()
expectNoAny<HandlerContext>()
expectNoAny<RequestOptions>()
expectNoAny<SendOptions>()
expectNoAny<SubscribeOptions>()
expectNoAny<ConnectOptions>()
expectNoAny<ListenOptions>()
expectNoAny<PairOptions>()
expectNoAny<Limits>()
expectNoAny<typeof defaultLimits>()
expectNoAny<typeof defaultSessionOptions>()
expectNoAny<Codec>()
expectNoAny<Compressor>()
expectNoAny<LinkStats>()
expectNoAny<ConnectionStats>()
expectNoAny<LinkEvents>()
expectNoAny<ServerEvents>()
expectNoAny<ConnectionEvents>()
expectNoAny<typeof connect>()
expectNoAny<typeof listen>()
expectNoAny<typeof pair>()
expectNoAny<typeof isSwitchboardError>()

// The helper itself catches an any, at any depth (else the lines above would prove nothing).
/** `any`, named without the keyword (JSON.parse is declared to return it). */
type LibAny = ReturnType<typeof JSON.parse>
// @ts-expect-error an `any` member
expectNoAny<{ a: { b: LibAny } }>()
// @ts-expect-error an `any` parameter
expectNoAny<{ f(x: LibAny): void }>()
// @ts-expect-error an `any` promise value
expectNoAny<() => Promise<LibAny>>()
// @ts-expect-error an EventEmitter without an event map has `any` listener arguments
expectNoAny<import('node:events').EventEmitter>()

// The specific members the issue names.
expect<Equal<Awaited<ReturnType<Link['request']>>, unknown>>()
expect<Equal<Parameters<Parameters<Server['handle']>[1]>[1], HandlerContext>>()
expect<Equal<Parameters<Handler>[0], unknown>>()
expect<Equal<ErrorCode, keyof typeof ErrorCodes>>()
expect<Equal<SwitchboardError['code'], ErrorCode>>()
expect<Equal<LinkState, 'connecting' | 'ready' | 'reconnecting' | 'closed'>>()

// ---- generics type handlers and results --------------------------------------------------------

interface AddIn {
  a: number
  b: number
}

async function usage(server: Server, link: Link): Promise<void> {
  server.handle<AddIn, number>('add', (data, ctx) => {
    expect<Equal<typeof data, AddIn>>()
    expect<Equal<typeof ctx, HandlerContext>>()
    expect<Equal<typeof ctx.signal, AbortSignal>>()
    expect<Equal<typeof ctx.deadline, number | undefined>>()
    expect<Equal<typeof ctx.body, AsyncIterable<Uint8Array> | undefined>>()
    return data.a + data.b
  })
  // Inferred from an annotated handler.
  server.handle('upper', async (data: string) => data.toUpperCase())
  // @ts-expect-error the handler must return the declared Out (number), not a string
  server.handle<AddIn, number>('add', (data) => `${data.a}`)
  // @ts-expect-error AddIn has no member c
  server.handle<AddIn, number>('add', (data) => data.c)
  // @ts-expect-error a handler takes (data, ctx): a third required parameter is never passed
  server.handle('three', (_data: unknown, _ctx: HandlerContext, _extra: string) => 1)

  const sum = await link.request<number>('add', { a: 1, b: 2 })
  expect<Equal<typeof sum, number>>()
  const untyped = await link.request('add', { a: 1, b: 2 })
  expect<Equal<typeof untyped, unknown>>()
  // @ts-expect-error an unknown result must be narrowed before use
  untyped.toFixed()
  // @ts-expect-error request<number> does not resolve to a string
  const wrong: string = await link.request<number>('add')
  void wrong
  // @ts-expect-error the method name is a string
  await link.request(42)
  // @ts-expect-error timeout is a number of ms
  await link.request('add', {}, { timeout: '5s' })
  // @ts-expect-error signal is an AbortSignal
  await link.request('add', {}, { signal: true })

  const sent: Promise<void> = link.send('log', { line: 'x' })
  await sent
  const published: Promise<void> = link.publish('tick', { n: 1 })
  await published

  const sub = link.subscribe<{ n: number }>('tick')
  for await (const ev of sub) {
    expect<Equal<typeof ev, { n: number }>>()
    break
  }
  for await (const ev of link.subscribe('tick')) {
    expect<Equal<typeof ev, unknown>>()
    break
  }

  // Lifecycle events are typed; remote events are not on/once names.
  link.on('state', (from, to) => {
    expect<Equal<typeof from, LinkState>>()
    expect<Equal<typeof to, LinkState>>()
  })
  link.on('sendFailed', (err, name) => {
    expect<Equal<typeof err, SwitchboardError>>()
    expect<Equal<typeof name, string>>()
  })
  link.once('close', (err) => {
    expect<Equal<typeof err, SwitchboardError | undefined>>()
  })
  // @ts-expect-error 'tick' is a remote event: subscribe() to it, it is not a lifecycle event
  link.on('tick', () => {})
  // @ts-expect-error the state listener gets (from, to) states, not a number
  link.on('state', (from: number) => from)
  server.on('connection', (conn) => {
    expect<Equal<typeof conn, RpcConnection>>()
  })

  const paired = await pair('tcp://127.0.0.1:4100', {
    insecure: true,
    onRequest: (method, data) => {
      expect<Equal<typeof method, string>>()
      expect<Equal<typeof data, unknown>>()
      return data
    },
  })
  expect<Equal<typeof paired.role, 'server' | 'client'>>()

  // @ts-expect-error waitForReady is a boolean
  await connect('my-app', { waitForReady: 'yes' })
  // @ts-expect-error not an error code
  isSwitchboardError(new Error('x'), 'NO_SUCH_CODE')
  // @ts-expect-error not an error code
  new SwitchboardError('NO_SUCH_CODE')
  // @ts-expect-error the link state is one of four names
  const s: LinkState = 'open'
  void s
}
void usage

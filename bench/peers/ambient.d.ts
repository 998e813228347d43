// node-ipc ships no type declarations; peers/node-ipc.ts types the members it uses.
declare module 'node-ipc' {
  export const IPCModule: new () => unknown
}

/**
 * A first-in first-out queue with O(1) push and shift: a ring buffer whose capacity doubles when
 * full (and never shrinks below what it held). The mux keeps thousands of messages and channels
 * in its queues under load; Array#shift is O(n), and a sliding array reallocates as it goes.
 */
export class Fifo<T> {
  private items: (T | undefined)[] = new Array(16)
  private head = 0
  private count = 0

  get length(): number {
    return this.count
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow()
    this.items[(this.head + this.count) & (this.items.length - 1)] = item
    this.count++
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head]
  }

  /** The item `index` places from the oldest (undefined past the end). */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.count) return undefined
    return this.items[(this.head + index) & (this.items.length - 1)]
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) & (this.items.length - 1)
    this.count--
    return item
  }

  clear(): void {
    this.items = new Array(16)
    this.head = 0
    this.count = 0
  }

  private grow(): void {
    const old = this.items
    const next: (T | undefined)[] = new Array(old.length * 2)
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & (old.length - 1)]
    this.items = next
    this.head = 0
  }
}

// The most recent sampled events, bounded: the kernel already rate-limits them,
// this only caps memory.

export class EventRing<T> {
  private readonly items: T[] = [];
  constructor(readonly capacity: number) {}

  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.shift();
  }

  /** Newest last. */
  list(): readonly T[] { return this.items; }
}

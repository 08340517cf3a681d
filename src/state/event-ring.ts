// The most recent sampled events, bounded: the kernel already rate-limits them,
// this only caps memory. A circular buffer: push is O(1) however full it is.
export class EventRing<T> {
  private readonly slots: T[] = [];
  /** where the next push goes once the ring is full */
  private next = 0;
  constructor(readonly capacity: number) {}
  push(item: T): void {
    if (this.slots.length < this.capacity) { this.slots.push(item); return; }
    this.slots[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }
  /** Newest last. */
  list(): T[] {
    return [...this.slots.slice(this.next), ...this.slots.slice(0, this.next)];
  }
}

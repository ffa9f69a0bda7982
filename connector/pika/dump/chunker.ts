/** Groups streamed elements into chunks bounded by element count and (approximate) byte size. */
export class Chunker<T> {
  private items: T[] = [];
  private bytes = 0;
  private readonly maxItems: number;
  private readonly maxBytes: number;
  emitted = 0;

  constructor(maxItems: number, maxBytes: number) {
    this.maxItems = Math.max(1, maxItems);
    this.maxBytes = Math.max(1, maxBytes);
  }

  /** Adds an item; returns a full chunk when a bound is reached. */
  push(item: T, size: number): T[] | undefined {
    this.items.push(item);
    this.bytes += size;
    this.emitted++;
    if (this.items.length >= this.maxItems || this.bytes >= this.maxBytes) return this.flush();
    return undefined;
  }

  flush(): T[] | undefined {
    if (this.items.length === 0) return undefined;
    const out = this.items;
    this.items = [];
    this.bytes = 0;
    return out;
  }
}

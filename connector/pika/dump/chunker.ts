/** Groups streamed elements into chunks bounded by element count and (approximate) byte size. */
export class Chunker<T> {
  private items: T[] = [];
  private bytes = 0;
  private full = false;
  private readonly maxItems: number;
  private readonly maxBytes: number;
  emitted = 0;

  constructor(maxItems: number, maxBytes: number) {
    this.maxItems = Math.max(1, maxItems);
    this.maxBytes = Math.max(1, maxBytes);
  }

  /** Adds an item; once a bound is reached the chunk is full (`takeFull`). */
  push(item: T, size: number): void {
    this.items.push(item);
    this.bytes += size;
    this.emitted++;
    if (this.items.length >= this.maxItems || this.bytes >= this.maxBytes) this.full = true;
  }

  /** The chunk when it is full, else undefined. */
  takeFull(): { items: T[]; bytes: number } | undefined {
    return this.full ? this.flush() : undefined;
  }

  /** Whatever is gathered (undefined when nothing is). */
  flush(): { items: T[]; bytes: number } | undefined {
    if (this.items.length === 0) return undefined;
    const out = { items: this.items, bytes: this.bytes };
    this.items = [];
    this.bytes = 0;
    this.full = false;
    return out;
  }
}

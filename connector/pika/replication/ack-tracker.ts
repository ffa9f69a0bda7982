// "Acks follow Kafka": which received items may be acknowledged to the master. An item is done when every record
// built from it is in a committed Kafka transaction (items yielding no record are done at once); the master gets
// one ack range per DB covering the done prefix — never an item behind one still in flight (pika-protocol.md §5.4.3).
import type { AckPosition } from './requests.ts';

export interface TrackedItem {
  readonly db: string;
  readonly generation: number;
  readonly end: AckPosition;
  /** Records built from the item and not yet committed. */
  outstanding: number;
}

/** A contiguous run of done items of one DB and one connection generation, in binlog order. */
export interface AckRange {
  db: string;
  generation: number;
  start: AckPosition;
  end: AckPosition;
  items: number;
}

class ItemQueue {
  items: TrackedItem[] = [];
  head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

export class AckTracker {
  private readonly dbs = new Map<string, ItemQueue>();

  /** Registers a received item in arrival order; `records` = records built from it (0 allowed). */
  track(db: string, generation: number, end: AckPosition, records: number): TrackedItem {
    let queue = this.dbs.get(db);
    if (!queue) this.dbs.set(db, (queue = new ItemQueue()));
    const tracked: TrackedItem = { db, generation, end, outstanding: records };
    queue.items.push(tracked);
    return tracked;
  }

  /** One record of `item` is committed. */
  committed(item: TrackedItem): void {
    if (item.outstanding <= 0) throw new Error(`${item.db}: item ending at ${item.end.filenum}:${item.end.offset} committed more often than it has records`);
    item.outstanding--;
  }

  /** Items received but not yet acknowledgeable, over all DBs. */
  get pending(): number {
    let n = 0;
    for (const q of this.dbs.values()) n += q.size;
    return n;
  }

  /** Removes the done prefix of every DB and returns it as ranges (split where the connection generation changes). */
  drain(): AckRange[] {
    const ranges: AckRange[] = [];
    for (const [db, queue] of this.dbs) {
      let current: AckRange | undefined;
      while (queue.size > 0) {
        const item = queue.items[queue.head]!;
        if (item.outstanding > 0) break;
        queue.head++;
        if (current && current.generation === item.generation) {
          current.end = item.end;
          current.items++;
        } else {
          current = { db, generation: item.generation, start: item.end, end: item.end, items: 1 };
          ranges.push(current);
        }
      }
      queue.compact();
    }
    return ranges;
  }
}

// Cuts one collection's elements into event parts bounded by snapshot.max.elements.per.event and
// snapshot.max.bytes.per.event, keeping their order. Streams: one entry per part (XADD adds one entry).
import { ConnectError, docRef } from '../../../runtime/api/index.ts';
import type { CollectionType } from '../dump/types.ts';
import { elementBytes } from './event-builder.ts';
import type { ResolvedSnapshotOptions } from './options.ts';

export interface KeyPart {
  /** 1-based part number within the key. */
  part: number;
  /** Elements of the key consumed (emitted or left out) up to and including this part. */
  consumed: number;
  last: boolean;
  items: unknown[];
  /** The part is a single element over the byte limit, routed by snapshot.oversize.policy=dlq. */
  dlqReason?: string;
}

/**
 * Contracts: `push` returns the parts completed by the element (never the last one: a part is held back until
 * the next element or `finish`, so the last part is known to be last); `finish` returns the last part, or
 * undefined when the key produced no element at all. Deterministic: the same elements and limits give the same
 * parts, so a resume can skip the first `consumed` elements and continue numbering at `part + 1`.
 */
export class KeySplitter {
  private skip: number;
  private consumed: number;
  private part: number;
  private items: unknown[] = [];
  private bytes = 0;
  private solo = false;
  private dlqReason: string | undefined;

  constructor(
    private readonly type: CollectionType,
    private readonly key: Uint8Array,
    readonly expireAt: number | null,
    private readonly opts: Pick<ResolvedSnapshotOptions, 'db' | 'maxElementsPerEvent' | 'maxBytesPerEvent' | 'oversizePolicy' | 'onWarning'>,
    private readonly onSkip: () => void,
    resume?: { consumed: number; part: number },
  ) {
    this.skip = resume?.consumed ?? 0;
    this.consumed = resume?.consumed ?? 0;
    this.part = resume?.part ?? 0;
  }

  push(item: unknown): KeyPart[] {
    if (this.skip > 0) {
      this.skip--;
      return [];
    }
    const out: KeyPart[] = [];
    const size = elementBytes(this.type, item);
    if (this.key.length + size > this.opts.maxBytesPerEvent) {
      const why = `element ${this.consumed + 1} of ${this.type} key ${Buffer.from(this.key).toString('hex').slice(0, 200)} of ${this.opts.db} is ${size} bytes, over snapshot.max.bytes.per.event=${this.opts.maxBytesPerEvent} with its key`;
      if (this.opts.oversizePolicy === 'fail') {
        throw new ConnectError(`${why} (snapshot.oversize.policy=fail) ${docRef('sizeLimits')}`, { code: 'PIKA_SNAPSHOT_OVERSIZE', stage: 'poll' });
      }
      if (this.opts.oversizePolicy === 'skip') {
        this.opts.onWarning(`${why}: skipped (snapshot.oversize.policy=skip)`);
        this.onSkip();
        this.consumed++;
        return out;
      }
      if (this.items.length) out.push(this.flush(false));
      this.items.push(item);
      this.bytes = size;
      this.solo = true;
      this.dlqReason = why;
      this.consumed++;
      return out;
    }
    const solo = this.type === 'stream';
    if (
      this.items.length > 0 &&
      (this.solo || solo || this.items.length + 1 > this.opts.maxElementsPerEvent || this.key.length + this.bytes + size > this.opts.maxBytesPerEvent)
    ) {
      out.push(this.flush(false));
    }
    this.items.push(item);
    this.bytes += size;
    this.solo = solo;
    this.consumed++;
    return out;
  }

  finish(): KeyPart | undefined {
    return this.items.length ? this.flush(true) : undefined;
  }

  private flush(last: boolean): KeyPart {
    const part: KeyPart = { part: ++this.part, consumed: this.consumed, last, items: this.items, ...(this.dlqReason ? { dlqReason: this.dlqReason } : {}) };
    this.items = [];
    this.bytes = 0;
    this.solo = false;
    this.dlqReason = undefined;
    return part;
  }
}

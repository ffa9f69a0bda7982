import type { RawKeyCompare } from './block.ts';
import type { UserComparator } from './comparators.ts';
import { bytewiseComparator } from './comparators.ts';

/**
 * A positioning step: `undefined` when it completed synchronously, else a promise to await (a block or a file had
 * to be read). Callers write `const p = it.next(); if (p) await p;`, so the common case costs no promise.
 */
export type Step = Promise<void> | undefined;

/**
 * Cursor over internal keys in internal-key order. The current key is `keyBuf[0, keyLen)` and `value` a view of
 * the value; the key bytes are valid until the next positioning call, the value as long as it is referenced.
 * `source` names the file for error messages.
 */
export interface InternalIterator {
  readonly source: string;
  readonly valid: boolean;
  readonly keyBuf: Uint8Array;
  readonly keyLen: number;
  /** The value is `valueBuf[valueStart, valueEnd)` (no view made; the bytes stay valid). */
  readonly valueBuf: Uint8Array;
  readonly valueStart: number;
  readonly valueEnd: number;
  /**
   * After `next`: the new entry's user key equals, byte for byte, the one of the entry `next` moved from (an older
   * version of the same key). Not meaningful after a seek.
   */
  readonly repeatsUserKey: boolean;
  seekToFirst(): Promise<void>;
  /** First entry with internal key >= target. */
  seek(target: Uint8Array): Step;
  next(): Step;
}

/** Internal-key order: user key ascending by `cmp`, then (sequence << 8 | type) descending. */
export function internalKeyComparator(cmp: UserComparator): RawKeyCompare {
  const userCompare = userKeyComparator(cmp);
  return (a, aLen, b, bLen) => {
    const c = userCompare(a, aLen - 8, b, bLen - 8);
    if (c !== 0) return c;
    for (let i = 7; i >= 0; i--) {
      const d = b[bLen - 8 + i]! - a[aLen - 8 + i]!;
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    return 0;
  };
}

/** User-key order of `a[0, aLen)` and `b[0, bLen)`; bytewise without allocating, others through views. */
export function userKeyComparator(cmp: UserComparator): RawKeyCompare {
  if (cmp === bytewiseComparator) return compareBytewise;
  return (a, aLen, b, bLen) => cmp.compare(a.subarray(0, aLen), b.subarray(0, bLen));
}

function compareBytewise(a: Uint8Array, aLen: number, b: Uint8Array, bLen: number): number {
  const n = aLen < bLen ? aLen : bLen;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return aLen === bLen ? 0 : aLen < bLen ? -1 : 1;
}

/** Byte equality of the user keys of internal keys `a[0, aLen)` and `b[0, bLen)`. */
function sameUserKey(a: Uint8Array, aLen: number, b: Uint8Array, bLen: number): boolean {
  if (aLen !== bLen) return false;
  for (let i = 0; i < aLen - 8; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** An internal key that sorts before every entry of `userKey` (maximum sequence and type). */
export function seekKeyFor(userKey: Uint8Array): Uint8Array {
  const k = new Uint8Array(userKey.length + 8);
  k.set(userKey, 0);
  k.fill(0xff, userKey.length);
  return k;
}

/** Sorted in-memory entries (the WAL replay, i.e. what would be the memtable). */
export class MemIterator implements InternalIterator {
  readonly source: string;
  private readonly entries: { key: Uint8Array; value: Uint8Array }[];
  private readonly icmp: RawKeyCompare;
  private pos = 0;

  constructor(source: string, entries: { key: Uint8Array; value: Uint8Array }[], ucmp: UserComparator) {
    this.source = source;
    const icmp = internalKeyComparator(ucmp);
    this.icmp = icmp;
    this.entries = [...entries].sort((a, b) => icmp(a.key, a.key.length, b.key, b.key.length));
    this.pos = this.entries.length;
  }

  get valid(): boolean {
    return this.pos < this.entries.length;
  }
  get keyBuf(): Uint8Array {
    return this.entries[this.pos]!.key;
  }
  get keyLen(): number {
    return this.entries[this.pos]!.key.length;
  }
  get valueBuf(): Uint8Array {
    return this.entries[this.pos]!.value;
  }
  get valueStart(): number {
    return 0;
  }
  get valueEnd(): number {
    return this.entries[this.pos]!.value.length;
  }
  get repeatsUserKey(): boolean {
    const p = this.pos;
    if (p === 0 || p >= this.entries.length) return false;
    const a = this.entries[p - 1]!.key;
    const b = this.entries[p]!.key;
    return sameUserKey(a, a.length, b, b.length);
  }
  async seekToFirst(): Promise<void> {
    this.pos = 0;
  }
  seek(target: Uint8Array): Step {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = this.entries[mid]!.key;
      if (this.icmp(k, k.length, target, target.length) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.pos = lo;
    return undefined;
  }
  next(): Step {
    this.pos++;
    return undefined;
  }
}

/**
 * k-way merge of child iterators (a binary heap). Children are given newest first; on equal internal keys the
 * earlier child wins, so a memtable entry shadows an SST entry with the same sequence number. A forward seek only
 * moves the children that are behind the target (a dump scan seeks forward all the time).
 */
export class MergingIterator implements InternalIterator {
  private readonly children: InternalIterator[];
  private readonly icmp: RawKeyCompare;
  private heap: number[] = [];
  private top: InternalIterator | undefined;
  private repeats = false;

  constructor(children: InternalIterator[], ucmp: UserComparator) {
    this.children = children;
    this.icmp = internalKeyComparator(ucmp);
  }

  get source(): string {
    return this.top ? this.top.source : '(end)';
  }
  get valid(): boolean {
    return this.top !== undefined;
  }
  get keyBuf(): Uint8Array {
    return this.top!.keyBuf;
  }
  get keyLen(): number {
    return this.top!.keyLen;
  }
  get valueBuf(): Uint8Array {
    return this.top!.valueBuf;
  }
  get valueStart(): number {
    return this.top!.valueStart;
  }
  get valueEnd(): number {
    return this.top!.valueEnd;
  }
  get repeatsUserKey(): boolean {
    return this.repeats;
  }

  async seekToFirst(): Promise<void> {
    for (const c of this.children) await c.seekToFirst();
    this.rebuild();
  }

  /**
   * `forward`: the caller guarantees that no entry >= target has been passed (by `next` or an earlier seek), so
   * children already at or past the target need not move.
   */
  seek(target: Uint8Array, forward = false): Step {
    let pending: Promise<void>[] | undefined;
    for (const c of this.children) {
      // Going forward, an exhausted child stays exhausted and one already at or past the target stays put.
      if (forward && (!c.valid || this.icmp(c.keyBuf, c.keyLen, target, target.length) >= 0)) continue;
      const p = c.seek(target);
      if (p) (pending ??= []).push(p);
    }
    if (!pending) {
      this.rebuild();
      return undefined;
    }
    return Promise.all(pending).then(() => this.rebuild());
  }

  next(): Step {
    const h = this.heap;
    const i = h[0]!;
    const c = this.children[i]!;
    // If the entry after this one comes from another child, it is the smaller of the top's two heap children;
    // whether it repeats the current user key is told before the top child's step overwrites its key.
    const otherRepeats = h.length > 1 && (this.sameUserKeyAs(c, h[1]!) || (h.length > 2 && this.sameUserKeyAs(c, h[2]!)));
    const p = c.next();
    if (p) return p.then(() => this.afterNext(i, otherRepeats));
    this.afterNext(i, otherRepeats);
    return undefined;
  }

  private afterNext(i: number, otherRepeats: boolean): void {
    const c = this.children[i]!;
    if (!c.valid) {
      const last = this.heap.pop()!;
      if (this.heap.length === 0) {
        this.top = undefined;
        this.repeats = false;
        return;
      }
      this.heap[0] = last;
    }
    if (this.heap.length > 1) this.siftDown(0);
    this.top = this.children[this.heap[0]!];
    this.repeats = this.top === c ? c.repeatsUserKey : otherRepeats;
  }

  private sameUserKeyAs(a: InternalIterator, j: number): boolean {
    const b = this.children[j]!;
    return sameUserKey(a.keyBuf, a.keyLen, b.keyBuf, b.keyLen);
  }

  private less(i: number, j: number): boolean {
    const a = this.children[i]!;
    const b = this.children[j]!;
    const c = this.icmp(a.keyBuf, a.keyLen, b.keyBuf, b.keyLen);
    return c < 0 || (c === 0 && i < j);
  }

  private rebuild(): void {
    const heap: number[] = [];
    this.children.forEach((c, i) => {
      if (c.valid) heap.push(i);
    });
    this.heap = heap;
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
    this.top = heap.length ? this.children[heap[0]!] : undefined;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      const t = h[i]!;
      h[i] = h[m]!;
      h[m] = t;
      i = m;
    }
  }
}

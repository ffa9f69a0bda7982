import { readU16, readU32 } from './coding.ts';

/**
 * One uncompressed block of a block-based table (`table/block_based/block.cc`, `block_builder.cc`):
 *
 *   entry*  restart[u32 LE]*  [hash index: bucket bytes*, num_buckets u16]  footer u32
 *   entry = shared varint32 | non_shared varint32 | value_len varint32 | key_delta | value
 *   footer = num_restarts | (1 << 31 when a data-block hash index follows the restarts)
 *
 * Index blocks with "value is delta encoded" omit value_len; their value is a BlockHandle at restart points and a
 * signed size delta when the key shares a prefix with the previous one (decoded by the index reader).
 */
export class Block {
  readonly data: Uint8Array;
  readonly restartsOffset: number;
  readonly numRestarts: number;

  constructor(data: Uint8Array) {
    if (data.length < 4) throw new Error('block shorter than its footer');
    this.data = data;
    const footer = readU32(data, data.length - 4);
    const hasHashIndex = footer >>> 31 === 1;
    this.numRestarts = footer & 0x7fffffff;
    let end = data.length - 4;
    if (hasHashIndex) {
      if (end < 2) throw new Error('block hash index truncated');
      const buckets = readU16(data, end - 2);
      end -= 2 + buckets;
    }
    this.restartsOffset = end - 4 * this.numRestarts;
    if (this.numRestarts === 0 || this.restartsOffset < 0) throw new Error(`bad restart count ${this.numRestarts}`);
  }

  restartPoint(i: number): number {
    return readU32(this.data, this.restartsOffset + 4 * i);
  }
}

/** Compares `a[0, aLen)` with `b[0, bLen)` (both internal keys) in the order a table is sorted in. */
export type RawKeyCompare = (a: Uint8Array, aLen: number, b: Uint8Array, bLen: number) => number;

const EMPTY = new Uint8Array(0);

/**
 * Cursor over the entries of one block, synchronous and allocation-light: the current key is assembled in place
 * in a scratch buffer (`keyBuf[0, keyLen)`, overwritten by the next step), the value is `data[valueStart,
 * valueEnd)` of the block itself. `reset` re-targets the cursor at another block and keeps the scratch buffer.
 */
export class BlockIter {
  block: Block | undefined;
  /** The block's bytes (the current value is `data[valueStart, valueEnd)`). */
  data: Uint8Array = EMPTY;
  private limit = 0;
  private readonly deltaValues: boolean;
  private nextOffset = 0;
  /** Offset of the current entry; -1 before the first / after the last. */
  entryOffset = -1;
  keyBuf: Uint8Array = new Uint8Array(64);
  keyLen = 0;
  valueStart = 0;
  valueEnd = 0;
  /** True when the key shares a prefix with the previous one; delta-encoded index values are then a size delta. */
  sharesKey = false;
  /** Set by the owner when keys are internal keys (user key ‖ 8-byte tag): `next` then sets `repeatsUserKey`. */
  trackUserKeys = false;
  /**
   * After `next`: the entry's user key is byte for byte the one of the entry decoded just before it (in this block,
   * or the last one of the block before `reset`). Meaningful after a step from an entry, not after a seek.
   */
  repeatsUserKey = false;
  /** Length of the key last decoded into `keyBuf` (kept across `reset`, unlike `keyLen`); -1 before any. */
  private lastLen = -1;

  constructor(block?: Block, deltaValues = false) {
    this.deltaValues = deltaValues;
    if (block) this.reset(block);
  }

  reset(block: Block): void {
    this.block = block;
    this.data = block.data;
    this.limit = block.restartsOffset;
    this.entryOffset = -1;
    this.keyLen = 0;
  }

  get valid(): boolean {
    return this.entryOffset >= 0;
  }

  /** A view of the current key (valid until the next step). */
  get key(): Uint8Array {
    return this.keyBuf.subarray(0, this.keyLen);
  }

  /** A view of the current value inside the block data (valid as long as the block is referenced). */
  get value(): Uint8Array {
    return this.data.subarray(this.valueStart, this.valueEnd);
  }

  seekToFirst(): void {
    this.seekToRestart(0);
    this.next();
  }

  /** Positions at the first entry whose key is >= target under `cmp`; invalid if none. */
  seek(target: Uint8Array, cmp: RawKeyCompare): void {
    const block = this.block!;
    let lo = 0;
    let hi = block.numRestarts - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      this.seekToRestart(mid);
      this.next();
      if (cmp(this.keyBuf, this.keyLen, target, target.length) < 0) lo = mid;
      else hi = mid - 1;
    }
    this.seekToRestart(lo);
    this.next();
    while (this.entryOffset >= 0 && cmp(this.keyBuf, this.keyLen, target, target.length) < 0) this.next();
  }

  /** Moves forward (never back) to the first entry >= target; cheaper than `seek` when the target is near. */
  seekForward(target: Uint8Array, cmp: RawKeyCompare): void {
    for (let steps = 0; this.entryOffset >= 0 && cmp(this.keyBuf, this.keyLen, target, target.length) < 0; steps++) {
      if (steps === 16) {
        this.seek(target, cmp);
        return;
      }
      this.next();
    }
  }

  private seekToRestart(i: number): void {
    this.nextOffset = this.block!.restartPoint(i);
    this.keyLen = 0;
  }

  next(): void {
    const d = this.data;
    let p = this.nextOffset;
    const limit = this.limit;
    if (p >= limit) {
      this.entryOffset = -1;
      return;
    }
    this.entryOffset = p;
    // Three varint32s; one byte each in the common case.
    let shared = d[p++]!;
    if (shared > 127) ({ value: shared, next: p } = readVarint(d, p - 1));
    let nonShared = d[p++]!;
    if (nonShared > 127) ({ value: nonShared, next: p } = readVarint(d, p - 1));
    let valueLen = 0;
    if (!this.deltaValues) {
      valueLen = d[p++]!;
      if (valueLen > 127) {
        const b = d[p]!;
        if (b < 128) {
          valueLen = (valueLen & 0x7f) | (b << 7);
          p++;
        } else ({ value: valueLen, next: p } = readVarint(d, p - 1));
      }
    }
    if (p > limit || shared > this.keyLen || p + nonShared > limit) {
      throw new Error(`corrupted block entry at offset ${this.entryOffset}`);
    }
    const keyLen = shared + nonShared;
    let kb = this.keyBuf;
    // Compared before the new bytes overwrite the previous key: its first `shared` bytes are the new key's too.
    if (this.trackUserKeys) this.repeatsUserKey = keyLen === this.lastLen && keyLen >= 8 && sameTail(kb, d, p, shared, keyLen - 8);
    if (keyLen > kb.length) {
      const grown = new Uint8Array(Math.max(keyLen, kb.length * 2));
      grown.set(kb.subarray(0, shared));
      this.keyBuf = kb = grown;
    }
    if (nonShared <= 32) for (let i = 0; i < nonShared; i++) kb[shared + i] = d[p + i]!;
    else kb.set(d.subarray(p, p + nonShared), shared);
    this.keyLen = keyLen;
    this.lastLen = keyLen;
    p += nonShared;
    this.sharesKey = shared !== 0;
    if (this.deltaValues) {
      // Value length is implied: a full handle (two varints) when the key shares nothing, else one signed varint
      // (`IndexBlockIter::DecodeCurrentValue`).
      this.valueStart = p;
      p = skipVarint(d, p);
      if (!this.sharesKey) p = skipVarint(d, p);
      this.valueEnd = p;
    } else {
      if (p + valueLen > limit) throw new Error(`corrupted block value at offset ${this.entryOffset}`);
      this.valueStart = p;
      p += valueLen;
      this.valueEnd = p;
    }
    this.nextOffset = p;
  }
}

/**
 * Whether `d[p, p + userLen - shared)` equals `kb[shared, userLen)`. Compared from the front: `shared` is the
 * common prefix with the previous key (`BlockBuilder::Add`), so a different key differs at the first byte compared.
 */
function sameTail(kb: Uint8Array, d: Uint8Array, p: number, shared: number, userLen: number): boolean {
  for (let i = shared; i < userLen; i++) if (d[p + i - shared] !== kb[i]) return false;
  return true;
}

function readVarint(d: Uint8Array, p: number): { value: number; next: number } {
  let result = 0;
  for (let shift = 0; shift <= 28; shift += 7) {
    if (p >= d.length) throw new Error('block entry truncated');
    const b = d[p++]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { value: result, next: p };
  }
  throw new Error('bad varint in block entry');
}

function skipVarint(d: Uint8Array, p: number): number {
  for (let i = 0; i < 10; i++) {
    if (p >= d.length) throw new Error('block entry truncated');
    if ((d[p++]! & 0x80) === 0) return p;
  }
  throw new Error('bad varint in block entry');
}

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

/** Cursor over the entries of one block. Keys are materialised (copied) as they are decoded. */
export class BlockIter {
  readonly block: Block;
  private readonly deltaValues: boolean;
  private nextOffset = 0;
  /** Offset of the current entry; -1 before the first / after the last. */
  entryOffset = -1;
  key: Uint8Array = new Uint8Array(0);
  value: Uint8Array = new Uint8Array(0);
  /** True when the key shares a prefix with the previous one; delta-encoded index values are then a size delta. */
  sharesKey = false;

  constructor(block: Block, deltaValues = false) {
    this.block = block;
    this.deltaValues = deltaValues;
  }

  get valid(): boolean {
    return this.entryOffset >= 0;
  }

  seekToFirst(): void {
    this.seekToRestart(0);
    this.next();
  }

  /** Positions at the first entry whose key is >= target under `cmp`; invalid if none. */
  seek(target: Uint8Array, cmp: (a: Uint8Array, b: Uint8Array) => number): void {
    let lo = 0;
    let hi = this.block.numRestarts - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      this.seekToRestart(mid);
      this.next();
      if (cmp(this.key, target) < 0) lo = mid;
      else hi = mid - 1;
    }
    this.seekToRestart(lo);
    this.next();
    while (this.valid && cmp(this.key, target) < 0) this.next();
  }

  private seekToRestart(i: number): void {
    this.nextOffset = this.block.restartPoint(i);
    this.key = new Uint8Array(0);
  }

  next(): void {
    const d = this.block.data;
    let p = this.nextOffset;
    if (p >= this.block.restartsOffset) {
      this.entryOffset = -1;
      return;
    }
    this.entryOffset = p;
    const v1 = readVarint(d, p);
    const shared = v1.value;
    const v2 = readVarint(d, v1.next);
    const nonShared = v2.value;
    p = v2.next;
    let valueLen = -1;
    if (!this.deltaValues) {
      const v3 = readVarint(d, p);
      valueLen = v3.value;
      p = v3.next;
    }
    if (shared > this.key.length || p + nonShared > this.block.restartsOffset) {
      throw new Error(`corrupted block entry at offset ${this.entryOffset}`);
    }
    const key = new Uint8Array(shared + nonShared);
    key.set(this.key.subarray(0, shared), 0);
    key.set(d.subarray(p, p + nonShared), shared);
    this.key = key;
    p += nonShared;
    this.sharesKey = shared !== 0;
    if (this.deltaValues) {
      // Value length is implied: a full handle (two varints) when the key shares nothing, else one signed varint
      // (`IndexBlockIter::DecodeCurrentValue`).
      const start = p;
      p = skipVarint(d, p);
      if (!this.sharesKey) p = skipVarint(d, p);
      this.value = d.subarray(start, p);
    } else {
      if (p + valueLen > this.block.restartsOffset) throw new Error(`corrupted block value at offset ${this.entryOffset}`);
      this.value = d.subarray(p, p + valueLen);
      p += valueLen;
    }
    this.nextOffset = p;
  }
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

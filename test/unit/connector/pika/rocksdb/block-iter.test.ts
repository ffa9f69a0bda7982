import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Block, BlockIter } from '../../../../../connector/pika/rocksdb/block.ts';

/** An internal key: user key ‖ (seq << 8 | type 1) as u64 LE. */
function ikey(user: string, seq: number): Buffer {
  const k = Buffer.alloc(user.length + 8);
  k.write(user, 'latin1');
  k.writeUInt32LE(((seq << 8) | 1) >>> 0, user.length);
  return k;
}

/** A data block as RocksDB's BlockBuilder writes it: prefix-compressed entries, a restart every `interval`. */
function block(keys: Buffer[], interval: number): Block {
  const parts: number[] = [];
  const restarts: number[] = [];
  let prev: Uint8Array = new Uint8Array(0);
  keys.forEach((k, i) => {
    let shared = 0;
    if (i % interval === 0) restarts.push(parts.length);
    else while (shared < k.length && shared < prev.length && k[shared] === prev[shared]) shared++;
    parts.push(shared, k.length - shared, 1, ...k.subarray(shared), 0x76);
    prev = k;
  });
  const out = Buffer.alloc(parts.length + 4 * restarts.length + 4);
  Buffer.from(parts).copy(out);
  restarts.forEach((r, i) => out.writeUInt32LE(r, parts.length + 4 * i));
  out.writeUInt32LE(restarts.length, out.length - 4);
  return new Block(out);
}

test('BlockIter tells when an entry repeats the previous user key: after a shared prefix, at a restart point, across blocks', () => {
  const keys = [ikey('apple', 9), ikey('apple', 8), ikey('apricot', 7), ikey('apricot', 6), ikey('apricoz', 5), ikey('b', 4)];
  const it = new BlockIter();
  it.trackUserKeys = true;
  const seen: boolean[] = [];
  it.reset(block(keys, 3)); // restarts at entries 0 and 3: apricot@6 repeats apricot@7 with nothing shared
  for (it.seekToFirst(); it.valid; it.next()) seen.push(it.repeatsUserKey);
  assert.deepEqual(seen.slice(1), [true, false, true, false, false]);
  // The next block's first entry is compared with the last key of the block before.
  it.reset(block([ikey('b', 3), ikey('c', 2)], 16));
  it.seekToFirst();
  assert.equal(it.repeatsUserKey, true);
  it.next();
  assert.equal(it.repeatsUserKey, false);
});

import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { dataKeyPrefix, encodeMetaKey } from '../../../../../connector/pika/dump/floyd-format.ts';
import { dataKeyPrefix as bwDataKeyPrefix } from '../../../../../connector/pika/dump/blackwidow-format.ts';
import { readDbState } from '../../../../../connector/pika/rocksdb/manifest.ts';
import { encodeLog, encodeWriteBatch, type BatchOp } from '../rocksdb/log-writer.ts';
import { collectDump } from './dump-collect.ts';

/**
 * Pika's liveness rules (pika-protocol.md §8.1/§8.2), exercised by appending records to a copy of a real dump
 * through a WAL (the reader replays it like RocksDB would): stale versions, count 0, expired metas, orphan data,
 * list index bounds, 4.0.0-style second timestamps, empty streams.
 */
const shared = new URL('../../../../../../shared/', import.meta.url);
const NOW = Date.UTC(2026, 10, 23);
const MS_FLAG = 1n << 63n;
const b = (s: string) => Buffer.from(s, 'latin1');
const u64 = (n: bigint) => {
  const x = Buffer.alloc(8);
  x.writeBigUInt64LE(n);
  return x;
};
const i32 = (n: number) => {
  const x = Buffer.alloc(4);
  x.writeInt32LE(n);
  return x;
};

/** Floyd meta values. */
const floydString = (v: string, etime = 0n) => Buffer.concat([Buffer.of(0), b(v), Buffer.alloc(16), u64(0n), u64(etime)]);
const floydBaseMeta = (type: number, count: number, version: bigint, etime = 0n) =>
  Buffer.concat([Buffer.of(type), i32(count), u64(version), Buffer.alloc(16), u64(0n), u64(etime)]);
const floydListMeta = (count: bigint, version: bigint, left: bigint, right: bigint) =>
  Buffer.concat([Buffer.of(3), u64(count), u64(version), u64(left), Buffer.alloc(8), u64(right), Buffer.alloc(8), Buffer.alloc(16), u64(0n), u64(0n)]);
const floydStreamMeta = (length: number, version: bigint) =>
  Buffer.concat([Buffer.of(5), Buffer.alloc(4), u64(0n), Buffer.alloc(48), i32(length), u64(version)]);
const dataKey = (key: string, version: bigint, tail: Buffer) => Buffer.concat([dataKeyPrefix(b(key), version), tail, Buffer.alloc(16)]);
const dataValue = (v: string) => Buffer.concat([b(v), Buffer.alloc(24)]);

const CF = { meta: 0, hash: 1, set: 2, list: 3, zset: 4, stream: 6 };

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pika-liveness-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function withWal(src: string, name: string, instance: string, ops: (seq0: number) => BatchOp[]) {
  const dir = join(work, name);
  await cp(src, dir, { recursive: true });
  const inst = join(dir, instance);
  const state = await readDbState(inst);
  await writeFile(join(inst, '000099.log'), encodeLog([encodeWriteBatch(state.lastSequence + 1, ops(state.lastSequence + 1))]));
  return collectDump(dir, 'db0', { nowMs: NOW });
}

describe('Floyd (4.x) liveness', () => {
  it('follows meta version, count, TTL and list bounds', async () => {
    const past = BigInt(NOW - 1000) | MS_FLAG;
    const future = BigInt(NOW + 3_600_000) | MS_FLAG;
    const { keys, warnings } = await withWal(fileURLToPath(new URL('pika-vectors/master_dump/20261122/db0', shared)), 'floyd', '0', () => [
      // hash recreated with version 9: only the field written under version 9 counts
      { type: 'put', cf: CF.meta, key: encodeMetaKey(b('t:hash')), value: floydBaseMeta(1, 1, 9n) },
      { type: 'put', cf: CF.hash, key: dataKey('t:hash', 8n, b('old')), value: dataValue('stale') },
      { type: 'put', cf: CF.hash, key: dataKey('t:hash', 9n, b('new')), value: dataValue('live') },
      // 4.0.0 HINCRBY bug: raw value without suffix (Pika's wash-data reads it as the raw value)
      { type: 'put', cf: CF.meta, key: encodeMetaKey(b('t:hash:unwashed')), value: floydBaseMeta(1, 1, 4n) },
      { type: 'put', cf: CF.hash, key: dataKey('t:hash:unwashed', 4n, b('cnt')), value: b('42') },
      // set deleted (count 0) but its member still present
      { type: 'put', cf: CF.meta, key: encodeMetaKey(b('t:set:deleted')), value: floydBaseMeta(2, 0, 5n) },
      { type: 'put', cf: CF.set, key: dataKey('t:set:deleted', 5n, b('m')), value: Buffer.alloc(24) },
      // zset expired a second ago; another with a TTL in the future
      { type: 'put', cf: CF.meta, key: encodeMetaKey(b('t:zset:expired')), value: floydBaseMeta(4, 1, 5n, past) },
      { type: 'put', cf: CF.zset, key: dataKey('t:zset:expired', 5n, b('m')), value: Buffer.concat([Buffer.alloc(8), Buffer.alloc(24)]) },
      { type: 'put', cf: CF.meta, key: encodeMetaKey(b('t:zset:ttl')), value: floydBaseMeta(4, 1, 5n, future) },
      { type: 'put', cf: CF.zset, key: dataKey('t:zset:ttl', 5n, b('m')), value: Buffer.concat([Buffer.from(new Float64Array([-0.25]).buffer), Buffer.alloc(24)]) },
      // orphan data without meta
      { type: 'put', cf: CF.hash, key: dataKey('t:orphan', 1n, b('f')), value: dataValue('x') },
      // list: indices 10..12 live (left 9, right 13); 9 and 13 are outside
      { type: 'put', cf: CF.meta, key: encodeMetaKey(b('t:list')), value: floydListMeta(3n, 7n, 9n, 13n) },
      ...[9n, 10n, 11n, 12n, 13n].map((i) => ({ type: 'put' as const, cf: CF.list, key: dataKey('t:list', 7n, u64(i)), value: dataValue(`e${i}`) })),
      // 4.0.0 data: etime in seconds (no flag bit)
      { type: 'put', cf: CF.meta, key: encodeMetaKey(b('t:str:secs')), value: floydString('v', 4102444800n) },
      { type: 'put', cf: CF.meta, key: encodeMetaKey(b('t:str:expired')), value: floydString('v', past) },
      // stream emptied by DEL (length 0)
      { type: 'put', cf: CF.meta, key: encodeMetaKey(b('t:stream:empty')), value: floydStreamMeta(0, 3n) },
      // an existing key of this instance deleted (its data records stay, orphaned)
      { type: 'delete', cf: CF.meta, key: encodeMetaKey(b('p1:zset:z2')) },
    ]);
    const hash = keys.get('t:hash');
    assert.equal(hash?.type, 'hash');
    assert.deepEqual(hash.value, new Map([['new', 'live']]));
    assert.deepEqual(keys.get('t:hash:unwashed')?.value, new Map([['cnt', '42']]));
    assert.ok(warnings.some((w) => /unwashed 4\.0\.0 value/.test(w)));
    assert.equal(keys.has('t:set:deleted'), false);
    assert.equal(keys.has('t:zset:expired'), false);
    const z = keys.get('t:zset:ttl');
    assert.equal(z?.type, 'zset');
    assert.deepEqual(z.value, new Map([['m', -0.25]]));
    assert.equal(z.expireAtMs, NOW + 3_600_000);
    assert.equal(keys.has('t:orphan'), false);
    assert.deepEqual(keys.get('t:list')?.value, ['e10', 'e11', 'e12']);
    assert.equal(keys.get('t:str:secs')?.expireAtMs, 4102444800000);
    assert.equal(keys.has('t:str:expired'), false);
    assert.equal(keys.has('t:stream:empty'), false);
    assert.equal(keys.has('p1:zset:z2'), false);
  });
});

describe('Blackwidow (3.x) liveness', () => {
  it('follows meta version, count and TTL (int32 seconds)', async () => {
    const nowS = Math.floor(NOW / 1000);
    const meta = (count: number, version: number, ts: number) => Buffer.concat([i32(count), i32(version), i32(ts)]);
    const key = (k: string, version: number, field: string) => Buffer.concat([bwDataKeyPrefix(b(k), version), b(field)]);
    const { keys } = await withWal(fileURLToPath(new URL('pika-vectors-3.5.5/master_dump/20261122/db0', shared)), 'bw', 'hashes', () => [
      { type: 'put', cf: 0, key: b('t:h'), value: meta(1, 20, nowS + 60) },
      { type: 'put', cf: 1, key: key('t:h', 19, 'old'), value: b('stale') },
      { type: 'put', cf: 1, key: key('t:h', 20, 'new'), value: b('live') },
      { type: 'put', cf: 0, key: b('t:h:zero'), value: meta(0, 3, 0) },
      { type: 'put', cf: 1, key: key('t:h:zero', 3, 'f'), value: b('x') },
      { type: 'put', cf: 0, key: b('t:h:expired'), value: meta(1, 3, nowS - 1) },
      { type: 'put', cf: 1, key: key('t:h:expired', 3, 'f'), value: b('x') },
    ]);
    const h = keys.get('t:h');
    assert.equal(h?.type, 'hash');
    assert.deepEqual(h.value, new Map([['new', 'live']]));
    assert.equal(h.expireAtMs, (nowS + 60) * 1000);
    assert.equal(keys.has('t:h:zero'), false);
    assert.equal(keys.has('t:h:expired'), false);
  });
});

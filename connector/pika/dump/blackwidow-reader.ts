import { join } from 'node:path';
import { compareBytes, copyBytes } from '../rocksdb/coding.ts';
import { ReadOnlyDb } from '../rocksdb/db.ts';
import {
  BLACKWIDOW_DATA_CF,
  dataKeyPrefix,
  decodeBaseMeta,
  decodeListIndex,
  decodeListsMeta,
  decodeStringValue,
  decodeZSetScore,
  type BlackwidowInstance,
  type BlackwidowMeta,
} from './blackwidow-format.ts';
import { CollectionScan, rangeStart, RecordBatch, ScanCursor, type ElementDecoder } from './collection-scan.ts';
import { DumpFormatError } from './errors.ts';
import type { CollectionType, DumpReaderOptions, DumpRecord, KeyPosition } from './types.ts';

const TYPE_OF: Record<Exclude<BlackwidowInstance, 'strings'>, CollectionType> = {
  hashes: 'hash',
  lists: 'list',
  sets: 'set',
  zsets: 'zset',
};

/**
 * Streams the live keys of one Blackwidow (Pika 3.x) type database in raw key order, as batches of records;
 * liveness as in Pika (unexpired, count > 0, data version = meta version, list indices strictly between left and
 * right). Values are views of the decoded blocks; keys, fields and members are copies.
 */
export async function* readBlackwidowInstance(
  dbDir: string,
  db: string,
  instance: BlackwidowInstance,
  opts: DumpReaderOptions & { nowMs: number },
): AsyncGenerator<DumpRecord[]> {
  const dir = join(dbDir, instance);
  const rdb = await ReadOnlyDb.open(dir, opts);
  try {
    const meta = rdb.cursor('default');
    const after = opts.after?.instance === instance ? opts.after.key : undefined;
    const start = rangeStart(after, opts.range?.from);
    if (start) await meta.seek(start);
    else await meta.seekToFirst();
    const until = opts.range?.until;
    const data = instance === 'strings' ? undefined : new ScanCursor(rdb.cursor(BLACKWIDOW_DATA_CF[instance]));
    const batch = new RecordBatch();
    while (meta.valid && !(until && compareBytes(meta.keyBuf, until, meta.keyLen) >= 0)) {
      if (!(after && compareBytes(meta.keyBuf, after, meta.keyLen) === 0)) {
        const pos: KeyPosition = { db, instance, key: copyBytes(meta.keyBuf, 0, meta.keyLen) };
        if (instance === 'strings') {
          let s;
          try {
            s = decodeStringValue(meta.value);
          } catch (err) {
            throw new DumpFormatError(dir, `bad string value: ${(err as Error).message}`, meta.key, err);
          }
          if (s.expireAtMs === null || s.expireAtMs > opts.nowMs) {
            const record: DumpRecord = { kind: 'string', pos, value: s.value, expireAtMs: s.expireAtMs, hyperloglog: false };
            if (batch.push(record, pos.key.length + s.value.length)) yield batch.take();
          }
        } else {
          let m: BlackwidowMeta;
          try {
            m = instance === 'lists' ? decodeListsMeta(meta.value) : decodeBaseMeta(meta.value);
          } catch (err) {
            throw new DumpFormatError(dir, `bad meta value: ${(err as Error).message}`, meta.key, err);
          }
          if (m.count > 0 && (m.expireAtMs === null || m.expireAtMs > opts.nowMs)) {
            const type = TYPE_OF[instance];
            const prefix = dataKeyPrefix(pos.key, m.version);
            const start = { kind: 'key-start', pos, type, expireAtMs: m.expireAtMs, count: m.count } as const;
            const scan = new CollectionScan(start, data!, prefix, elementDecoder(type, prefix.length, m), batch, dir, opts);
            for (let s = scan.step(); s !== 'done'; s = scan.step()) {
              if (s === 'full') yield batch.take();
              else await s;
            }
          }
        }
      }
      const p = meta.next();
      if (p) await p;
    }
    if (!batch.isEmpty) yield batch.take();
  } finally {
    await rdb.close();
  }
}

/** Data key = key_len ‖ key ‖ version ‖ field/member/index; values are stored bare (zset: the score). */
function elementDecoder(type: CollectionType, prefixLength: number, m: BlackwidowMeta): ElementDecoder {
  switch (type) {
    case 'hash':
      return (r, out) => {
        const field = copyBytes(r.keyBuf, prefixLength, r.keyLen);
        const value = r.value;
        out.push({ field, value }, field.length + value.length);
      };
    case 'set':
      return (r, out) => {
        const member = copyBytes(r.keyBuf, prefixLength, r.keyLen);
        out.push(member, member.length);
      };
    case 'zset':
      return (r, out) => {
        const member = copyBytes(r.keyBuf, prefixLength, r.keyLen);
        out.push({ member, score: decodeZSetScore(r.value) }, member.length + 8);
      };
    case 'list':
      return (r, out) => {
        const index = decodeListIndex(r.keyBuf.subarray(prefixLength, r.keyLen));
        if (index <= m.leftIndex! || index >= m.rightIndex!) return;
        const value = r.value;
        out.push(value, value.length);
      };
    default:
      throw new Error(`type ${type} has no Blackwidow data column family`);
  }
}
